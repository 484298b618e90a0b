import { describe, expect, test } from 'vitest';
import { type ComparedMessage, planSave } from '../src/save-plan.js';

/** `u1:x` is a user message u1 whose content digests to x; `a` for assistant. */
const m = (spec: string): ComparedMessage => {
  const [id, digest = 'd'] = spec.split(':') as [string, string?];
  return { id, role: id.startsWith('u') ? 'user' : 'assistant', digest: `${id}-${digest}` };
};
const list = (specs: string) => (specs === '' ? [] : specs.split(' ').map(m));

describe('planSave', () => {
  test('appends after the stored history, guarded by its last id; nothing when equal', () => {
    expect(planSave(list(''), list('u1'))).toEqual({ kind: 'upsert', indices: [0], ifLastId: null });
    expect(planSave(list('u1 a1'), list('u1 a1 u2'))).toEqual({
      kind: 'upsert',
      indices: [2],
      ifLastId: 'a1',
    });
    expect(planSave(list('u1 a1'), list('u1 a1'))).toEqual({ kind: 'none' });
  });

  test('a changed message under its id is upserted with the new ones (a continued reply)', () => {
    expect(planSave(list('u1 a1'), list('u1 a1:more'))).toEqual({
      kind: 'upsert',
      indices: [1],
      ifLastId: 'a1',
    });
  });

  test('cut short (the request of a regenerate or an edit): the stored tail from the first difference is replaced', () => {
    expect(planSave(list('u1 a1 u2 a2'), list('u1 a1 u2'))).toEqual({
      kind: 'rewrite',
      from: 3,
      after: 'u2',
      expectedIds: ['a2'],
    });
    expect(planSave(list('u1 a1 u2 a2'), list('u1:edited'))).toEqual({
      kind: 'rewrite',
      from: 0,
      after: null,
      expectedIds: ['u1', 'a1', 'u2', 'a2'],
    });
  });

  test('one new reply after a user message in place of the stored tail (regenerate or edit saved at the end)', () => {
    expect(planSave(list('u1 a1 u2 a2'), list('u1 a1 u2 a3'))).toMatchObject({
      kind: 'rewrite',
      after: 'u2',
      expectedIds: ['a2'],
    });
    expect(planSave(list('u1 a1 u2 a2'), list('u1:e a5'))).toMatchObject({
      kind: 'rewrite',
      from: 0,
      after: null,
    });
  });

  test("anything else is another writer's change: a conflict", () => {
    expect(planSave(list('u1 a1 u2'), list('u1 a1 u3')).kind).toBe('conflict');
    expect(planSave(list('u1 a1 u2 a2'), list('u1 a1 u3 a3')).kind).toBe('conflict');
    expect(planSave(list('u1 a1 u2 a2'), list('u1 a1 u2 a2x a3')).kind).toBe('conflict');
    // a reply that is not after a user message, or reuses a stored id
    expect(planSave(list('u1 a1 a2'), list('u1 a1 a3')).kind).toBe('conflict');
    expect(planSave(list('u1 a1 u2 a2'), list('u1 a1 u2 a1')).kind).toBe('conflict');
    // an empty history never clears a stored one
    expect(planSave(list('u1 a1'), list('')).kind).toBe('conflict');
  });

  test("the request's trigger narrows what a cut-short history may be", () => {
    const stored = list('u1 a1 u2 a2');
    expect(planSave(stored, list('u1 a1 u2'), { trigger: 'submit-message' }).kind).toBe('conflict');
    expect(planSave(stored, list('u1 a1 u2'), { trigger: 'regenerate-message', messageId: 'a2' }).kind).toBe(
      'rewrite',
    );
    expect(planSave(stored, list('u1 a1 u2'), { trigger: 'regenerate-message', messageId: 'a1' }).kind).toBe(
      'conflict',
    );
    expect(planSave(stored, list('u1:e'), { trigger: 'submit-message', messageId: 'u1' }).kind).toBe(
      'rewrite',
    );
  });

  test('a re-keyed message (stored under a generated id) is rewritten under the incoming id', () => {
    expect(planSave(list('u1 gen'), list('u1 a1 u2'), {}, new Set([1]))).toEqual({
      kind: 'rewrite',
      from: 1,
      after: 'u1',
      expectedIds: ['gen'],
    });
  });
});
