import {
  DummyDriver,
  Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  ValueNode,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { compileOnce, type Database } from '../src/sql/index.js';

/** Kysely instances that compile for each dialect and never connect. */
const dialects = {
  postgres: new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }).withSchema('tenant'),
  sqlite: new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
};

describe('compileOnce', () => {
  for (const [name, db] of Object.entries(dialects)) {
    it(`${name} - gives the SQL and parameters of the query built with the values, constants kept`, () => {
      const touch = (p: { id: string; at: string; owner: string }) =>
        db
          .updateTable('sessions')
          .set((eb) => ({
            updated_at: p.at,
            last_message_at: p.at,
            message_count: eb('message_count', '+', 1),
          }))
          .where('id', '=', p.id)
          .where('owner_id', '=', p.owner);
      const statement = compileOnce(touch);
      for (const values of [
        { id: 's1', at: '2025-01-01T00:00:00.000000Z', owner: 'alice' },
        { id: 's2', at: '2026-02-02T00:00:00.000000Z', owner: 'bob' },
      ]) {
        const expected = touch(values).compile();
        const compiled = statement(values);
        expect(compiled.sql).toBe(expected.sql);
        expect(compiled.parameters).toEqual(expected.parameters);
      }
    });
  }

  it('each call - a fresh parameter list, earlier results untouched', () => {
    const statement = compileOnce((p: { id: string }) =>
      dialects.postgres.deleteFrom('messages').where('session_id', '=', p.id),
    );
    const first = statement({ id: 'a' });
    const second = statement({ id: 'b' });
    expect(first.parameters).toEqual(['a']);
    expect(second.parameters).toEqual(['b']);
    expect(first.queryId).not.toBe(second.queryId);
  });

  it('a parameter a plugin rewrites - refused when compiling, not run with the rewritten constant', () => {
    // Like a dialect plugin that converts values (dates to text, say) before they are bound.
    class Stringify extends OperationNodeTransformer {
      protected override transformValue(node: ValueNode): ValueNode {
        return ValueNode.create(String(node.value));
      }
    }
    const plugin: KyselyPlugin = {
      transformQuery: (args) => new Stringify().transformNode(args.node),
      transformResult: async (args) => args.result,
    };
    expect(() =>
      compileOnce((p: { role: string }) =>
        dialects.postgres.withPlugin(plugin).selectFrom('messages').selectAll().where('role', '=', p.role),
      ),
    ).toThrow(/parameter role is not a bound value/);
  });
});
