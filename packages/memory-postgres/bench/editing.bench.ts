/**
 * `pnpm bench`: contract 1.1's history editing on PostgreSQL against raw pg (named prepared statements, one
 * client per transaction from a pool of the same size) in one run, on MEMORY_TEST_POSTGRES_URL or a throwaway
 * embedded server, in a database made for the run and dropped after (issue 15's performance section):
 * - upsertMessages of a history with one changed message, against:
 *   - raw: the store's statements in one transaction: lock the session row (`FOR UPDATE`), read the session's
 *     ids and digests, update the changed row (its new digest by the contract's formula, no validation) and the
 *     session's `updated_at`. It is told which message changed: issue 15's target (store <= 1.5x) is against it;
 *   - raw + hashing: the same, finding the changed message as a raw caller holding the whole history must, by
 *     hashing every message and comparing with the stored digests; the store also validates every message;
 *   - getHistory of the same history (target at 2,000 messages: the upsert is no slower);
 *   - the digests of the history alone, without a database: when they take more than half of raw's call, no
 *     implementation that hashes every message it is given can be within 1.5x of raw told which row changed;
 * - rewriteHistory of a k-message suffix (k = 1, 10, 100) at histories of 100 and 10,000: time should follow k.
 * Environment: BENCH_ITERATIONS (default 100), BENCH_SIZES (default 100,2000), BENCH_REWRITE_SIZES (default
 * 100,10000).
 */
import { createHash, hash } from 'node:crypto';
import type { JsonInput } from '@flux-rag/memory-core';
import { createTestDatabase, startTestPostgres, withClient } from '@flux-rag/test-postgres';
import pg from 'pg';
import { PostgresConversationMemory } from '../src/index.js';
import { alternate } from './alternate.js';
import { rawTransaction } from './raw-transaction.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100);
const sizes = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map(Number);
const UPSERT_SIZES = sizes('BENCH_SIZES', '100,2000');
const REWRITE_SIZES = sizes('BENCH_REWRITE_SIZES', '100,10000');
const SCHEMA = 'editing';

interface Msg {
  id: string;
  role: string;
  content: string;
  payload: JsonInput;
  format: string;
}
const msg = (i: number, extra = ''): Msg => ({
  id: `m${i}`,
  role: i % 2 ? 'assistant' : 'user',
  content: `message ${i} ${extra}`,
  payload: { parts: [{ type: 'text', text: `message ${i} ${extra}` }] },
  format: 'ai-sdk/ui-message',
});
/**
 * The digest formula (core's messageDigest) without validation: what a raw caller would compute, with Node's
 * fastest SHA-256 for short texts (the one-shot `crypto.hash`, as the store uses), so that the raw side is the
 * floor of finding the changed row by hashing.
 */
