import type { TestProject } from 'vitest/node';
import './inject.js';
import { startTestPostgres } from './test-server.js';

/**
 * Vitest global setup: starts (or finds) the run's PostgreSQL server once, provides its URL to every test
 * file (read it with `testPostgresUrl()`), and stops an embedded server when the run ends. A server that
 * cannot be had fails the whole run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestPostgres();
  project.provide('memoryTestPostgresUrl', server.url);
  console.log(
    `PostgreSQL ${server.serverVersion} for this run (${server.source === 'env' ? 'MEMORY_TEST_POSTGRES_URL' : 'embedded'})`,
  );
  return () => server.stop();
}
