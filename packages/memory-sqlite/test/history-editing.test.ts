import { ConflictError } from '@flux-rag/memory-core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { openPlain, tempDir, tempFile } from './support.js';

/*
 * Contract 1.1's editing on SQLite, beyond what the shared suite checks: the counters kept by triggers stay equal
 * to the rows after every edit, the rows written are those that changed, and the Python writer's rows (no digest)
 * take part like any other.
 */

const dir = tempDir();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function open() {
  const path = tempFile(dir);
  const store = new SqliteConversationMemory({ filename: path });
  cleanups.push(() => store.close());
  return { path, store };
}

/** The counters the store keeps and what the rows say, for every session: they must be equal. */
function counters(path: string) {
  const plain = openPlain(path);
  try {
    return {
      stored: plain
        .prepare('SELECT id, message_count AS n, last_message_at AS last FROM sessions ORDER BY id')
        .all(),
      truth: plain
        .prepare(
          `SELECT s.id, count(m.seq) AS n, max(m.created_at) AS last FROM sessions s
           LEFT JOIN messages m ON m.session_id = s.id GROUP BY s.id ORDER BY s.id`,
        )
        .all(),
    };
  } finally {
    plain.close();
  }
}

const msg = (id: string, content = id) => ({ id, role: 'user', content });

