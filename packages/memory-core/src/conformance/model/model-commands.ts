import fc from 'fast-check';
import type { JsonValue, Metadata } from '../../types.js';

/**
 * A session named by a command: one of a few fixed lowercase ids (so that creations collide and ties sort the
 * same way in every backend), a session created without an id (by position among those), or one that never
 * exists.
 */
export type SessionRef = { kind: 'pool'; id: string } | { kind: 'generated'; index: number };

/** The id a command gives a new message: a fresh one, one used before (a conflict), or none (generated). */
export type MessageIdChoice = { kind: 'fresh' } | { kind: 'reuse'; index: number } | { kind: 'generated' };

/** One step of a model-based run; `advance` moves the shared fake clock first (0 to 2 ms, so ties occur). */
export type ModelCommand =
  | {
      op: 'createSession';
      advance: number;
      id: string | undefined;
      title?: string | null;
      metadata?: unknown;
    }
  | {
      op: 'addMessage';
      advance: number;
      session: SessionRef;
      id: MessageIdChoice;
      role: string;
      content: string;
      metadata?: unknown;
    }
  | { op: 'addBurst'; advance: number; session: SessionRef; count: number }
  | { op: 'updateSessionTitle'; advance: number; session: SessionRef; title: string | null }
  | { op: 'deleteSession'; advance: number; session: SessionRef }
  | { op: 'getHistory'; session: SessionRef; limit: number | undefined }
  | { op: 'getSessions'; limit: number | undefined; offset: number | undefined }
  | { op: 'getSession'; session: SessionRef }
  | { op: 'clearAll'; advance: number }
  // Contract 1.1, run only when the backend has the capability (the reference has them all).
  | { op: 'upsertMessages'; advance: number; session: SessionRef; ids: MessageIdChoice[]; content: string }
  | {
      op: 'rewriteHistory';
      advance: number;
      session: SessionRef;
      after: { kind: 'reuse'; index: number } | null;
      count: number;
    }
  | { op: 'deleteMessages'; advance: number; session: SessionRef; picks: number[] }
  | { op: 'popMessage'; advance: number; session: SessionRef }
  | { op: 'getHistoryDigests'; session: SessionRef }
  | {
      op: 'updateSession';
      advance: number;
      session: SessionRef;
      patch: unknown;
      title: string | null | undefined;
    };

/** The fixed session ids; `missing` is never created. */
export const POOL_IDS = ['s0', 's1', 's2', 's3'] as const;

const advance = fc.integer({ min: 0, max: 2 });

const sessionRef: fc.Arbitrary<SessionRef> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...POOL_IDS).map((id) => ({ kind: 'pool', id }) as const) },
  { weight: 2, arbitrary: fc.nat(4).map((index) => ({ kind: 'generated', index }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pool', id: 'missing' } as const) },
);

/** Mostly valid text, sometimes what validation refuses, so that refusals are compared too. */
const text = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', "'); DROP TABLE messages; --", 'line\r\nbreak', 'nul\u0000', 'lone\uD800'),
  },
);

// -0 is left out: JSON turns it into 0, and whether a store keeps it is not what this test is about.
const jsonLeaf: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
  fc.boolean(),
  fc.constant(null),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);

const key = fc.constantFrom('a', 'b', 'topic', 'ü', '🎉', 'nested key');

const metadata: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(key, jsonLeaf, { maxKeys: 3 }) },
  {
    weight: 2,
    arbitrary: fc.dictionary(
      key,
      fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 3 }), fc.dictionary(key, jsonLeaf, { maxKeys: 2 })),
      {
        maxKeys: 3,
      },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ bad: Number.NaN }, [], { deep: { no: undefined } }) },
) as fc.Arbitrary<Metadata>;

const role = fc.constantFrom('user', 'assistant', 'system', 'tool', 'function', '', 'r'.repeat(65));

const messageId: fc.Arbitrary<MessageIdChoice> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'fresh' } as const) },
  { weight: 2, arbitrary: fc.constant({ kind: 'generated' } as const) },
  { weight: 1, arbitrary: fc.nat(20).map((index) => ({ kind: 'reuse', index }) as const) },
);

const command: fc.Arbitrary<ModelCommand> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        op: fc.constant('createSession' as const),
        advance,
        id: fc.option(fc.constantFrom(...POOL_IDS), { nil: undefined }),
        title: fc.option(text, { nil: null }),
        metadata,
      },
      { requiredKeys: ['op', 'advance', 'id'] },
    ),
  },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        op: fc.constant('addMessage' as const),
        advance,
        session: sessionRef,
        id: messageId,
        role,
        content: text,
        metadata,
      },
      { requiredKeys: ['op', 'advance', 'session', 'id', 'role', 'content'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('addBurst' as const),
      advance,
      session: sessionRef,
      count: fc.integer({ min: 2, max: 6 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('updateSessionTitle' as const),
      advance,
      session: sessionRef,
      title: fc.option(text, { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('deleteSession' as const), advance, session: sessionRef }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('getHistory' as const),
      session: sessionRef,
      limit: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('getSessions' as const),
      limit: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
      offset: fc.option(fc.integer({ min: -1, max: 6 }), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('getSession' as const), session: sessionRef }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clearAll' as const), advance }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('upsertMessages' as const),
      advance,
      session: sessionRef,
      // Fresh or reused ids only: a generated id would differ between the backend and the reference.
      ids: fc.array(
        fc.oneof(
          fc.constant({ kind: 'fresh' } as const),
          fc.nat(20).map((index) => ({ kind: 'reuse', index }) as const),
        ),
        { minLength: 0, maxLength: 3 },
      ),
      // Few distinct contents, so that upserts often find the stored message unchanged.
      content: fc.constantFrom('same', 'other', 'third'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('rewriteHistory' as const),
      advance,
      session: sessionRef,
      after: fc.option(
        fc.nat(20).map((index) => ({ kind: 'reuse', index }) as const),
        { nil: null },
      ),
      count: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('deleteMessages' as const),
      advance,
      session: sessionRef,
      picks: fc.array(fc.nat(20), { maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('popMessage' as const), advance, session: sessionRef }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('getHistoryDigests' as const), session: sessionRef }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('updateSession' as const),
      advance,
      session: sessionRef,
      patch: metadata,
      title: fc.option(fc.option(text, { nil: null }), { nil: undefined }),
    }),
  },
);

/** Creations of some of the fixed sessions, so that most sequences write to sessions that exist. */
const setup: fc.Arbitrary<ModelCommand[]> = fc
  .subarray([...POOL_IDS], { minLength: 1 })
  .map((ids) => ids.map((id) => ({ op: 'createSession', advance: 0, id }) as const));

/** Random command sequences: a few sessions created, then up to 50 random steps. */
export const modelCommands: fc.Arbitrary<ModelCommand[]> = fc
  .tuple(setup, fc.array(command, { minLength: 1, maxLength: 50, size: 'max' }))
  .map(([first, rest]) => [...first, ...rest]);
