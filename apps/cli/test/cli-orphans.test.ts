import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, okJson, runCli, tempDir } from './run-cli.js';
import { postgresTarget } from './targets.js';

/**
 * Orphan messages (their session row is gone), which legacy files written by the Python app can hold: the real
 * legacy file (40 sessions, 947 messages) with one session row deleted and its messages left, as the Python
 * app did with foreign keys off (see memory-sqlite's legacy-bad-rows tests).
 */
const LEGACY = new URL('../../../packages/memory-sqlite/test/fixtures/flux-rag-memory.db', import.meta.url);

let dir: string;
let remove: () => Promise<void>;
let orphaned: string;
/** The session whose row was deleted, and how many messages it left behind. */
let gone: { id: string; messages: number };

beforeAll(async () => {
  ({ dir, remove } = await tempDir());
  orphaned = join(dir, 'orphaned.db');
  copyFileSync(LEGACY, orphaned);
  const db = new BetterSqlite3(orphaned);
  // better-sqlite3 turns foreign keys on; the Python app never did, which is how its files got orphans.
  db.pragma('foreign_keys = OFF');
  gone = db
    .prepare(
      'SELECT session_id AS id, COUNT(*) AS messages FROM messages GROUP BY session_id ORDER BY session_id LIMIT 1',
    )
    .get() as { id: string; messages: number };
  db.prepare('DELETE FROM sessions WHERE id = ?').run(gone.id);
  db.close();
  expect(gone.messages).toBeGreaterThan(1);
}, 120_000);
afterAll(() => remove());

describe('orphan messages in the CLI', () => {
  it('check prints an "orphan messages" line, and --json has orphanMessages', async () => {
    const text = await ok(['check', '--url', orphaned], { cwd: dir });
    expect(text).toMatch(new RegExp(`^messages +947\\norphan messages +${gone.messages}\\n`, 'm'));
    expect(await okJson(['check', '--url', orphaned, '--json'], { cwd: dir })).toMatchObject({
      sessions: 39,
      messages: 947,
      orphanMessages: gone.messages,
      healthy: true,
    });
  });

  it('check on a store without orphans says 0', async () => {
    const clean = join(dir, 'clean.db');
    copyFileSync(LEGACY, clean);
    expect(await ok(['check', '--url', clean], { cwd: dir })).toMatch(/^orphan messages +0$/m);
  });

  it('export --out leaves them out with a warning on stderr: how many, why, and how to recover them', async () => {
    const file = join(dir, 'out.jsonl');
    const result = await runCli(['export', '--url', orphaned, '--out', file], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^Exported 39 sessions, ${947 - gone.messages} messages from sqlite .*orphaned\\.db to`),
    );
    const warning = result.stderr.trimEnd().split('\n');
    expect(warning).toHaveLength(1);
    expect(warning[0]).toBe(
      `warning: ${gone.messages} orphan messages (their session row is gone) not exported: an export holds ` +
        'messages under their session only, and --on-invalid repair does not see them. To recover them, copy ' +
        `the file with flux-memory migrate --from ${orphaned} --to postgresql://USER@HOST/DB --on-invalid ` +
        'repair, which writes them under a "Recovered session" (metadata {"_recovered":true}).',
    );
    const exported = readFileSync(file, 'utf8');
    expect(exported).not.toContain(`"sessionId":"${gone.id}"`);
  });

  it('export to stdout warns on stderr too; --on-invalid repair does not recover them', async () => {
    const result = await runCli(['export', '--url', orphaned, '--on-invalid', 'repair'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(`"sessionId":"${gone.id}"`);
    expect(result.stderr).toMatch(new RegExp(`^warning: ${gone.messages} orphan messages `, 'm'));
  });

  it('export --json puts the count in the summary and prints no warning line', async () => {
    const file = join(dir, 'json.jsonl');
    expect(await okJson(['export', '--url', orphaned, '--out', file, '--json'], { cwd: dir })).toEqual({
      sessions: 39,
      messages: 947 - gone.messages,
      repaired: 0,
      skipped: 0,
      orphanMessages: gone.messages,
    });
  });

  it('an export of named sessions, which orphans belong to none of, says nothing of them', async () => {
    const sessions = await okJson<{ id: string }[]>(
      ['sessions', '--url', orphaned, '--json', '--limit', '1'],
      {
        cwd: dir,
      },
    );
    const file = join(dir, 'one.jsonl');
    await ok(['export', '--url', orphaned, '--session', sessions[0]!.id, '--out', file], { cwd: dir });
  });

  it('the recovery the warning names works: migrate --on-invalid repair writes them under a Recovered session', async () => {
    const target = await postgresTarget.open(dir);
    try {
      const url = target.args[1]!;
      const schema = target.args[3]!;
      const migrated = await runCli(
        ['migrate', '--from', orphaned, '--to', url, '--schema', schema, '--on-invalid', 'repair', '--json'],
        { cwd: dir },
      );
      expect(migrated.code, migrated.stderr).toBe(0);
      const history = await okJson<{ id: string }[]>(['history', gone.id, ...target.args, '--json'], {
        cwd: dir,
      });
      expect(history).toHaveLength(gone.messages);
      const sessions = await okJson<{ id: string; title: string; metadata: object }[]>(
        ['sessions', ...target.args, '--json', '--limit', '1000'],
        { cwd: dir },
      );
      expect(sessions.find((s) => s.id === gone.id)).toMatchObject({
        title: 'Recovered session',
        metadata: { _recovered: true },
      });
    } finally {
      await target.close();
    }
  });
});
