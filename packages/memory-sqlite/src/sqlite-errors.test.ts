import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendUnavailableError, MemoryError, ValidationError } from '@flux-rag/memory-core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir, tempFile } from '../test/support.js';
import { isBusyError, mapSqliteError } from './sqlite-errors.js';

const dir = tempDir();
const context = { location: '/data/memory.db', busyTimeoutMs: 1234 };

/** Runs `work` and returns what it threw: every error below is a real one from better-sqlite3 or Node. */
function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('mapSqliteError', () => {
  it('SQLITE_BUSY - is BackendUnavailableError naming the file and the timeout, driver error as cause', () => {
    const path = tempFile(dir);
    const holder = new Database(path);
    const other = new Database(path, { timeout: 0 });
    holder.exec('CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
    const busy = thrown(() => other.exec('BEGIN IMMEDIATE'));
    holder.exec('COMMIT');
    holder.close();
    other.close();
    expect(isBusyError(busy)).toBe(true);
    const mapped = mapSqliteError(busy, context);
    expect(BackendUnavailableError.isInstance(mapped)).toBe(true);
    expect(mapped.code).toBe('BACKEND_UNAVAILABLE');
    expect(mapped.message).toContain('/data/memory.db');
    expect(mapped.message).toContain('1234 ms');
    expect(mapped.cause).toBe(busy);
  });

  it('SQLITE_CONSTRAINT - never leaks raw: a MemoryError with the driver error as cause', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
    db.exec("INSERT INTO t VALUES ('a')");
    const error = thrown(() => db.exec("INSERT INTO t VALUES ('a')"));
    db.close();
    const mapped = mapSqliteError(error, context);
    expect(MemoryError.isInstance(mapped)).toBe(true);
    expect(mapped.code).toBe('MEMORY_ERROR');
    expect(mapped.message).toContain('SQLITE_CONSTRAINT');
    expect(mapped.cause).toBe(error);
    expect(isBusyError(error)).toBe(false);
  });

  it('SQLITE_NOTADB - says the file is not a usable database', () => {
    const path = join(dir, 'not-a-db.db');
    writeFileSync(path, 'this is a text file, not SQLite '.repeat(100));
    const db = new Database(path);
    const error = thrown(() => db.pragma('journal_mode'));
    db.close();
    const mapped = mapSqliteError(error, context);
    expect(mapped.code).toBe('MEMORY_ERROR');
    expect(mapped.message).toMatch(/not a usable SQLite database/);
  });

  it('SQLITE_CANTOPEN - is BackendUnavailableError', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const error = thrown(() => new Database(folder));
    const mapped = mapSqliteError(error, context);
    expect(mapped.code).toBe('BACKEND_UNAVAILABLE');
    expect(mapped.cause).toBe(error);
  });

  it('SQLITE_TOOBIG - is a ValidationError on record', () => {
    const db = new Database(':memory:');
    const error = thrown(() => db.prepare('SELECT zeroblob(2000000000)').get());
    db.close();
    const mapped = mapSqliteError(error, context);
    expect(ValidationError.isInstance(mapped)).toBe(true);
    expect((mapped as ValidationError).field).toBe('record');
  });

  it('a handle closed by its owner - is BackendUnavailableError', () => {
    const db = new Database(':memory:');
    db.close();
    const error = thrown(() => db.prepare('SELECT 1'));
    expect(mapSqliteError(error, context).code).toBe('BACKEND_UNAVAILABLE');
  });

  it('a file system error while creating the folder - is BackendUnavailableError', () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    const error = thrown(() => mkdirSync(join(file, 'sub'), { recursive: true }));
    expect(mapSqliteError(error, context).code).toBe('BACKEND_UNAVAILABLE');
  });

  it('a MemoryError - is returned as is', () => {
    const error = new ValidationError('x', 'bad');
    expect(mapSqliteError(error, context)).toBe(error);
  });
});
