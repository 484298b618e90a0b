import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, withClient } from '@flux-rag/test-postgres';
import { describe, expect, it } from 'vitest';
import { usePostgres } from './support.js';

const pg = usePostgres();
const child = fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url));
const PROCESSES = 6;
/** Stores each child opens at once per round (fixtures/open-store.mjs). */
const STORES = 4;
const expectedIds = (prefix: string) => Array.from({ length: STORES }, (_, i) => `${prefix}-${i}`);

/**
 * Runs `PROCESSES` node processes; in round k each opens `STORES` stores on `schemas[k]` at one agreed instant.
 * Resolves with each process's exit code and report.
 */
async function startTogether(url: string, schemas: string[]) {
  if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
    throw new Error('dist/ is missing: build the package first (pnpm build), the child processes import it');
  }
  // Far enough ahead that every process has loaded pg and Kysely before the first round.
  const startAt = Date.now() + 2_500;
  return Promise.all(
    Array.from(
      { length: PROCESSES },
      (_, p) =>
        new Promise<{ code: number; output: string }>((resolve) => {
          const args = [child, url, schemas.join(','), String(startAt), `p${p}`];
          execFile(process.execPath, args, (error, stdout, stderr) => {
            resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
          });
        }),
    ),
  );
}

describe('parallel start', () => {
  // Without the advisory lock around schema setup, some of these inits fail with `duplicate key value violates
  // unique constraint "pg_namespace_nspname_index"` (CREATE SCHEMA racing): this test failed in one run of two.
  it('init - processes starting at once on empty schemas all succeed, in every round', async () => {
    const schemas = await Promise.all(Array.from({ length: 5 }, () => pg.schema(false)));
    const results = await startTogether(pg.url, schemas);
    for (const result of results) {
      expect(result, result.output).toMatchObject({ code: 0 });
      expect(JSON.parse(result.output)).toEqual({ failures: [], versions: [7] });
    }
    for (const schema of schemas) {
      const rows = await withClient(pg.url, (c) => c.query(`SELECT id FROM "${schema}".sessions`));
      expect(rows.rows.map((r) => r.id).sort()).toEqual(
        Array.from({ length: PROCESSES }, (_, p) => expectedIds(`p${p}`))
          .flat()
          .sort(),
      );
      const migrations = await withClient(pg.url, (c) =>
        c.query(`SELECT name FROM "${schema}".kysely_migration`),
      );
      expect(migrations.rowCount).toBe(7);
    }
    // 24 stores per schema take the transaction-scoped setup lock one after another (pooler-safe since issue 18):
    // 12 s on a quiet machine before schema 7, 26 s after it with a test run beside it.
  }, 120_000);

  it('init - processes starting at once on a fresh database (schema public) all succeed', async () => {
    const database = await createTestDatabase(pg.url);
    try {
      const results = await startTogether(database.url, ['public']);
      for (const result of results) expect(result, result.output).toMatchObject({ code: 0 });
      const rows = await withClient(database.url, (c) => c.query('SELECT count(*)::int AS n FROM sessions'));
      expect(rows.rows[0].n).toBe(PROCESSES * STORES);
    } finally {
      await database.drop();
    }
  }, 120_000);
});
