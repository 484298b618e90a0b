import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryConversationMemory, inMemoryBackend, ValidationError } from '@flux-rag/memory-core';
import type { BackendDescriptor } from '@flux-rag/memory-core/backend';
import { DEFAULT_POSTGRES_DSN, PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { createTestSchema, type TestSchema } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterAll, describe, expect, test } from 'vitest';
import { createMemory, DEFAULT_BACKENDS, type MemoryConfig, resolveMemoryConfig } from '../src/index.js';

/** The resolved configuration in the flat shape the original `resolveMemoryConfig` returned. */
function resolve(config: MemoryConfig) {
  const { backend, location } = resolveMemoryConfig(config);
  return { backend: backend.name, ...(location as object) };
}

describe('resolveMemoryConfig', () => {
  test('defaults to SQLite at ./data/memory.db, as the original settings did', () => {
    expect(resolve({ env: {} })).toEqual({ backend: 'sqlite', filename: './data/memory.db' });
    expect(DEFAULT_POSTGRES_DSN).toBe('postgresql://flux_rag:flux_rag@localhost:5432/flux_rag');
  });

  test('a postgres:// DATABASE_URL alone selects PostgreSQL; POSTGRES_DSN still wins as its location', () => {
    expect(resolve({ env: { DATABASE_URL: 'postgresql://a@h/db' } })).toEqual({
      backend: 'postgres',
      connectionString: 'postgresql://a@h/db',
      schema: 'public',
    });
    expect(resolve({ databaseUrl: 'postgres://a@h/db', env: {} })).toMatchObject({
      backend: 'postgres',
      connectionString: 'postgres://a@h/db',
    });
    expect(
      resolve({
        env: { DATABASE_URL: 'postgresql://a@h/db', POSTGRES_DSN: 'postgresql://b@h/db' },
      }),
    ).toMatchObject({ backend: 'postgres', connectionString: 'postgresql://b@h/db' });
    // DATABASE_BACKEND still chooses: sqlite with a PostgreSQL DATABASE_URL is refused, not a file named so.
    expect(() =>
      resolve({ env: { DATABASE_BACKEND: 'sqlite', DATABASE_URL: 'postgresql://a@h/db' } }),
    ).toThrow(ValidationError);
  });

  test('reads DATABASE_BACKEND, DATABASE_URL, POSTGRES_DSN and POSTGRES_SCHEMA from the environment', () => {
    expect(resolve({ env: { DATABASE_URL: '/var/lib/chat.db' } })).toEqual({
      backend: 'sqlite',
      filename: '/var/lib/chat.db',
    });
    expect(
      resolve({
        env: { DATABASE_BACKEND: 'postgres', POSTGRES_DSN: 'postgresql://a:b@h/db', POSTGRES_SCHEMA: 'chat' },
      }),
    ).toEqual({ backend: 'postgres', connectionString: 'postgresql://a:b@h/db', schema: 'chat' });
    expect(resolve({ env: { DATABASE_BACKEND: 'postgres' } })).toEqual({
      backend: 'postgres',
      connectionString: DEFAULT_POSTGRES_DSN,
      schema: 'public',
    });
  });

  test('explicit configuration wins over the environment', () => {
    const env = { DATABASE_BACKEND: 'postgres', DATABASE_URL: '/env.db', POSTGRES_DSN: 'postgresql://env' };
    expect(resolve({ env, backend: 'sqlite', databaseUrl: '/flag.db' })).toEqual({
      backend: 'sqlite',
      filename: '/flag.db',
    });
    expect(resolve({ env, postgresDsn: 'postgresql://flag', schema: 's' })).toEqual({
      backend: 'postgres',
      connectionString: 'postgresql://flag',
      schema: 's',
    });
    expect(resolve({ env, backend: 'memory' })).toEqual({ backend: 'memory' });
  });

  test('empty or blank variables count as unset; the backend name is trimmed; postgresql is an alias', () => {
    expect(resolve({ env: { DATABASE_BACKEND: '  ', DATABASE_URL: '' } })).toEqual({
      backend: 'sqlite',
      filename: './data/memory.db',
    });
    expect(resolve({ env: { DATABASE_BACKEND: ' memory\n' } })).toEqual({ backend: 'memory' });
    expect(resolve({ env: { DATABASE_BACKEND: 'postgresql', POSTGRES_DSN: '' } })).toMatchObject({
      backend: 'postgres',
      connectionString: DEFAULT_POSTGRES_DSN,
    });
  });

  test('sqlite URLs name files: sqlite:///abs, sqlite:///./rel, sqlite:///../up, sqlite:rel, sqlite://', () => {
    const file = (url: string) => resolve({ env: { DATABASE_URL: url } });
    expect(file('sqlite:///var/data/memory.db')).toEqual({
      backend: 'sqlite',
      filename: '/var/data/memory.db',
    });
    expect(file('sqlite:///./data/memory.db')).toEqual({ backend: 'sqlite', filename: './data/memory.db' });
    expect(file('sqlite:///../shared/memory.db')).toEqual({
      backend: 'sqlite',
      filename: '../shared/memory.db',
    });
    expect(file('sqlite:memory.db')).toEqual({ backend: 'sqlite', filename: 'memory.db' });
    expect(file('SQLITE:///x.db')).toEqual({ backend: 'sqlite', filename: '/x.db' });
    // Changed by issue 14 (one strict parser per backend): `sqlite://` names no file and is refused, as the
    // CLI refused it, instead of meaning the default file.
    expect(() => file('sqlite://')).toThrow(/names no file/);
    expect(file('relative/plain.db')).toEqual({ backend: 'sqlite', filename: 'relative/plain.db' });
  });

  test('an unknown backend is a ValidationError on backend, wherever it comes from', () => {
    for (const config of [{ env: { DATABASE_BACKEND: 'mysql' } }, { backend: 'oracle' as never, env: {} }]) {
      let error: unknown;
      try {
        resolve(config);
      } catch (caught) {
        error = caught;
      }
      expect(ValidationError.isInstance(error)).toBe(true);
      expect((error as ValidationError).field).toBe('backend');
    }
  });
});

