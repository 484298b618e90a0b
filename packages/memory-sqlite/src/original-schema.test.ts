import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LEGACY_FIXTURE, openPlain, tempDir, tempFile } from '../test/support.js';
import { ORIGINAL_SCHEMA } from './index.js';

const dir = tempDir();

function schemaText(db: Database.Database): unknown[] {
  return db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name').all();
}

describe('ORIGINAL_SCHEMA', () => {
  it('creates the schema text of a file the Python code wrote, to the letter', () => {
    const path = tempFile(dir);
    const created = new Database(path);
    for (const statement of ORIGINAL_SCHEMA) created.exec(statement);
    const legacy = openPlain(LEGACY_FIXTURE);
    try {
      expect(schemaText(created)).toEqual(schemaText(legacy));
    } finally {
      created.close();
      legacy.close();
    }
  });

  it('can run again on a legacy file without changing it (IF NOT EXISTS, as the Python code ran it on open)', () => {
    const path = tempFile(dir);
    const db = new Database(path);
    try {
      for (const statement of ORIGINAL_SCHEMA) db.exec(statement);
      db.prepare("INSERT INTO sessions (id) VALUES ('s1')").run();
      for (const statement of ORIGINAL_SCHEMA) db.exec(statement);
      expect(db.prepare('SELECT id FROM sessions').pluck().all()).toEqual(['s1']);
    } finally {
      db.close();
    }
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(ORIGINAL_SCHEMA)).toBe(true);
  });
});
