import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConversationMemory, Message, Session, SessionSummary } from '@flux-rag/memory-core';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { createTestSchema, type TestSchema, withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterEach, beforeEach, expect } from 'vitest';

/** The legacy file written by the original Python code (a copy of shared/legacy/flux-rag-memory.db). */
export const LEGACY_FIXTURE = fileURLToPath(new URL('./fixtures/legacy-memory.db', import.meta.url));

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'flux-migrator-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A copy of the legacy fixture in `dir` (tests never touch the original). */
export function legacyCopy(dir: string, name = 'legacy.db'): string {
  const file = path.join(dir, name);
  copyFileSync(LEGACY_FIXTURE, file);
  return file;
}

/** A test's scratch space: a temporary folder and the name of a PostgreSQL schema no other test uses. */
export interface Scratch {
  /** The temporary folder, removed after the test. */
  readonly dir: string;
  /** The schema's name; it does not exist until a migration creates it, and is dropped after the test. */
  readonly schema: string;
}

/**
 * A fresh {@link Scratch} for each test of the calling `describe` block (its hooks are registered there), removed
 * after the test whether it passed or not. Read its fields inside tests and hooks, not at collection time.
 */
export function perTestScratch(): Scratch {
  let dir: ReturnType<typeof tempDir> | undefined;
  let schema: TestSchema | undefined;
  beforeEach(async () => {
    dir = tempDir();
    schema = await freshSchema();
  });
  afterEach(async () => {
    await schema?.drop();
    dir?.remove();
  });
  const current = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('perTestScratch() is read outside a test');
    return value;
  };
  return {
    get dir() {
      return current(dir).dir;
    },
    get schema() {
      return current(schema).name;
    },
  };
}

/** A schema of its own on the run's PostgreSQL server, not created: the migration creates it. */
export async function freshSchema(): Promise<TestSchema> {
  return createTestSchema(testPostgresUrl(), { prefix: 'mig_', create: false });
}

/** The run's server URL with a password added, to check it never leaks (trust auth ignores it). */
export function dsnWithPassword(): string {
  const url = new URL(testPostgresUrl());
  url.password = 'S3cr3t-pw';
  return url.toString();
}

/** Everything a store returns through the contract: every page of sessions, each session and its history. */
export async function readEverything(memory: ConversationMemory): Promise<{
  sessions: SessionSummary[];
  byId: Record<string, { session: Session | null; history: Message[]; last3: Message[] }>;
}> {
  const sessions: SessionSummary[] = [];
  for (let offset = 0; ; offset += 7) {
    const page = await memory.getSessions({ limit: 7, offset });
    sessions.push(...page);
    if (page.length < 7) break;
  }
  const byId: Record<string, { session: Session | null; history: Message[]; last3: Message[] }> = {};
  for (const s of sessions) {
    byId[s.id] = {
      session: await memory.getSession(s.id),
      history: await memory.getHistory(s.id),
      last3: await memory.getHistory(s.id, { limit: 3 }),
    };
  }
  return { sessions, byId };
}

/**
 * Row counts of a target schema on the run's server, read directly (not through a store): sessions, messages and
 * distinct message ids; all 0 before a migration created the tables.
 */
export function targetCounts(
  schema: string,
): Promise<{ sessions: number; messages: number; distinct: number }> {
  return withClient(testPostgresUrl(), async (c) => {
    const exists = await c.query('SELECT to_regclass($1) AS t', [`"${schema}".messages`]);
    if (!exists.rows[0].t) return { sessions: 0, messages: 0, distinct: 0 };
    const r = await c.query(
      `SELECT (SELECT count(*)::int FROM "${schema}".sessions) AS sessions,
              (SELECT count(*)::int FROM "${schema}".messages) AS messages,
              (SELECT count(DISTINCT id)::int FROM "${schema}".messages) AS distinct`,
    );
    return r.rows[0] as { sessions: number; messages: number; distinct: number };
  });
}

/**
 * Asserts that the SQLite file and the PostgreSQL schema return the same through the contract (every listing,
 * session and history: {@link readEverything}); both stores are closed after.
 */
export async function expectSameContent(
  sqliteFile: string,
  postgres: { connectionString: string; schema: string },
): Promise<void> {
  const sqlite = new SqliteConversationMemory({ filename: sqliteFile });
  const server = new PostgresConversationMemory(postgres);
  try {
    expect(await readEverything(server)).toEqual(await readEverything(sqlite));
  } finally {
    await sqlite.close();
    await server.close();
  }
}