describe('createMemory', () => {
  const dirs: string[] = [];
  const schemas: TestSchema[] = [];
  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await Promise.all(schemas.map((schema) => schema.drop()));
  });

  test('memory gives an in-memory store', async () => {
    const store = await createMemory({ backend: 'memory', env: {} });
    expect(store).toBeInstanceOf(InMemoryConversationMemory);
    await store.close();
  });

  test('DATABASE_URL as a path opens (and creates) that SQLite file, usable at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-memory-factory-'));
    dirs.push(dir);
    const filename = join(dir, 'nested', 'chat.db');
    const store = await createMemory({ env: { DATABASE_URL: `sqlite://${filename}` } });
    expect(store).toBeInstanceOf(SqliteConversationMemory);
    const id = await store.createSession({ title: 'factory' });
    expect((await store.getSession(id))?.title).toBe('factory');
    expect((await store.check()).location).toBe(filename);
    await store.close();
  });

  test('a postgresql:// DATABASE_URL opens PostgreSQL in POSTGRES_SCHEMA', async () => {
    const schema = await createTestSchema(testPostgresUrl(), { create: false });
    schemas.push(schema);
    const store = await createMemory({
      env: { DATABASE_URL: testPostgresUrl(), POSTGRES_SCHEMA: schema.name },
    });
    expect(store).toBeInstanceOf(PostgresConversationMemory);
    const id = await store.createSession({ title: 'factory' });
    expect((await store.getSessions()).map((session) => session.id)).toEqual([id]);
    await store.close();
  });

  test('a malformed or unclaimed URL is a ValidationError naming the option, and nothing is created', async () => {
    for (const databaseUrl of [
      'mysql://root@db/app',
      'postgres:/app:hunter2@db/app',
      'sqlite:///x.db?mode=ro',
    ]) {
      const error = await createMemory({ databaseUrl, env: {} }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(ValidationError.isInstance(error)).toBe(true);
      expect((error as ValidationError).field).toBe('databaseUrl');
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  test("backends: a list of descriptors of its own, the first the default; a backend of one's own is chosen by name", async () => {
    const opened: string[] = [];
    const custom: BackendDescriptor<undefined> = {
      ...inMemoryBackend,
      name: 'custom',
      aliases: ['mine'],
      open: async (location, access) => {
        opened.push(access);
        return inMemoryBackend.open(location, access);
      },
    };
    await (await createMemory({ backends: [custom], env: {} })).close();
    await (await createMemory({ backends: [...DEFAULT_BACKENDS, custom], backend: 'mine', env: {} })).close();
    expect(opened).toEqual(['app', 'app']);
    expect(() => resolveMemoryConfig({ backends: [custom], backend: 'sqlite', env: {} })).toThrow(
      /expected custom/,
    );
  });
});