describe('history editing on SQLite', () => {
  it('upsertMessages - writes only the changed row, keeps its seq and createdAt; counters exact', async () => {
    const { path, store } = open();
    const s = await store.createSession();
    await store.upsertMessages(s, [msg('a'), msg('b'), msg('c')]);
    const before = await store.getHistory(s);
    const seqs = () =>
      openPlain(path).prepare('SELECT id, seq, created_at FROM messages ORDER BY seq').all() as object[];
    const seqsBefore = seqs();
    const result = await store.upsertMessages(s, [
      msg('a'),
      { ...msg('b'), content: 'B!', payload: { x: 1 } },
      msg('d'),
    ]);
    expect(result).toEqual({ ids: ['a', 'b', 'd'], appended: 1, replaced: 1, unchanged: 1 });
    const after = await store.getHistory(s);
    expect(after.map((m) => [m.id, m.content])).toEqual([
      ['a', 'a'],
      ['b', 'B!'],
      ['c', 'c'],
      ['d', 'd'],
    ]);
    expect(after[1]!.createdAt).toEqual(before[1]!.createdAt);
    expect(after[1]!.payload).toEqual({ x: 1 });
    expect(seqs().slice(0, 3)).toEqual(seqsBefore);
    expect((await store.searchMessages('B')).items.map((h) => h.message.id)).toContain('b');
    const c = counters(path);
    expect(c.stored).toEqual(c.truth);
    expect((await store.getSessions())[0]!.messageCount).toBe(4);
  });

  it('rewriteHistory, deleteMessages, popMessage - counters, last activity and search stay exact', async () => {
    const { path, store } = open();
    const s = await store.createSession();
    await store.upsertMessages(s, [
      msg('a', 'alpha'),
      msg('b', 'bravo'),
      msg('c', 'charlie'),
      msg('d', 'delta'),
    ]);
    const digests = await store.getHistoryDigests(s);
    await expect(
      store.rewriteHistory(s, { after: 'b', expectedIds: ['c'], messages: [] }),
    ).rejects.toMatchObject({ reason: 'expected-ids' });
    const rewritten = await store.rewriteHistory(s, {
      after: 'b',
      expectedIds: ['c', 'd'],
      expectedDigests: digests.slice(2).map((d) => d.digest),
      messages: [msg('c', 'cobalt')],
    });
    expect(rewritten).toEqual({ removed: ['c', 'd'], ids: ['c'] });
    expect((await store.searchMessages('charlie')).items).toEqual([]);
    expect((await store.searchMessages('cobalt')).items.map((h) => h.message.id)).toEqual(['c']);
    expect(counters(path).stored).toEqual(counters(path).truth);
    expect(await store.deleteMessages(s, ['a', 'nope'])).toBe(1);
    expect(counters(path).stored).toEqual(counters(path).truth);
    expect((await store.popMessage(s))?.id).toBe('c');
    expect(counters(path).stored).toEqual(counters(path).truth);
    expect((await store.getHistory(s)).map((m) => m.id)).toEqual(['b']);
    await expect(store.rewriteHistory(s, { after: 'zz', messages: [] })).rejects.toMatchObject({
      reason: 'after-missing',
    });
    // An id the kept history holds cannot be appended again.
    const error = await store
      .rewriteHistory(s, { after: 'b', messages: [msg('b')] })
      .catch((e: unknown) => e);
    expect(ConflictError.isInstance(error)).toBe(true);
    expect((await store.getHistory(s)).map((m) => m.id)).toEqual(['b']);
  });

  it('operationId - a replay returns the first result and writes nothing; another request is refused', async () => {
    const { store } = open();
    const s = await store.createSession();
    const first = await store.upsertMessages(s, [msg('a')], { operationId: 'op-1' });
    await store.upsertMessages(s, [msg('b')]);
    expect(await store.upsertMessages(s, [msg('a')], { operationId: 'op-1' })).toEqual(first);
    await expect(store.upsertMessages(s, [msg('z')], { operationId: 'op-1' })).rejects.toMatchObject({
      reason: 'operation-reused',
    });
    const rewrite = await store.rewriteHistory(s, { after: 'a', messages: [], operationId: 'op-2' });
    await store.upsertMessages(s, [msg('c')]);
    // Replayed although the suffix changed since: checked before the preconditions.
    expect(await store.rewriteHistory(s, { after: 'a', messages: [], operationId: 'op-2' })).toEqual(rewrite);
    expect((await store.getHistory(s)).map((m) => m.id)).toEqual(['a', 'c']);
  });

  it('operationId - the log keeps the latest 1,000 per session and goes with the session', async () => {
    const { path, store } = open();
    const s = await store.createSession();
    for (let i = 0; i < 1003; i++) await store.upsertMessages(s, [], { operationId: `op-${i}` });
    const plain = () => openPlain(path);
    const count = () => {
      const db = plain();
      try {
        return db.prepare('SELECT count(*) AS n, min(seq) AS lo FROM message_operations').get();
      } finally {
        db.close();
      }
    };
    expect(count()).toEqual({ n: 1000, lo: 4 });
    await store.deleteSession(s);
    expect(count()).toEqual({ n: 0, lo: null });
  }, 60_000);

  it('addMessage - a retry of the same message resolves to it and writes nothing; another is a conflict', async () => {
    const { path, store } = open();
    const s = await store.createSession();
    await store.addMessage(s, { id: 'm', role: 'user', content: 'x', payload: [1], format: 'f' });
    const before = counters(path);
    const session = await store.getSession(s);
    expect(
      await store.addMessage(s, { id: 'm', role: 'user', content: 'x', payload: [1], format: 'f' }),
    ).toBe('m');
    expect(counters(path)).toEqual(before);
    expect((await store.getSession(s))!.updatedAt).toEqual(session!.updatedAt);
    await expect(store.addMessage(s, { id: 'm', role: 'user', content: 'y' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('a row the Python app wrote (no digest) - its digest is computed, upsert finds it unchanged', async () => {
    const { path, store } = open();
    const s = await store.createSession();
    await store.close();
    const raw = new Database(path);
    raw
      .prepare(
        `INSERT INTO messages (id, session_id, role, content, created_at, metadata)
         VALUES ('py', ?, 'user', 'from python', '2030-01-01T00:00:00.000000', '{"k":1}')`,
      )
      .run(s);
    raw.close();
    const again = new SqliteConversationMemory({ filename: path });
    cleanups.push(() => again.close());
    const [digest] = await again.getHistoryDigests(s);
    expect(digest!.id).toBe('py');
    const result = await again.upsertMessages(s, [
      { id: 'py', role: 'user', content: 'from python', metadata: { k: 1 } },
    ]);
    expect(result).toMatchObject({ unchanged: 1, replaced: 0 });
  });

  it('updateSession - merge patch, ifMetadata, a metadata-only change keeps updatedAt', async () => {
    const { store } = open();
    const s = await store.createSession({ metadata: { stream: 'x1', keep: { a: 1 } } });
    const before = await store.getSession(s);
    const after = await store.updateSession(s, {
      metadataPatch: { stream: null, keep: { b: 2 } },
      ifMetadata: { stream: 'x1' },
    });
    expect(after.metadata).toEqual({ keep: { a: 1, b: 2 } });
    expect(after.updatedAt).toEqual(before!.updatedAt);
    await expect(
      store.updateSession(s, { metadata: {}, ifMetadata: { stream: 'x1' } }),
    ).rejects.toMatchObject({
      reason: 'if-metadata',
    });
    expect((await store.getSessions({ where: { metadata: { keep: { b: 2 } } } })).map((x) => x.id)).toEqual([
      s,
    ]);
    const titled = await store.updateSession(s, { title: 'new' });
    expect(titled.title).toBe('new');
    expect(titled.updatedAt.getTime()).toBeGreaterThanOrEqual(before!.updatedAt.getTime());
  });

  it('purgeSessions - deletes idle sessions in batches with their messages; unreadable ones are kept and counted', async () => {
    const { path, store } = open();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = await store.createSession();
      await store.addMessage(id, msg(`m${i}`));
      ids.push(id);
    }
    const active = await store.createSession();
    await store.close();
    const raw = new Database(path);
    const set = raw.prepare('UPDATE sessions SET updated_at = ? WHERE id = ?');
    for (const id of ids) set.run('2020-01-01T00:00:00.000000', id);
    set.run('2020-01-01 00:00:00', ids[0]);
    set.run(null, ids[1]);
    set.run('1999/12/31', ids[2]);
    raw.close();
    const again = new SqliteConversationMemory({ filename: path });
    cleanups.push(() => again.close());
    const result = await again.purgeSessions({
      inactiveBefore: new Date('2021-01-01T00:00:00Z'),
      batchSize: 2,
    });
    expect(result).toEqual({ sessions: 5, messages: 5, unreadable: 2 });
    expect((await again.getSessions()).map((x) => x.id).sort()).toEqual([ids[1], ids[2], active].sort());
    expect(counters(path).stored).toEqual(counters(path).truth);
  });

  it('purgeSessions - unreadable text sorting at or after the cutoff is counted too, once, and kept; readable text there is not counted', async () => {
    const { path, store } = open();
    const owner = 'team-a';
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await store.createSession(i < 10 ? {} : { ownerId: owner }));
    await store.close();
    const raw = new Database(path);
    const set = raw.prepare('UPDATE sessions SET updated_at = ? WHERE id = ?');
    // Idle and readable: purged.
    set.run('2020-01-01T00:00:00.000000', ids[0]);
    // Unreadable text after the cutoff '2021-01-01T00:00:00.000000' in text order, which no batch meets.
    set.run('yesterday', ids[1]);
    set.run('2099-02-30T00:00:00.000000', ids[2]); // the canonical shape, an impossible date
    set.run('2099-13-01T00:00:00.000000', ids[3]);
    set.run('2021-06-31T10:00:00.000000', ids[4]);
    set.run('2021-01-01T24:00:00.000000', ids[5]);
    set.run(Buffer.from('2030-01-01'), ids[6]); // a BLOB sorts after every text
    // Readable forms after the cutoff: active, neither purged nor counted.
    set.run('2099-01-01 00:00:00', ids[7]);
    set.run('2024-02-29T23:59:59.999999', ids[8]);
    // ids[9] keeps the time it was created at (now). Before the cutoff but unreadable: met by a batch.
    set.run('2020-02-30T00:00:00.000000', ids[10]);
    // The owner's other session: unreadable after the cutoff.
    set.run('tomorrow', ids[11]);
    raw.close();
    const again = new SqliteConversationMemory({ filename: path });
    cleanups.push(() => again.close());
    const inactiveBefore = new Date('2021-01-01T00:00:00Z');
    expect(await again.forOwner(owner).purgeSessions({ inactiveBefore, batchSize: 1 })).toEqual({
      sessions: 0,
      messages: 0,
      unreadable: 2,
    });
    expect(await again.purgeSessions({ inactiveBefore, batchSize: 1 })).toEqual({
      sessions: 1,
      messages: 0,
      unreadable: 8,
    });
    // Counted again by the next purge: nothing unreadable is ever deleted.
    expect(await again.purgeSessions({ inactiveBefore, batchSize: 100 })).toEqual({
      sessions: 0,
      messages: 0,
      unreadable: 8,
    });
    expect((await again.getSessions()).map((x) => x.id).sort()).toEqual(ids.slice(1).sort());
  });
});
