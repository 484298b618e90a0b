import { describe, expect, test } from 'vitest';
import { SchemaVersionError } from '../src/errors.js';
import {
  MIGRATION_TABLE,
  type MigrationSet,
  readSchemaVersion,
  refuseUnknownMigrations,
  type SchemaCatalog,
} from '../src/sql/migrate.js';

/** A catalog over a list of tables and recorded migration names, synchronous or not. */
function catalog(tables: string[], recorded: string[] = []): SchemaCatalog<true> {
  return {
    hasTable: (name) => tables.includes(name),
    recordedMigrations: () => {
      if (!tables.includes(MIGRATION_TABLE)) throw new Error('asked for migrations without the table');
      return recorded;
    },
  };
}
const async = (sync: SchemaCatalog<true>): SchemaCatalog => ({
  hasTable: async (name) => sync.hasTable(name),
  recordedMigrations: async () => sync.recordedMigrations(),
});

describe('readSchemaVersion: one answer for every backend and the migrator', () => {
  const cases: [string, SchemaCatalog<true>, number][] = [
    ['nothing there', catalog([]), 0],
    ['the Python tables, no migration table (legacy file)', catalog(['sessions', 'messages']), 1],
    ['only one of the two tables', catalog(['sessions']), 0],
    ['an empty migration table and the tables', catalog(['sessions', 'messages', MIGRATION_TABLE]), 1],
    ['an empty migration table only', catalog([MIGRATION_TABLE]), 0],
    [
      'recorded migrations: the highest wins, whatever their order',
      catalog(['sessions', 'messages', MIGRATION_TABLE], ['0003_owner', '0006_order', '0002_seq']),
      6,
    ],
  ];
  test.each(cases)('%s', async (_, sync, expected) => {
    expect(readSchemaVersion(sync)).toBe(expected);
    const answer = readSchemaVersion(async(sync));
    expect(answer).toBeInstanceOf(Promise);
    expect(await answer).toBe(expected);
  });
});

describe('refuseUnknownMigrations', () => {
  const known: MigrationSet = { '0001_a': { up: async () => {} }, '0002_b': { up: async () => {} } };
  test('accepts a record of known migrations (or none)', () => {
    expect(() => refuseUnknownMigrations([], known, 'db')).not.toThrow();
    expect(() => refuseUnknownMigrations(['0001_a', '0002_b'], known, 'db')).not.toThrow();
  });
  test('refuses a migration it does not know, naming the newer version and the known one', () => {
    const error = (() => {
      try {
        refuseUnknownMigrations(['0001_a', '0002_b', '0004_later', '0003_x'], known, 'file.db');
      } catch (caught) {
        return caught;
      }
    })();
    expect(SchemaVersionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'file.db has schema version 4, newer than this library knows (2): upgrade @flux-rag packages before opening it',
    );
  });
});
