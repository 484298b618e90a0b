import { hash } from 'node:crypto';
import type { IsoMicros, Metadata } from '@flux-rag/memory-core';
import { canonicalJson } from './canonical-json.js';

/**
 * Verification data of one session, from either side: its own row's digest and an order-independent
 * checksum of its messages (the sum, modulo 2^32 in two lanes, of a 64-bit digest per message). Summing makes
 * the checksum independent of the order rows are read in, and still counts a duplicated row twice.
 */
export interface SessionDigest {
  /** Digest of the session row (id, title, timestamps, canonical metadata), or `null` when there is no row. */
  session: string | null;
  /** Number of messages. */
  count: number;
  /** First lane of the message checksum. */
  a: number;
  /** Second lane of the message checksum. */
  b: number;
  /** Latest message `createdAt`, or `null` without messages. */
  lastMessageAt: IsoMicros | null;
  /** Target side only: the `message_count` and `last_message_at` its session row stores. */
  stored?: { count: number; lastMessageAt: IsoMicros | null };
}

/** The fields of a message that verification compares; `contentMd5` is the MD5 (hex) of its UTF-8 content. */
export interface MessageFacts {
  id: string;
  sessionId: string;
  role: string;
  createdAt: IsoMicros;
  contentMd5: string;
  metadata: Metadata;
}

/** The fields of a session that verification compares. */
export interface SessionFacts {
  id: string;
  title: string | null;
  createdAt: IsoMicros;
  updatedAt: IsoMicros;
  metadata: Metadata;
  ownerId: string | null;
}

const SEP = '\u001f';

/** MD5 (hex) of a text's UTF-8 bytes (or of the bytes given): what PostgreSQL's `md5(text)` returns. */
export function md5Hex(text: string | Buffer): string {
  return hash('md5', text, 'hex');
}

/** Digest of a session row. */
export function sessionDigest(s: SessionFacts): string {
  const title = s.title === null ? '\u0000' : `=${s.title}`;
  const owner = s.ownerId === null ? '\u0000' : `=${s.ownerId}`;
  return hash(
    'md5',
    [s.id, title, s.createdAt, s.updatedAt, canonicalJson(s.metadata), owner].join(SEP),
    'hex',
  );
}

/** MurmurHash3 (x86, 32-bit) over a string's UTF-16 code units, twice with two seeds in one pass: 64 bits. */
function lanes(text: string): [number, number] {
  let a = 0x9747b28c;
  let b = 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    a ^= k;
    a = (Math.imul((a << 13) | (a >>> 19), 5) + 0xe6546b64) | 0;
    b ^= k;
    b = (Math.imul((b << 13) | (b >>> 19), 5) + 0xe6546b64) | 0;
  }
  return [fmix(a ^ text.length), fmix(b ^ text.length)];
}

function fmix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Per-session verification data, accumulated row by row in any order. */
export class DigestSet {
  readonly #sessions = new Map<string, SessionDigest>();

  /** Number of sessions seen (with a row, or only through messages). */
  get size(): number {
    return this.#sessions.size;
  }

  #entry(id: string): SessionDigest {
    let entry = this.#sessions.get(id);
    if (!entry) {
      entry = { session: null, count: 0, a: 0, b: 0, lastMessageAt: null };
      this.#sessions.set(id, entry);
    }
    return entry;
  }

  /** Records a session row; `stored` are the target's counters. */
  addSession(s: SessionFacts, stored?: SessionDigest['stored']): void {
    const entry = this.#entry(s.id);
    entry.session = sessionDigest(s);
    if (stored) entry.stored = stored;
  }

  /** Records a message. */
  addMessage(m: MessageFacts): void {
    // The content is already reduced to its MD5 (computed by PostgreSQL on the target side); what is left
    // is short, and a 64-bit hash in two lanes is enough to tell rows apart: no cryptographic call per row.
    const text = `${m.id}${SEP}${m.sessionId}${SEP}${m.role}${SEP}${m.createdAt}${SEP}${m.contentMd5}${SEP}${canonicalJson(m.metadata)}`;
    const entry = this.#entry(m.sessionId);
    entry.count++;
    const [a, b] = lanes(text);
    entry.a = (entry.a + a) >>> 0;
    entry.b = (entry.b + b) >>> 0;
    if (entry.lastMessageAt === null || m.createdAt > entry.lastMessageAt) entry.lastMessageAt = m.createdAt;
  }

  /** The digest of one session, if seen. */
  get(id: string): SessionDigest | undefined {
    return this.#sessions.get(id);
  }

  /** Session ids in byte order (the order both databases sort ids in). */
  sortedIds(): string[] {
    return [...this.#sessions.keys()].sort(compareBytes);
  }

  /** Total messages recorded. */
  messageCount(): number {
    let n = 0;
    for (const entry of this.#sessions.values()) n += entry.count;
    return n;
  }
}

/** Compares strings by their UTF-8 bytes, as SQLite's BINARY and PostgreSQL's "C" collations do. */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** One session that differs between source and target, with every difference found. */
export interface SessionMismatch {
  sessionId: string;
  problems: string[];
}

/**
 * Compares the expected digest of one session with the target's; returns the differences (empty when
 * equal). `actual` is `undefined` when the target holds neither the session nor any of its messages.
 */
export function compareSession(expected: SessionDigest, actual: SessionDigest | undefined): string[] {
  if (!actual || (actual.session === null && actual.count === 0)) {
    return expected.session === null && expected.count === 0 ? [] : ['missing from the target'];
  }
  const problems: string[] = [];
  if (expected.session !== null && actual.session === null)
    problems.push('session row missing from the target');
  else if (expected.session !== actual.session)
    problems.push('session row differs (title, timestamps, metadata or owner)');
  if (expected.count !== actual.count) {
    problems.push(`message count: source ${expected.count}, target ${actual.count}`);
  } else if (expected.a !== actual.a || expected.b !== actual.b) {
    problems.push('message checksum differs (ids, roles, contents, metadata or timestamps)');
  }
  if (actual.stored) {
    if (actual.stored.count !== actual.count) {
      problems.push(
        `stored message_count ${actual.stored.count}, but the target holds ${actual.count} messages`,
      );
    }
    if (actual.stored.lastMessageAt !== actual.lastMessageAt) {
      problems.push(
        `stored last_message_at ${actual.stored.lastMessageAt ?? 'NULL'}, latest message ${actual.lastMessageAt ?? 'none'}`,
      );
    }
  }
  return problems;
}