const sha256Hex = (text: string) =>
  typeof hash === 'function' ? hash('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
const rawDigest = (m: Msg) => sha256Hex(JSON.stringify([m.role, m.content, {}, m.format, m.payload]));

const server = await startTestPostgres();
const database = await createTestDatabase(server.url, { prefix: 'bench_editing_' });
const store = new PostgresConversationMemory({ connectionString: database.url, schema: SCHEMA });
const raw = new pg.Pool({ connectionString: database.url, max: 10 });
raw.on('error', () => {});
const lines: string[] = [];
try {
  await store.init();
  for (const size of UPSERT_SIZES) {
    const storeSession = await store.createSession();
    const rawSession = await store.createSession();
    const history = Array.from({ length: size }, (_, i) => msg(i));
    await store.upsertMessages(storeSession, history);
    await store.upsertMessages(rawSession, history);
    await analyze();
    const changed = (i: number, tag: string) => {
      const next = [...history];
      next[size - 1] = msg(size - 1, `${tag}${i}`);
      return next;
    };
    const t = await alternate(ITERATIONS, {
      store: (i) => store.upsertMessages(storeSession, changed(i, 's')),
      raw: (i) => rawUpsert(rawSession, changed(i, 'r'), true),
      rawHashing: (i) => rawUpsert(rawSession, changed(i, 'h'), false),
      getHistory: () => store.getHistory(storeSession),
      // The digests alone, no database: what any whole-history upsert adds to raw's statements at the least.
      digests: async (i) => {
        for (const m of changed(i, 'd')) rawDigest(m);
      },
    });
    const ratio = t.store / t.raw;
    const vsHistory = t.store / t.getHistory;
    lines.push(
      `${`upsertMessages, 1 of ${size} changed`.padEnd(40)} ${t.store.toFixed(3)} ms  raw ${t.raw.toFixed(3)} ms (x${ratio.toFixed(2)}, target <= 1.5 ${ratio <= 1.5 ? 'ok' : 'MISSED'})` +
        `  raw+hashing ${t.rawHashing.toFixed(3)} ms (x${(t.store / t.rawHashing).toFixed(2)}; raw+hashing / getHistory x${(t.rawHashing / t.getHistory).toFixed(2)})` +
        `  getHistory ${t.getHistory.toFixed(3)} ms (x${vsHistory.toFixed(2)}${size >= 2000 ? `, target <= 1 ${vsHistory <= 1 ? 'ok' : 'MISSED'}` : ''})`,
      `${''.padEnd(40)} digests alone ${t.digests.toFixed(3)} ms = x${(t.digests / t.raw).toFixed(2)} raw (above 0.5, no upsert that hashes every message can be within 1.5x raw)`,
    );
  }
  const rewrites = new Map<string, number>();
  for (const size of REWRITE_SIZES) {
    const s = await store.createSession();
    for (let i = 0; i < size; i += 1000) {
      await store.upsertMessages(
        s,
        Array.from({ length: Math.min(1000, size - i) }, (_, j) => msg(i + j)),
      );
    }
    await analyze();
    for (const k of [1, 10, 100]) {
      const after = `m${size - 1}`;
      const suffix = Array.from({ length: k }, (_, j) => ({ id: `x${j}`, role: 'user', content: `x${j}` }));
      await store.upsertMessages(s, suffix);
      const t = await alternate(Math.max(10, ITERATIONS / 4), {
        rewrite: () => store.rewriteHistory(s, { after, messages: suffix }),
      });
      rewrites.set(`${k}/${size}`, t.rewrite);
      lines.push(`${`rewriteHistory k=${k}, history ${size}`.padEnd(40)} ${t.rewrite.toFixed(3)} ms`);
      await store.rewriteHistory(s, { after, messages: [] });
    }
  }
  const [small, large] = REWRITE_SIZES;
  for (const k of [1, 10, 100]) {
    const a = rewrites.get(`${k}/${small}`);
    const b = rewrites.get(`${k}/${large}`);
    if (a !== undefined && b !== undefined) {
      lines.push(
        `rewriteHistory k=${k}: history ${large} / ${small} = x${(b / a).toFixed(2)} (proportional to k, not to the history: ~1)`,
      );
    }
  }
  console.log(
    `PostgreSQL ${server.serverVersion} (${server.source}) history editing, ${ITERATIONS} alternating iterations, medians`,
  );
  for (const line of lines) console.log(line);
} finally {
  await store.close();
  await raw.end();
  await database.drop();
  await server.stop();
}

/**
 * Statistics for the rows just written, as a live database has them: without, the planner takes a session's
 * thousands of rows for a handful and reads `id IN (...)` through the session's whole key range.
 */
async function analyze() {
  await withClient(database.url, async (client) => {
    await client.query(`VACUUM ANALYZE "${SCHEMA}".sessions`);
    await client.query(`VACUUM ANALYZE "${SCHEMA}".messages`);
  });
}

/**
 * The store's upsert transaction written by hand on prepared statements. `told`: only the last message changed
 * (its digest is computed, the others are not looked at); otherwise every message is hashed and compared.
 */
async function rawUpsert(sessionId: string, messages: Msg[], told: boolean) {
  return rawTransaction(raw, async (client) => {
    await client.query({
      name: 'lock',
      text: `SELECT * FROM "${SCHEMA}".sessions WHERE id = $1 FOR UPDATE`,
      values: [sessionId],
    });
    const { rows } = await client.query<{ id: string; digest: string | null }>({
      name: 'digests',
      text: `SELECT id, digest FROM "${SCHEMA}".messages WHERE session_id = $1`,
      values: [sessionId],
    });
    const changed: [Msg, string][] = [];
    if (told) {
      const last = messages[messages.length - 1]!;
      changed.push([last, rawDigest(last)]);
    } else {
      const stored = new Map(rows.map((row) => [row.id, row.digest]));
      for (const m of messages) {
        const digest = rawDigest(m);
        if (stored.get(m.id) !== digest) changed.push([m, digest]);
      }
    }
    for (const [m, digest] of changed) {
      await client.query({
        name: 'replace',
        text: `UPDATE "${SCHEMA}".messages SET role = $3, content = $4, metadata = $5, payload = $6, format = $7,
               digest = $8 WHERE session_id = $1 AND id = $2`,
        values: [sessionId, m.id, m.role, m.content, '{}', JSON.stringify(m.payload), m.format, digest],
      });
    }
    await client.query({
      name: 'touch',
      text: `UPDATE "${SCHEMA}".sessions SET updated_at = $2 WHERE id = $1`,
      values: [sessionId, new Date()],
    });
  });
}
