import { describe, expect, it } from 'vitest';
import { judgeMessage, judgeSession, type RawMessage, type RuleContext } from './row-rules.js';
import { createTimestampReader } from './source-timezone.js';

const context = (onInvalid: RuleContext['onInvalid'], rejected: string[] = []): RuleContext => ({
  onInvalid,
  readTimestamp: createTimestampReader(),
  maxContentBytes: 100,
  rejectedSessions: new Set(rejected),
});
const message = (over: Partial<RawMessage> = {}): RawMessage => ({
  key: 7,
  id: 'm1',
  sessionId: 's1',
  role: 'user',
  content: 'hello',
  createdAt: '2025-03-01T14:32:01.117364',
  metadata: '{"b": 1, "a": 2}',
  sessionFound: true,
  ...over,
});

describe('judgeMessage', () => {
  it('judgeMessage - a clean row is written as stored: metadata text kept byte for byte, seq from the key', () => {
    const j = judgeMessage(message(), context('fail'));
    expect(j.action).toBe('ok');
    expect(j.row).toEqual({
      seq: 7,
      id: 'm1',
      sessionId: 's1',
      role: 'user',
      content: 'hello',
      createdAt: '2025-03-01T14:32:01.117364Z',
      metadataText: '{"b": 1, "a": 2}',
      metadata: { b: 1, a: 2 },
      payload: null,
      format: null,
      digest: null,
    });
    // Schema version 7's columns are copied as the source stored them.
    const structured = judgeMessage(
      message({ payload: '{"z":1,"a":[]}', format: 'f', digest: 'd' }),
      context('fail'),
    );
    expect(structured.row).toMatchObject({ payload: '{"z":1,"a":[]}', format: 'f', digest: 'd' });
  });

  it('judgeMessage - content stored as a number or blob reads as the SQLite backend shows it', () => {
    const repair = context('repair');
    expect(judgeMessage(message({ content: 1.5 }), repair)).toMatchObject({
      action: 'repaired',
      row: { content: '1.5' },
      problems: [{ reason: 'content_not_text' }],
    });
    expect(judgeMessage(message({ content: Buffer.from('b\u0000c') }), repair)).toMatchObject({
      action: 'repaired',
      row: { content: 'bc' },
      problems: [{ reason: 'content_not_text' }, { reason: 'text_nul' }],
    });
  });

  it('judgeMessage - under fail and skip a bad row is rejected; repair rejects what no rule fixes', () => {
    expect(judgeMessage(message({ metadata: 'x' }), context('fail')).action).toBe('rejected');
    expect(judgeMessage(message({ metadata: 'x' }), context('skip')).action).toBe('rejected');
    expect(judgeMessage(message({ id: 'x'.repeat(256) }), context('repair'))).toMatchObject({
      action: 'rejected',
      problems: [{ reason: 'id_invalid', repair: null }],
    });
    expect(judgeMessage(message(), context('repair', ['s1']))).toMatchObject({
      action: 'rejected',
      problems: [{ reason: 'session_rejected' }],
    });
  });

  it('judgeMessage - large content is kept under repair, flagged in every mode', () => {
    const j = judgeMessage(message({ content: 'é'.repeat(60) }), context('repair'));
    expect(j).toMatchObject({
      action: 'kept',
      problems: [{ reason: 'content_large', detail: expect.stringContaining('120 bytes') }],
    });
    expect(j.row?.content).toHaveLength(60);
  });

  it('judgeMessage - metadata rules give what core decodeMetadataText reads', () => {
    const repair = context('repair');
    const meta = (metadata: unknown) => judgeMessage(message({ metadata }), repair);
    expect(meta(null).row?.metadata).toEqual({});
    expect(meta('  ').row?.metadata).toEqual({});
    expect(meta('[1]').row).toMatchObject({ metadata: { _raw: '[1]' }, metadataText: '{"_raw":"[1]"}' });
    expect(meta('{"a": "\\ud800"}').problems[0]?.reason).toBe('metadata_unstorable');
    expect(meta('{"a": "\\ud83d\\ude00"}').action).toBe('ok');
  });
});

describe('judgeSession', () => {
  it('judgeSession - a NULL updated_at becomes created_at; an owner id is kept', () => {
    const j = judgeSession(
      {
        key: 1,
        id: 's1',
        title: null,
        createdAt: '2025-03-01T14:32:01',
        updatedAt: null,
        metadata: '{}',
        ownerId: 'u1',
      },
      context('repair'),
    );
    expect(j).toMatchObject({
      action: 'repaired',
      row: { updatedAt: '2025-03-01T14:32:01.000000Z', ownerId: 'u1', title: null },
      problems: [{ reason: 'timestamp_missing', field: 'updated_at' }],
    });
  });
});

describe('ids follow the contract', () => {
  it.each([
    ['empty', '', 'must not be empty'],
    ['longer than the contract allows', 'x'.repeat(256), 'must be at most 255 characters'],
    ['a lone surrogate', 'a\uD800b', 'cannot be stored'],
    ['U+0000', 'a\u0000b', 'cannot be stored'],
    ['not text', 42, 'expected a string'],
  ])('an id that is %s is refused with the contract’s words, under every rule', (_, id, words) => {
    for (const rule of ['fail', 'skip', 'repair'] as const) {
      const j = judgeMessage(message({ id: id as string }), context(rule));
      expect(j.action).toBe('rejected');
      expect(j.problems).toEqual([
        expect.objectContaining({
          reason: 'id_invalid',
          field: 'id',
          detail: expect.stringContaining(words),
        }),
      ]);
    }
  });

  it('a 255-character id, the contract’s limit, passes', () => {
    expect(judgeMessage(message({ id: 'x'.repeat(255) }), context('fail')).action).toBe('ok');
  });
});
