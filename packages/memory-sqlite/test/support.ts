import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { ORIGINAL_SCHEMA } from '../src/original-schema.js';

/** The database the original Python backend wrote, copied from shared/legacy. */
export const LEGACY_FIXTURE = fileURLToPath(new URL('./fixtures/flux-rag-memory.db', import.meta.url));

/** A temporary folder for this test file, removed after it. */
export function tempDir(prefix = 'memory-sqlite-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let counter = 0;

/** A fresh path in `dir`. */
export function tempFile(dir: string, name = 'memory'): string {
  counter += 1;
  return join(dir, `${name}-${process.pid}-${counter}.db`);
}

/** A copy of the legacy fixture in `dir`, to open and upgrade. */
export function copyOfLegacyFixture(dir: string): string {
  const path = tempFile(dir, 'legacy');
  copyFileSync(LEGACY_FIXTURE, path);
  return path;
}

/** A legacy file written as the Python code did (its DDL, foreign keys off), filled by `fill`. */
export function legacyFile(dir: string, fill: (db: Database.Database) => void): string {
  const path = tempFile(dir, 'synthetic');
  const db = new Database(path);
  // Python's sqlite3 leaves foreign keys off (better-sqlite3 turns them on).
  db.pragma('foreign_keys = OFF');
  for (const statement of ORIGINAL_SCHEMA) db.exec(statement);
  fill(db);
  db.close();
  return path;
}

/** Opens a file with plain better-sqlite3, read-only, for reading back what the store wrote. */
export function openPlain(path: string): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true });
}

/** A statement the store ran, with its parameters, as seen on its better-sqlite3 handle. */
export interface RanStatement {
  sql: string;
  parameters: unknown[];
}

/**
 * Records the reads run on `db` (a real handle, which still runs them), so that a test can ask SQLite for the
 * plan of the exact statement a store ran.
 */
export function recordReads(db: Database.Database): RanStatement[] {
  const ran: RanStatement[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    const all = statement.all.bind(statement);
    statement.all = ((...parameters: unknown[]) => {
      ran.push({ sql: source, parameters: parameters.flat() });
      return all(...parameters);
    }) as typeof statement.all;
    return statement;
  }) as typeof db.prepare;
  return ran;
}

/** SQLite's plan of a statement, one `detail` line per step. */
export function queryPlan(db: Database.Database, { sql, parameters }: RanStatement): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[]).map(
    (row) => row.detail,
  );
}

/** A small deterministic generator of numbers in [0, 1), so that generated data is the same every run. */
export { seededRandom as prng } from '@flux-rag/memory-core/testing';
