import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ok, runCli, tempDir } from './run-cli.js';
import { type OpenedTarget, postgresTarget, sqliteTarget } from './targets.js';

const FIXTURE = new URL('./fixtures/portable-v1.jsonl', import.meta.url);

/**
 * The record lines of an export, without its header (which names the source and the time). This CLI writes
 * format version 2; the hand-written fixture is version 1, whose records version 2 reads and writes unchanged.
 */
function records(exported: string, version = 2): string[] {
  const lines = exported.split('\n');
  expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'header', format: 'flux-rag-memory', version });
  return lines.slice(1);
}

/** What a person or a script sees of a store: every session and every history, as JSON. */
async function views(cwd: string, args: readonly string[]): Promise<string[]> {
  const sessions = await ok(['sessions', '--limit', '1000', '--json', ...args], { cwd });
  const ids = (JSON.parse(sessions) as { id: string }[]).map((s) => s.id).sort();
  const histories = await Promise.all(ids.map((id) => ok(['history', id, '--json', ...args], { cwd })));
  return [sessions, ...histories];
}

describe('export from one backend, import into the other', () => {
  let cwd: string;
  let remove: () => Promise<void>;
  const stores: OpenedTarget[] = [];

  beforeEach(async () => {
    ({ dir: cwd, remove } = await tempDir());
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await remove();
  });

  async function open(target: typeof sqliteTarget, label: string): Promise<readonly string[]> {
    const store = await target.open(cwd, label);
    stores.push(store);
    return store.args;
  }

  it('SQLite -> PostgreSQL -> SQLite keeps every id, timestamp (microseconds), owner and metadata', async () => {
    const fixture = readFileSync(FIXTURE, 'utf8');
    const sqliteA = await open(sqliteTarget, 'a');
    const postgres = await open(postgresTarget, 'pg');
    const sqliteB = await open(sqliteTarget, 'b');

    await ok(['import', FIXTURE.pathname, ...sqliteA], { cwd });
    const fromSqlite = await ok(['export', ...sqliteA], { cwd });
    // Byte-identical records: field order fixed, metadata keys sorted, timestamps at full precision.
    expect(records(fromSqlite)).toEqual(records(fixture, 1));

    const toPostgres = await runCli(['import', '-', '--json', ...postgres], { cwd, input: fromSqlite });
    expect(toPostgres.stderr).toBe('');
    expect(JSON.parse(toPostgres.stdout)).toEqual({
      sessions: { written: 3, skipped: 0 },
      messages: { written: 5, skipped: 0 },
    });
    const fromPostgres = await ok(['export', ...postgres], { cwd });
    expect(records(fromPostgres)).toEqual(records(fixture, 1));
    expect(await views(cwd, postgres)).toEqual(await views(cwd, sqliteA));

    await runCli(['import', '-', ...sqliteB], { cwd, input: fromPostgres });
    expect(records(await ok(['export', ...sqliteB], { cwd }))).toEqual(records(fixture, 1));
    expect(await views(cwd, sqliteB)).toEqual(await views(cwd, postgres));

    const again = await runCli(['import', '-', '--json', ...postgres], { cwd, input: fromSqlite });
    expect(JSON.parse(again.stdout)).toEqual({
      sessions: { written: 0, skipped: 3 },
      messages: { written: 0, skipped: 5 },
    });
  });

  it('demo on the default SQLite file, piped into PostgreSQL, reads back the same history', async () => {
    const postgres = await open(postgresTarget, 'pg');
    const out = await ok(['demo'], { cwd });
    const id = /Created session (\S+)/.exec(out)?.[1] ?? '';
    const exported = await ok(['export'], { cwd });
    const imported = await runCli(['import', '-', ...postgres], { cwd, input: exported });
    expect(imported.code).toBe(0);
    expect(await ok(['history', id, '--json', ...postgres], { cwd })).toBe(
      await ok(['history', id, '--json'], { cwd }),
    );
    expect(await ok(['history', id, ...postgres], { cwd })).toBe(await ok(['history', id], { cwd }));
    expect(join(cwd, 'data', 'memory.db')).toSatisfy((path: string) => readFileSync(path).length > 0);
  });
});
