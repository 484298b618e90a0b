import { hash } from 'node:crypto';
import type { IsoMicros, Metadata } from '@flux-rag/memory-core';
import { dataColumns, MESSAGES_TABLE, SESSIONS_TABLE } from '@flux-rag/memory-core/sql';
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
  /** MD5 (hex) of the payload's JSON text, `null` without a payload (schema version 7). */
  payloadMd5: string | null;
  format: string | null;
  digest: string | null;
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

/** The `sessions` columns verification compares: every `data` column of core's table description. */
export const SESSION_DIGEST_COLUMNS = dataColumns(SESSIONS_TABLE);
/** The `messages` columns verification compares: every `data` column of core's table description. */
export const MESSAGE_DIGEST_COLUMNS = dataColumns(MESSAGES_TABLE);

/**
 * Which fact holds each compared column. Keyed by the description's data columns: a column added there
 * without a fact here fails to compile, so verification can never silently ignore it.
 */
export const SESSION_FACT: { readonly [C in (typeof SESSION_DIGEST_COLUMNS)[number]]: keyof SessionFacts } = {
  id: 'id',
  title: 'title',
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  metadata: 'metadata',
  owner_id: 'ownerId',
};
/** Which fact holds each compared `messages` column (`content` is compared through its MD5). */
export const MESSAGE_FACT: { readonly [C in (typeof MESSAGE_DIGEST_COLUMNS)[number]]: keyof MessageFacts } = {
  id: 'id',
  session_id: 'sessionId',
  role: 'role',
  content: 'contentMd5',
  created_at: 'createdAt',
  metadata: 'metadata',
  payload: 'payloadMd5',
  format: 'format',
  digest: 'digest',
};

/** One compared value as digest text, by the column's kind; a nullable column's `NULL` differs from any text. */
function digestText(kind: string, nullable: boolean, value: unknown): string {
  if (kind === 'json') return metadataKey(value as Metadata);
  if (!nullable) return String(value);
  return value === null || value === undefined ? '\u0000' : `=${String(value)}`;
}

/**
 * The facts of a message as digest fields, in description order. The stored `digest` column is left out: it is a
 * cache of the other columns (NULL where the Python writer or an import left it, computed on read), so two copies
 * of the same message may differ there and nowhere else.
 */
const MESSAGE_FIELDS = MESSAGE_DIGEST_COLUMNS.filter((column) => column !== 'digest').map((column) => ({
  fact: MESSAGE_FACT[column],
  kind: MESSAGES_TABLE[column].kind,
  nullable: MESSAGES_TABLE[column].nullable as boolean,
}));
const SESSION_FIELDS = SESSION_DIGEST_COLUMNS.map((column) => ({
  fact: SESSION_FACT[column],
  kind: SESSIONS_TABLE[column].kind,
  nullable: SESSIONS_TABLE[column].nullable as boolean,
}));

/** Canonical text of metadata; `{}`, most messages' metadata, without any work. */
function metadataKey(metadata: Metadata): string {
  for (const _ in metadata) return canonicalJson(metadata);
  return '{}';
}

/** MD5 (hex) of a text's UTF-8 bytes (or of the bytes given): what PostgreSQL's `md5(text)` returns. */
export function md5Hex(text: string | Buffer): string {
  return hash('md5', text, 'hex');
}

/** Digest of a session row. */
export function sessionDigest(s: SessionFacts): string {
  return hash('md5', SESSION_FIELDS.map((f) => digestText(f.kind, f.nullable, s[f.fact])).join(SEP), 'hex');
}

/**
 * MurmurHash3 (x86, 32-bit) over the UTF-16 code units of several fields separated by U+001F, twice with two
 * seeds in one pass: 64 bits, without building the joined string.
 */
class Lanes {
  a = 0;
  b = 0;
  length = 0;

  reset(): this {
    this.a = 0x9747b28c;
    this.b = 0x5bd1e995;
    this.length = 0;
    return this;
  }

  add(text: string): this {
    let { a, b } = this;
    for (let i = 0; i <= text.length; i++) {
      // The separator closes every field, so ("ab", "c") and ("a", "bc") differ.
      let k = Math.imul(i < text.length ? text.charCodeAt(i) : 0x1f, 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      a ^= k;
      a = (Math.imul((a << 13) | (a >>> 19), 5) + 0xe6546b64) | 0;
      b ^= k;
      b = (Math.imul((b << 13) | (b >>> 19), 5) + 0xe6546b64) | 0;
    }
    this.a = a;
    this.b = b;
    this.length += text.length + 1;
    return this;
  }
}

const lanes = new Lanes();

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

  /**
   * Records a message: every compared column of the description, in its order. The content is already reduced
   * to its MD5 (computed by PostgreSQL on the target side); what is left is short, and 64 bits tell rows apart:
   * no cryptographic call per row.
   */
  addMessage(m: MessageFacts): void {
    const h = lanes.reset();
    for (const f of MESSAGE_FIELDS) h.add(digestText(f.kind, f.nullable, m[f.fact]));
    const { sessionId, createdAt } = m;
    const entry = this.#entry(sessionId);
    entry.count++;
    entry.a = (entry.a + fmix(h.a ^ h.length)) >>> 0;
    entry.b = (entry.b + fmix(h.b ^ h.length)) >>> 0;
    if (entry.lastMessageAt === null || createdAt > entry.lastMessageAt) entry.lastMessageAt = createdAt;
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

/**
 * Compares strings by their UTF-8 bytes, as SQLite's BINARY and PostgreSQL's "C" collations do: that is code
 * point order, which UTF-16 code-unit order matches except for surrogates against U+E000 to U+FFFF.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY && (x >= 0xe000 || y >= 0xe000)) return surrogateX ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
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
    problems.push(
      'message checksum differs (ids, roles, contents, metadata, timestamps, payloads, formats or digests)',
    );
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
