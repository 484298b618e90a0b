import { findPgBouncer, pgBouncerForTests } from './pgbouncer.js';

/**
 * Vitest global setup of a package with pooler tests: says in one line that they are skipped, and why, when
 * PgBouncer is not installed; fails the run instead when `MEMORY_TEST_REQUIRE_PGBOUNCER` is set (CI).
 */
export default function setup(): void {
  pgBouncerForTests();
  const found = findPgBouncer();
  if ('missing' in found) console.log(`PgBouncer tests skipped: ${found.missing}`);
}
