import { migrateToLatest } from '@flux-rag/memory-core/sql';
import { withClient } from '@flux-rag/test-postgres';
import { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';
import { SchemaScopedPostgresDialect } from './postgres-introspector.js';
import { postgresMigrations } from './postgres-migrations.js';

const pg = usePostgres();

const query = <T>(text: string, values: unknown[] = []) =>
  withClient(pg.url, async (client) => (await client.query(text, values)).rows as T[]);

/** A schema at version 6 with rows in both tables, and a way to migrate it further. */
async function version6Schema() {
  const schema = await pg.schema(false);
  const db = new Kysely({ dialect: new SchemaScopedPostgresDialect({ pool: pg.pool() }, schema) });
  await query(`CREATE SCHEMA "${schema}"`);
  const { '0007_structured_messages': _, ...upToVersion6 } = postgresMigrations(schema);
  await migrateToLatest(db, upToVersion6, { migrationTableSchema: schema, location: 'test' });
  await query(`
    INSERT INTO "${schema}".sessions (id, created_at, updated_at, metadata, owner_id) VALUES
      ('s1', now(), now(), '{}', 'alice'), ('s2', now(), now(), '{}', NULL);
    INSERT INTO "${schema}".messages (id, session_id, role, content, created_at) VALUES
      ('m1', 's1', 'user', 'hello', now()), ('m2', 's1', 'assistant', 'hi', now()),
      ('m3', 's2', 'user', 'other', now())`);
  return {
    schema,
    upgrade: () =>
      migrateToLatest(db, postgresMigrations(schema), { migrationTableSchema: schema, location: 'test' }),
    close: () => db.destroy(),
  };
}

/** Every table and index of the schema with its data file: a rewrite or a rebuild gives it a new one. */
const files = (schema: string) =>
  query<{ name: string; file: string }>(
    `SELECT c.relname AS name, c.relfilenode::text AS file FROM pg_class AS c
     JOIN pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'i') AND c.relname <> 'kysely_migration_lock'
       AND c.relname NOT LIKE 'kysely_migration%'
     ORDER BY c.relname`,
    [schema],
  );

describe('schema version 7 (0007_structured_messages)', () => {
  it('upgrade - widens ids to 255 without rewriting a table or rebuilding an index (relfilenode kept)', async () => {
    const { schema, upgrade, close } = await version6Schema();
    const before = await files(schema);
    expect(before.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'messages',
        'messages_pkey',
        'idx_messages_history',
        'sessions',
        'sessions_pkey',
      ]),
    );
    expect(await upgrade()).toBe(7);
    const after = await files(schema);
    // Every relation of version 6 keeps its file; the new ones are the (session_id, id) key (built once, and
    // now named messages_pkey), the operation log and its indexes.
    const kept = Object.fromEntries(after.map((f) => [f.name, f.file]));
    for (const { name, file } of before) {
      if (name === 'messages_pkey') continue;
      expect(kept[name], name).toBe(file);
    }
    expect(kept.messages_pkey).not.toBe(before.find((f) => f.name === 'messages_pkey')!.file);
    expect(after.map((f) => f.name).filter((n) => !before.some((f) => f.name === n))).toEqual([
      'idx_message_operations_seq',
      'message_operations',
      'message_operations_pkey',
    ]);
    await close();
  });

  it('upgrade - the messages key is (session_id, id); new columns; rows and FK intact', async () => {
    const { schema, upgrade, close } = await version6Schema();
    await upgrade();
    const [key] = await query<{ definition: string }>(
      `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE contype = 'p' AND conrelid = $1::regclass`,
      [`"${schema}".messages`],
    );
    expect(key!.definition).toBe('PRIMARY KEY (session_id, id)');
    const columns = await query<{
      column_name: string;
      data_type: string;
      len: string | null;
      collation_name: string | null;
    }>(
      `SELECT column_name, data_type, character_maximum_length::text AS len, collation_name
       FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'messages' ORDER BY ordinal_position`,
      [schema],
    );
    expect(columns.filter((c) => ['id', 'session_id'].includes(c.column_name))).toEqual([
      { column_name: 'id', data_type: 'character varying', len: '255', collation_name: 'C' },
      { column_name: 'session_id', data_type: 'character varying', len: '255', collation_name: 'C' },
    ]);
    expect(columns.slice(-3).map((c) => [c.column_name, c.data_type])).toEqual([
      ['payload', 'text'],
      ['format', 'text'],
      ['digest', 'text'],
    ]);
    // The same id in two sessions, a 255-character id, and a payload jsonb would refuse (\u0000).
    const long = 'x'.repeat(255);
    await query(
      `INSERT INTO "${schema}".messages (id, session_id, role, content, payload) VALUES
         ('m1', 's2', 'user', 'same id', $1), ($2, 's2', 'user', 'long id', NULL)`,
      ['{"a":"\\u0000","z":1,"b":2}', long],
    );
    expect(
      await query(`SELECT payload FROM "${schema}".messages WHERE id = 'm1' AND session_id = 's2'`),
    ).toEqual([{ payload: '{"a":"\\u0000","z":1,"b":2}' }]);
    await expect(
      query(
        `INSERT INTO "${schema}".messages (id, session_id, role, content) VALUES ('m1', 's2', 'user', 'x')`,
      ),
    ).rejects.toThrow(/duplicate key value violates unique constraint "messages_pkey"/);
    await expect(
      query(
        `INSERT INTO "${schema}".messages (id, session_id, role, content) VALUES ('z', $1, 'user', 'x')`,
        ['y'.repeat(256)],
      ),
    ).rejects.toThrow(/too long/);
    await query(`INSERT INTO "${schema}".sessions (id, owner_id, metadata) VALUES ($1, $1, '{}')`, [long]);
    // Operations are deleted with their session.
    await query(
      `INSERT INTO "${schema}".message_operations (session_id, operation_id, request_digest, result, seq)
       VALUES ('s1', 'op', 'd', '{}', 1), ('s2', 'op', 'd', '{}', 1)`,
    );
    await query(`DELETE FROM "${schema}".sessions WHERE id = 's1'`);
    expect(await query(`SELECT session_id FROM "${schema}".message_operations`)).toEqual([
      { session_id: 's2' },
    ]);
    expect(await query(`SELECT count(*)::int AS n FROM "${schema}".messages`)).toEqual([{ n: 3 }]);
    await close();
  });

  it('without COLLATE "C" - the same widening rebuilds the index (why the migration names it)', async () => {
    const schema = await pg.schema();
    await query(`
      CREATE TABLE "${schema}".t (id VARCHAR(36) COLLATE "C" PRIMARY KEY);
      INSERT INTO "${schema}".t VALUES ('a')`);
    const before = await files(schema);
    await query(`ALTER TABLE "${schema}".t ALTER COLUMN id TYPE VARCHAR(255)`);
    const after = await files(schema);
    expect(after.find((f) => f.name === 't_pkey')!.file).not.toBe(
      before.find((f) => f.name === 't_pkey')!.file,
    );
  });
});
