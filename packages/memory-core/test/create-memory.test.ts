import { describe, expect, test } from 'vitest';
import { importBackend } from '../src/create-memory.js';
import {
  BackendNotInstalledError,
  CONFIG_DEFAULTS,
  createMemory,
  InMemoryConversationMemory,
  resolveMemoryConfig,
  ValidationError,
} from '../src/index.js';

describe('resolveMemoryConfig', () => {
  test('defaults to SQLite at ./data/memory.db, as the original settings did', () => {
    expect(resolveMemoryConfig({ env: {} })).toEqual({ backend: 'sqlite', filename: './data/memory.db' });
    expect(CONFIG_DEFAULTS.postgresDsn).toBe('postgresql://flux_rag:flux_rag@localhost:5432/flux_rag');
  });

  test('a postgres:// DATABASE_URL alone selects PostgreSQL; POSTGRES_DSN still wins as its location', () => {
    expect(resolveMemoryConfig({ env: { DATABASE_URL: 'postgresql://a@h/db' } })).toEqual({
      backend: 'postgres',
      connectionString: 'postgresql://a@h/db',
      schema: 'public',
    });
    expect(resolveMemoryConfig({ databaseUrl: 'postgres://a@h/db', env: {} })).toMatchObject({
      backend: 'postgres',
      connectionString: 'postgres://a@h/db',
    });
    expect(
      resolveMemoryConfig({
        env: { DATABASE_URL: 'postgresql://a@h/db', POSTGRES_DSN: 'postgresql://b@h/db' },
      }),
    ).toMatchObject({ backend: 'postgres', connectionString: 'postgresql://b@h/db' });
    // DATABASE_BACKEND still chooses: sqlite with a PostgreSQL DATABASE_URL is refused, not a file named so.
    expect(() =>
      resolveMemoryConfig({ env: { DATABASE_BACKEND: 'sqlite', DATABASE_URL: 'postgresql://a@h/db' } }),
    ).toThrow(ValidationError);
  });

  test('reads DATABASE_BACKEND, DATABASE_URL, POSTGRES_DSN and POSTGRES_SCHEMA from the environment', () => {
    expect(resolveMemoryConfig({ env: { DATABASE_URL: '/var/lib/chat.db' } })).toEqual({
      backend: 'sqlite',
      filename: '/var/lib/chat.db',
    });
    expect(
      resolveMemoryConfig({
        env: { DATABASE_BACKEND: 'postgres', POSTGRES_DSN: 'postgresql://a:b@h/db', POSTGRES_SCHEMA: 'chat' },
      }),
    ).toEqual({ backend: 'postgres', connectionString: 'postgresql://a:b@h/db', schema: 'chat' });
    expect(resolveMemoryConfig({ env: { DATABASE_BACKEND: 'postgres' } })).toEqual({
      backend: 'postgres',
      connectionString: CONFIG_DEFAULTS.postgresDsn,
      schema: 'public',
    });
  });

  test('explicit configuration wins over the environment', () => {
    const env = { DATABASE_BACKEND: 'postgres', DATABASE_URL: '/env.db', POSTGRES_DSN: 'postgresql://env' };
    expect(resolveMemoryConfig({ env, backend: 'sqlite', databaseUrl: '/flag.db' })).toEqual({
      backend: 'sqlite',
      filename: '/flag.db',
    });
    expect(resolveMemoryConfig({ env, postgresDsn: 'postgresql://flag', schema: 's' })).toEqual({
      backend: 'postgres',
      connectionString: 'postgresql://flag',
      schema: 's',
    });
    expect(resolveMemoryConfig({ env, backend: 'memory' })).toEqual({ backend: 'memory' });
  });

  test('empty or blank variables count as unset; the backend name is trimmed; postgresql is an alias', () => {
    expect(resolveMemoryConfig({ env: { DATABASE_BACKEND: '  ', DATABASE_URL: '' } })).toEqual({
      backend: 'sqlite',
      filename: './data/memory.db',
    });
    expect(resolveMemoryConfig({ env: { DATABASE_BACKEND: ' memory\n' } })).toEqual({ backend: 'memory' });
    expect(resolveMemoryConfig({ env: { DATABASE_BACKEND: 'postgresql', POSTGRES_DSN: '' } })).toMatchObject({
      backend: 'postgres',
      connectionString: CONFIG_DEFAULTS.postgresDsn,
    });
  });

  test('sqlite URLs name files: sqlite:///abs, sqlite:///./rel, sqlite:///../up, sqlite:rel, sqlite://', () => {
    const file = (url: string) => resolveMemoryConfig({ env: { DATABASE_URL: url } });
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
    expect(file('sqlite://')).toEqual({ backend: 'sqlite', filename: './data/memory.db' });
    expect(file('relative/plain.db')).toEqual({ backend: 'sqlite', filename: 'relative/plain.db' });
  });

  test('an unknown backend is a ValidationError on backend, wherever it comes from', () => {
    for (const config of [{ env: { DATABASE_BACKEND: 'mysql' } }, { backend: 'oracle' as never, env: {} }]) {
      let error: unknown;
      try {
        resolveMemoryConfig(config);
      } catch (caught) {
        error = caught;
      }
      expect(ValidationError.isInstance(error)).toBe(true);
      expect((error as ValidationError).field).toBe('backend');
    }
  });
});

describe('createMemory', () => {
  test('memory gives an in-memory store', async () => {
    const store = await createMemory({ backend: 'memory', env: {} });
    expect(store).toBeInstanceOf(InMemoryConversationMemory);
    await store.close();
  });

  test('a backend whose package is not installed names the package to install', async () => {
    // A name nobody installed: the real resolution failure, not a mock. (The real backends are optional
    // peers of this package and resolve from here when the workspace has them.)
    const error = await importBackend('@flux-rag/memory-nonexistent', 'NonexistentConversationMemory').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(BackendNotInstalledError.isInstance(error)).toBe(true);
    expect((error as BackendNotInstalledError).packageName).toBe('@flux-rag/memory-nonexistent');
    expect((error as Error).message).toContain('npm install @flux-rag/memory-nonexistent');
  });

  test('a package without the expected class is refused with its name', async () => {
    const error = await importBackend('kysely', 'SqliteConversationMemory').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(BackendNotInstalledError.isInstance(error)).toBe(true);
    expect((error as BackendNotInstalledError).packageName).toBe('kysely (with SqliteConversationMemory)');
  });
});
