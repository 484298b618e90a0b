import { join } from 'node:path';
import { createTestSchema } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';

/** A fresh, empty store for one test, named by the flags that select it. */
export interface OpenedTarget {
  /** `--url ... [--schema ...]`: appended to every command of the test. */
  readonly args: readonly string[];
  /** Removes the store. */
  close(): Promise<void>;
}

/** A backend the command suite runs against. */
export interface Target {
  readonly name: 'sqlite' | 'postgres';
  /** Opens a fresh store; `dir` is the test's temporary directory, `label` tells two stores of one test apart. */
  open(dir: string, label?: string): Promise<OpenedTarget>;
}

/** A SQLite file in the test's directory: the file does not exist until the first write. */
export const sqliteTarget: Target = {
  name: 'sqlite',
  async open(dir, label = 'store') {
    return { args: ['--url', join(dir, `${label}.db`)], close: async () => {} };
  },
};

/** A schema of its own on the run's PostgreSQL server (MEMORY_TEST_POSTGRES_URL or embedded). */
export const postgresTarget: Target = {
  name: 'postgres',
  async open() {
    const schema = await createTestSchema(testPostgresUrl(), { prefix: 'cli_' });
    return { args: ['--url', schema.url, '--schema', schema.name], close: () => schema.drop() };
  },
};

/** Every backend the CLI is tested against. */
export const TARGETS: readonly Target[] = [sqliteTarget, postgresTarget];
