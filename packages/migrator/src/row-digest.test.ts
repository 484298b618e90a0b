import type { Metadata } from '@flux-rag/memory-core';
import { MESSAGES_TABLE, SESSIONS_TABLE } from '@flux-rag/memory-core/sql';
import { describe, expect, it } from 'vitest';
import {
  compareBytes,
  compareSession,
  DigestSet,
  MESSAGE_DIGEST_COLUMNS,
  MESSAGE_FACT,
  SESSION_DIGEST_COLUMNS,
  SESSION_FACT,
  sessionDigest,
} from './row-digest.js';

const message = (id: string, extra: Partial<{ role: string; metadata: Metadata }> = {}) => ({
  id,
  sessionId: 's',
  role: extra.role ?? 'user',
  createdAt: '2025-03-01T14:32:01.117364Z',
  contentMd5: 'd41d8cd98f00b204e9800998ecf8427e',
  metadata: extra.metadata ?? { a: 1, b: [1, 2] },
  payloadMd5: null as string | null,
  format: null as string | null,
  digest: null as string | null,
});

describe('DigestSet', () => {
  it('addMessage - the checksum ignores row order and key order, and sees every field', () => {
    const one = new DigestSet();
    const two = new DigestSet();
    one.addMessage(message('m1'));
    one.addMessage(message('m2'));
    two.addMessage(message('m2'));
    two.addMessage({ ...message('m1'), metadata: { b: [1, 2], a: 1 } });
    expect(compareSession(one.get('s')!, two.get('s'))).toEqual([]);
    const three = new DigestSet();
    three.addMessage(message('m1'));
    three.addMessage(message('m2', { role: 'assistant' }));
    expect(compareSession(one.get('s')!, three.get('s'))).toEqual([
      'message checksum differs (ids, roles, contents, metadata, timestamps, payloads, formats or digests)',
    ]);
  });

  it('compareSession - names a missing session, a count difference and stale stored counters', () => {
    const expected = new DigestSet();
    expected.addMessage(message('m1'));
    expect(compareSession(expected.get('s')!, undefined)).toEqual(['missing from the target']);
    const actual = new DigestSet();
    actual.addMessage(message('m1'));
    actual.addMessage(message('m2'));
    expect(compareSession(expected.get('s')!, actual.get('s'))[0]).toBe('message count: source 1, target 2');
  });
});

describe('compareBytes', () => {
  it('compareBytes - orders as UTF-8 bytes (code points), not UTF-16 units', () => {
    const sorted = ['b', 'a', '\uffff', '\u{1f600}', 'ab', ''].sort(compareBytes);
    const bytes = [...sorted].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(sorted).toEqual(bytes);
    expect(compareBytes('\u{1f600}', '\uffff')).toBeGreaterThan(0);
  });
});

describe('the digest covers every column of the table description', () => {
  const session = {
    id: 's',
    title: 'T',
    createdAt: '2025-03-01T14:32:01.117364Z',
    updatedAt: '2025-03-01T14:32:02.000000Z',
    metadata: { a: 1 },
    ownerId: 'u-1' as string | null,
  };
  const changed = (value: unknown) =>
    typeof value === 'string' ? `${value}x` : value === null ? 'now set' : { other: true };

  it.each(SESSION_DIGEST_COLUMNS)('sessions.%s: changing it changes the session digest', (column) => {
    const fact = SESSION_FACT[column];
    expect(sessionDigest({ ...session, [fact]: changed(session[fact]) })).not.toBe(sessionDigest(session));
  });

  it('a nullable text column tells NULL from any text, even empty', () => {
    expect(sessionDigest({ ...session, ownerId: null })).not.toBe(sessionDigest({ ...session, ownerId: '' }));
    expect(sessionDigest({ ...session, title: null })).not.toBe(sessionDigest({ ...session, title: '' }));
  });

  it('messages.digest: a cache of the other columns, so changing it alone leaves the checksum', () => {
    const base = message('m1');
    const one = new DigestSet();
    const two = new DigestSet();
    one.addMessage(base);
    two.addMessage({ ...base, digest: base.digest === null ? 'a-digest' : null });
    expect(two.get(base.sessionId)).toEqual(one.get(base.sessionId));
  });

  it.each(
    MESSAGE_DIGEST_COLUMNS.filter((c) => c !== 'digest'),
  )('messages.%s: changing it changes the message checksum', (column) => {
    const base = message('m1');
    const fact = MESSAGE_FACT[column];
    const one = new DigestSet();
    const two = new DigestSet();
    one.addMessage(base);
    const other = { ...base, [fact]: changed(base[fact]) };
    two.addMessage(other);
    const a = one.get(base.sessionId)!;
    const b = two.get(other.sessionId)!;
    expect(fact === 'sessionId' ? b : [b.a, b.b]).not.toEqual(fact === 'sessionId' ? a : [a.a, a.b]);
  });

  it('every data column of core’s description is compared, and nothing else', () => {
    expect(SESSION_DIGEST_COLUMNS).toEqual(
      Object.keys(SESSIONS_TABLE).filter(
        (c) => SESSIONS_TABLE[c as keyof typeof SESSIONS_TABLE].origin === 'data',
      ),
    );
    expect(MESSAGE_DIGEST_COLUMNS).toEqual(
      Object.keys(MESSAGES_TABLE).filter(
        (c) => MESSAGES_TABLE[c as keyof typeof MESSAGES_TABLE].origin === 'data',
      ),
    );
  });
});
