import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPgBouncer, pgBouncerForTests, REQUIRE_PGBOUNCER_VARIABLE } from './pgbouncer.js';

const empty = mkdtempSync(path.join(tmpdir(), 'flux-rag-nopgbouncer-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('pgBouncerForTests', () => {
  it('missing - says why, so the pooler tests are skipped with that reason', () => {
    const found = pgBouncerForTests({ PATH: empty }, []);
    expect(found).toEqual({ missing: expect.stringMatching(/pgbouncer is not installed/) });
  });

  it('missing and required - throws naming the variable, so CI fails instead of skipping', () => {
    expect(() => pgBouncerForTests({ PATH: empty, [REQUIRE_PGBOUNCER_VARIABLE]: '1' }, [])).toThrow(
      REQUIRE_PGBOUNCER_VARIABLE,
    );
    // `0` or empty does not require it.
    expect(pgBouncerForTests({ PATH: empty, [REQUIRE_PGBOUNCER_VARIABLE]: '0' }, [])).toHaveProperty(
      'missing',
    );
  });

  it('found - on the PATH, or in the package directories outside it', () => {
    const installed = findPgBouncer();
    if ('missing' in installed) return;
    expect(findPgBouncer({ PATH: path.dirname(installed.path) }, [])).toEqual(installed);
    expect(findPgBouncer({ PATH: empty }, [path.dirname(installed.path)])).toEqual(installed);
  });
});
