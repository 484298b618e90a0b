import type { Metadata } from '@flux-rag/memory-core';
import { describe, expect, it } from 'vitest';
import { compareBytes, compareSession, DigestSet } from './row-digest.js';

const message = (id: string, extra: Partial<{ role: string; metadata: Metadata }> = {}) => ({
  id,
  sessionId: 's',
  role: extra.role ?? 'user',
  createdAt: '2025-03-01T14:32:01.117364Z',
  contentMd5: 'd41d8cd98f00b204e9800998ecf8427e',
  metadata: extra.metadata ?? { a: 1, b: [1, 2] },
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
      'message checksum differs (ids, roles, contents, metadata or timestamps)',
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
