import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fails, ok, okJson, tempDir } from './run-cli.js';

/**
 * The real legacy file written by the Python app (40 sessions, 947 messages): shared/legacy/flux-rag-memory.db,
 * of which memory-sqlite's fixture is a byte-identical copy kept in the repository.
 */
const LEGACY = new URL('../../../packages/memory-sqlite/test/fixtures/flux-rag-memory.db', import.meta.url);

let dir: string;
let remove: () => Promise<void>;
let clean: string;
let dirty: string;
/** The message of the dirty file whose content holds U+0000, and its session. */
let bad: { id: string; sessionId: string; content: string };

beforeAll(async () => {
  ({ dir, remove } = await tempDir());
  clean = join(dir, 'clean.db');
  dirty = join(dir, 'dirty.db');
  copyFileSync(LEGACY, clean);
  copyFileSync(LEGACY, dirty);
  // As real legacy files hold (see memory-sqlite's legacy-bad-rows tests): text with U+0000, written through the
  // driver with no contract in the way.
  const db = new BetterSqlite3(dirty);
  const row = db
    .prepare('SELECT id, session_id AS sessionId, content FROM messages ORDER BY rowid LIMIT 1 OFFSET 800')
    .get() as { id: string; sessionId: string; content: string };
  db.prepare("UPDATE messages SET content = 'before' || char(0) || 'after' WHERE id = ?").run(row.id);
  db.close();
  bad = { ...row, content: 'before\u0000after' };
}, 120_000);
afterAll(() => remove());

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('export/import --on-invalid (issue 12 item 6)', () => {
  it('the real legacy file exports and imports whole, 40 sessions and 947 messages', async () => {
    const file = join(dir, 'clean.jsonl');
    expect(await ok(['export', '--url', clean, '--out', file], { cwd: dir })).toMatch(
      /^Exported 40 sessions, 947 messages from sqlite .*clean\.db to .*clean\.jsonl\.$/m,
    );
    const result = await okJson(['import', file, '--url', join(dir, 'copy.db'), '--json'], { cwd: dir });
    expect(result).toEqual({ sessions: { written: 40, skipped: 0 }, messages: { written: 947, skipped: 0 } });
  });

  it('export - by default a row the contract refuses fails before writing, and is named', async () => {
    const file = join(dir, 'refused.jsonl');
    const { line } = await fails(['export', '--url', dirty, '--out', file], { cwd: dir });
    expect(line).toMatch(/^error: INVALID_RECORDS: 1 record the contract refuses, nothing exported: /);
    expect(line).toContain(`message "${bad.id}" of session "${bad.sessionId}"`);
    expect(line).toMatch(/--on-invalid repair/);
    expect(readdirSync(dir).filter((name) => name.startsWith('refused'))).toEqual([]);
    // To stdout too: checked whole first, so not one line is written.
    const piped = await fails(['export', '--url', dirty], { cwd: dir });
    expect(piped.stdout).toBe('');
  });

  it('export --on-invalid repair - removes U+0000 as migrate repairs, and the file imports', async () => {
    const file = join(dir, 'repaired.jsonl');
    expect(
      await ok(['export', '--url', dirty, '--out', file, '--on-invalid', 'repair'], { cwd: dir }),
    ).toMatch(/947 messages .*; 1 record repaired\.$/m);
    const record = lines(file).find((r) => r.id === bad.id);
    expect(record?.content).toBe('beforeafter');
    const result = await okJson(['import', file, '--url', join(dir, 'repaired.db'), '--json'], { cwd: dir });
    expect(result).toMatchObject({ messages: { written: 947 } });
  });

  it('export --on-invalid skip - leaves the record out and lists it in the rejects file', async () => {
    const file = join(dir, 'skipped.jsonl');
    const text = await ok(['export', '--url', dirty, '--out', file, '--on-invalid', 'skip'], { cwd: dir });
    expect(text).toMatch(/946 messages .*; 1 record skipped, listed in .*skipped\.jsonl\.rejects\.jsonl\.$/m);
    expect(lines(file).some((r) => r.id === bad.id)).toBe(false);
    const [rejected, ...more] = lines(`${file}.rejects.jsonl`);
    expect(more).toEqual([]);
    expect(rejected).toMatchObject({ type: 'message', id: bad.id, sessionId: bad.sessionId });
    expect((rejected!.record as { content: string }).content).toBe(bad.content);
  });

  describe('import - checks the whole file before writing', () => {
    let file: string;
    let badLine: number;
    beforeAll(async () => {
      const exported = join(dir, 'for-import.jsonl');
      await ok(['export', '--url', clean, '--out', exported], { cwd: dir });
      const text = readFileSync(exported, 'utf8').split('\n');
      // Late in the file, as in the issue (line 814), after many sessions and messages.
      badLine = 814;
      const record = JSON.parse(text[badLine - 1]!) as Record<string, unknown>;
      expect(record.type).toBe('message');
      record.content = 'x\u0000y';
      text[badLine - 1] = JSON.stringify(record);
      file = join(dir, 'bad-814.jsonl');
      writeFileSync(file, text.join('\n'));
    });

    it('a bad record late in the file: exit 1 naming its line, nothing written, no database created', async () => {
      const target = join(dir, 'nothing.db');
      const { line } = await fails(['import', file, '--url', target], { cwd: dir });
      expect(line).toMatch(
        new RegExp(`^error: VALIDATION_FAILED: line ${badLine}: Invalid records\\[\\d+\\]\\.content`),
      );
      expect(existsSync(target)).toBe(false);
    });

    it('--on-invalid skip writes the rest and lists the record with its line; repair writes it cleaned', async () => {
      const skipped = join(dir, 'skipped-import.db');
      const text = await ok(['import', file, '--url', skipped, '--on-invalid', 'skip'], { cwd: dir });
      expect(text).toMatch(
        /messages 946 written, 0 skipped; 1 record skipped, listed in .*bad-814\.jsonl\.rejects\.jsonl\.$/m,
      );
      const [rejected] = lines(`${file}.rejects.jsonl`);
      expect(rejected).toMatchObject({ line: badLine, type: 'message' });
      const repaired = join(dir, 'repaired-import.db');
      const result = await okJson(['import', file, '--url', repaired, '--on-invalid', 'repair', '--json'], {
        cwd: dir,
      });
      expect(result).toEqual({
        sessions: { written: 40, skipped: 0 },
        messages: { written: 947, skipped: 0 },
      });
      const id = (rejected!.record as { id: string }).id;
      const sessionId = (rejected!.record as { sessionId: string }).sessionId;
      const history = await okJson<{ id: string; content: string }[]>(
        ['history', sessionId, '--json', '--url', repaired],
        { cwd: dir },
      );
      expect(history.find((m) => m.id === id)?.content).toBe('xy');
    });

    it('a message whose session is nowhere: fail names it; repair recovers the session as migrate does', async () => {
      const orphan = join(dir, 'orphan.jsonl');
      writeFileSync(
        orphan,
        '{"type":"header","format":"flux-rag-memory","version":1}\n' +
          '{"type":"message","id":"m1","sessionId":"gone","role":"user","content":"hi","createdAt":"2025-01-01T00:00:00Z"}\n',
      );
      const target = join(dir, 'orphan.db');
      expect((await fails(['import', orphan, '--url', target], { cwd: dir })).line).toBe(
        'error: SESSION_NOT_FOUND: Session not found: "gone"',
      );
      expect(existsSync(target), 'a refused import creates no database').toBe(false);
      await ok(['import', orphan, '--url', target, '--on-invalid', 'repair'], { cwd: dir });
      const sessions = await okJson<{ id: string; title: string; metadata: object }[]>(
        ['sessions', '--json', '--url', target],
        { cwd: dir },
      );
      expect(sessions).toEqual([
        expect.objectContaining({ id: 'gone', title: 'Recovered session', metadata: { _recovered: true } }),
      ]);
    });
  });
});
