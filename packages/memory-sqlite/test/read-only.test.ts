import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BackendUnavailableError,
  type PortableRecord,
  ReadOnlyError,
  UnsupportedCapabilityError,
  ValidationError,
} from '@flux-rag/memory-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { copyOfLegacyFixture, legacyFile, tempDir, tempFile } from './support.js';

/*
 * `readOnly: true` never writes: a legacy file (schema version 1, rollback journal) is read as it is, byte for
 * byte unchanged and with nothing new next to it, and reads the same as the upgraded file would.
 */

const dir = tempDir();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function state(path: string) {
  return {
    hash: createHash('sha256').update(readFileSync(path)).digest('hex'),
    files: readdirSync(dirname(path)).sort(),
  };
}

function store(path: string, readOnly: boolean) {
  const memory = new SqliteConversationMemory({ filename: path, readOnly });
  cleanups.push(() => memory.close());
  return memory;
}

async function all<T>(records: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const record of records) out.push(record);
  return out;
}

describe('readOnly on a legacy file (schema version 1)', () => {
  it('reads exactly what the upgraded file reads, and leaves every byte and the folder as they were', async () => {
    const path = copyOfLegacyFixture(tempDir('memory-sqlite-ro-'));
    const upgraded = copyOfLegacyFixture(dir);
    const before = state(path);
    const ro = store(path, true);
    const rw = store(upgraded, false);

    const listed = await ro.getSessions({ limit: 1000 });
    expect(listed).toEqual(await rw.getSessions({ limit: 1000 }));
    expect(listed).toHaveLength(40);
    for (const session of listed.slice(0, 10)) {
      expect(await ro.getHistory(session.id)).toEqual(await rw.getHistory(session.id));
      expect(await ro.getHistory(session.id, { limit: 3 })).toEqual(
        await rw.getHistory(session.id, { limit: 3 }),
      );
      expect(await ro.getHistoryPage(session.id, { limit: 5 })).toEqual(
        await rw.getHistoryPage(session.id, { limit: 5 }),
      );
      expect(await ro.getSession(session.id)).toEqual(await rw.getSession(session.id));
    }
    expect(await ro.getSessionsPage({ limit: 7 })).toEqual(await rw.getSessionsPage({ limit: 7 }));
    const where = { metadata: {} };
    expect((await ro.getSessions({ where, limit: 1000 })).length).toBe(40);
    expect(await all<PortableRecord>(ro.exportRecords())).toEqual(
      await all<PortableRecord>(rw.exportRecords()),
    );
    expect(await ro.check()).toMatchObject({
      reachable: true,
      schemaVersion: 1,
      sessions: 40,
      messages: 947,
    });

    // Search needs the index the upgrade builds: a typed refusal saying how to upgrade.
    const search = await ro.searchMessages('hello').catch((e: unknown) => e);
    expect(UnsupportedCapabilityError.isInstance(search)).toBe(true);
    expect((search as Error).message).toContain(`flux-memory upgrade --url ${path}`);
    // Every write is refused, nothing written.
    const id = listed[0]!.id;
    const writes: [string, () => Promise<unknown>][] = [
      ['createSession', () => ro.createSession({ title: 'x' })],
      ['addMessage', () => ro.addMessage(id, { role: 'user', content: 'x' })],
      ['updateSessionTitle', () => ro.updateSessionTitle(id, 'x')],
      ['deleteSession', () => ro.deleteSession(id)],
      ['clearAll', () => ro.clearAll()],
      ['importRecords', () => ro.importRecords([])],
    ];
    for (const [name, write] of writes) {
      const error = await write().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (name === 'importRecords') continue; // nothing to write: no batch reaches the store
      expect(ReadOnlyError.isInstance(error), name).toBe(true);
    }
    await ro.close();
    expect(state(path)).toEqual(before);
  });

  it('orphans - counted by check(), readable by their session id', async () => {
    const path = legacyFile(tempDir('memory-sqlite-ro-'), (db) => {
      db.prepare(
        "INSERT INTO messages VALUES ('o', 'gone', 'user', 'lost', '2025-01-01T00:00:00.000000', '{}')",
      ).run();
    });
    const before = state(path);
    const ro = store(path, true);
    expect(await ro.check()).toMatchObject({ sessions: 0, messages: 1, orphanMessages: 1 });
    expect((await ro.getHistory('gone')).map((m) => m.id)).toEqual(['o']);
    await ro.close();
    expect(state(path)).toEqual(before);
  });
});

describe('readOnly on a file of the latest version', () => {
  it('searches; the main file is unchanged (SQLite may keep -wal and -shm next to a WAL file)', async () => {
    const folder = tempDir('memory-sqlite-ro-');
    const path = tempFile(folder);
    const writer = new SqliteConversationMemory({ filename: path });
    const id = await writer.createSession({ title: 't' });
    await writer.addMessage(id, { role: 'user', content: 'aurora borealis' });
    await writer.close();
    const before = state(path);
    const ro = store(path, true);
    expect((await ro.searchMessages('aurora')).items).toHaveLength(1);
    expect((await ro.getSessions())[0]).toMatchObject({ id, messageCount: 1 });
    await ro.close();
    const after = state(path);
    expect(after.hash).toBe(before.hash);
    expect(after.files.filter((f) => !f.endsWith('-wal') && !f.endsWith('-shm'))).toEqual(before.files);
  });
});

describe('readOnly options', () => {
  it('a missing file - BackendUnavailableError; neither the file nor its folder is created', async () => {
    const path = join(dir, 'no-such-folder', 'memory.db');
    const error = await store(path, true)
      .getSessions()
      .catch((e: unknown) => e);
    expect(BackendUnavailableError.isInstance(error)).toBe(true);
    expect(existsSync(dirname(path))).toBe(false);
  });

  it('with :memory: or a bad value - ValidationError', () => {
    expect(() => new SqliteConversationMemory({ filename: ':memory:', readOnly: true })).toThrow(
      ValidationError,
    );
    expect(() => new SqliteConversationMemory({ readOnly: 'yes' as never })).toThrow(/readOnly/);
    expect(() => new SqliteConversationMemory({ upgrade: 'never' as never })).toThrow(/upgrade/);
  });
});
