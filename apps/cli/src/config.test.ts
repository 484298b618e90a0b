import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from './cli-error.js';
import { describeConnection, loadDotenv, resolveConnection } from './config.js';

describe('resolveConnection', () => {
  it('defaults to the SQLite file ./data/memory.db', () => {
    expect(resolveConnection({}, {})).toEqual({ backend: 'sqlite', filename: './data/memory.db' });
  });

  it('reads DATABASE_BACKEND, DATABASE_URL, POSTGRES_DSN and POSTGRES_SCHEMA from the environment', () => {
    expect(resolveConnection({}, { DATABASE_URL: 'sqlite:///./x.db' })).toEqual({
      backend: 'sqlite',
      filename: './x.db',
    });
    expect(
      resolveConnection(
        {},
        { DATABASE_BACKEND: 'postgres', POSTGRES_DSN: 'postgresql://a@h/db', POSTGRES_SCHEMA: 's' },
      ),
    ).toEqual({ backend: 'postgres', connectionString: 'postgresql://a@h/db', schema: 's' });
  });

  it('lets flags win over the environment', () => {
    const env = {
      DATABASE_BACKEND: 'postgres',
      POSTGRES_DSN: 'postgresql://env@h/db',
      DATABASE_URL: 'env.db',
    };
    expect(resolveConnection({ backend: 'sqlite' }, env)).toEqual({ backend: 'sqlite', filename: 'env.db' });
    expect(resolveConnection({ backend: 'postgres', url: 'postgresql://flag@h/db' }, env)).toMatchObject({
      connectionString: 'postgresql://flag@h/db',
    });
    expect(resolveConnection({ schema: 'flag' }, env)).toMatchObject({ schema: 'flag' });
  });

  it('--url alone chooses the backend by its form, over DATABASE_BACKEND', () => {
    expect(resolveConnection({ url: 'postgres://u@h/db' }, { DATABASE_BACKEND: 'sqlite' })).toMatchObject({
      backend: 'postgres',
      connectionString: 'postgres://u@h/db',
    });
    expect(resolveConnection({ url: './mine.db' }, { DATABASE_BACKEND: 'postgres' })).toEqual({
      backend: 'sqlite',
      filename: './mine.db',
    });
  });

  it('accepts postgresql as an alias of postgres', () => {
    // With a DSN: without one PostgreSQL is a usage error now (no hidden default server).
    expect(
      resolveConnection({ backend: 'postgresql' }, { POSTGRES_DSN: 'postgresql://u@h/db' }),
    ).toMatchObject({
      backend: 'postgres',
    });
  });

  it('refuses contradictory or unknown choices as usage errors (exit 2)', () => {
    const cases = [
      () => resolveConnection({ backend: 'sqlite', url: 'postgresql://u@h/db' }, {}),
      () => resolveConnection({ backend: 'memory', url: 'x.db' }, {}),
      () => resolveConnection({ backend: 'mysql' }, {}),
      () => resolveConnection({}, { DATABASE_BACKEND: 'mysql' }),
    ];
    for (const attempt of cases) {
      const error = (() => {
        try {
          attempt();
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(2);
    }
  });

  it('names DATABASE_BACKEND when the environment holds a bad backend', () => {
    expect(() => resolveConnection({}, { DATABASE_BACKEND: 'mysql' })).toThrow(/DATABASE_BACKEND="mysql"/);
  });
});

describe('resolveConnection - no hidden PostgreSQL default, strict strings', () => {
  it('a PostgreSQL backend without a DSN is a usage error naming the flag and the variables', () => {
    for (const attempt of [
      () => resolveConnection({ backend: 'postgres' }, {}),
      () => resolveConnection({}, { DATABASE_BACKEND: 'postgres' }),
      () => resolveConnection({ backend: 'postgres' }, { DATABASE_URL: './x.db' }),
    ]) {
      expect(attempt).toThrow(/--url postgresql:.*POSTGRES_DSN/);
      expect(attempt).not.toThrow(/flux_rag/);
    }
  });

  it('a postgresql:// DATABASE_URL alone selects PostgreSQL, as memory-core createMemory does', () => {
    expect(resolveConnection({}, { DATABASE_URL: 'postgresql://a@h/db' })).toEqual({
      backend: 'postgres',
      connectionString: 'postgresql://a@h/db',
      schema: 'public',
    });
    // POSTGRES_DSN locates the server once PostgreSQL is chosen, and beats DATABASE_URL there.
    expect(
      resolveConnection({ backend: 'postgres' }, { POSTGRES_DSN: 'host=h dbname=db', DATABASE_URL: 'x.db' }),
    ).toMatchObject({ connectionString: 'postgresql://h/db' });
  });

  it('a mistyped URL in a flag or a variable is CONNECTION_STRING_INVALID, exit 2', () => {
    for (const attempt of [
      () => resolveConnection({ url: 'postgres:/postgres@127.0.0.1/x' }, {}),
      () => resolveConnection({}, { DATABASE_URL: 'mysql://root@db/x' }),
      () => resolveConnection({ backend: 'postgres' }, { POSTGRES_DSN: 'postgresql//u@h/x' }),
    ]) {
      expect(attempt).toThrow(CliError);
      expect(attempt).toThrow(/is not a connection string/);
    }
  });

  it('a SQLite path given to --backend postgres, and a bad --schema, are usage errors', () => {
    expect(() => resolveConnection({ backend: 'postgres', url: './x.db' }, {})).toThrow(/SQLite file/);
    expect(() => resolveConnection({ url: 'postgresql://u@h/db', schema: 'bad"x' }, {})).toThrow(
      /--schema "bad\\"x"/,
    );
  });
});

describe('describeConnection', () => {
  it('masks the password of a DSN', () => {
    const text = describeConnection({
      backend: 'postgres',
      connectionString: 'postgresql://app:hunter2@db:5432/app',
      schema: 'tenant',
    });
    expect(text).toBe('postgres postgresql://app:***@db:5432/app (schema tenant)');
  });
});

describe('loadDotenv', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flux-cli-env-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the variables of ./.env without overriding those already set', () => {
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=from-file.db\nDATABASE_BACKEND=sqlite\n# comment\n');
    const env: Record<string, string | undefined> = { DATABASE_URL: 'from-env.db' };
    expect(loadDotenv({}, dir, env)).toBe(join(dir, '.env'));
    expect(env).toEqual({ DATABASE_URL: 'from-env.db', DATABASE_BACKEND: 'sqlite' });
  });

  it('ignores a missing default .env but refuses a missing --dotenv', () => {
    expect(loadDotenv({}, dir, {})).toBeNull();
    expect(() => loadDotenv({ dotenv: 'nope.env' }, dir, {})).toThrow(/--dotenv nope.env: no such file/);
  });

  it('reads --dotenv instead of ./.env', () => {
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=default.db\n');
    writeFileSync(join(dir, 'other.env'), 'DATABASE_URL=other.db\n');
    const env: Record<string, string | undefined> = {};
    loadDotenv({ dotenv: 'other.env' }, dir, env);
    expect(env.DATABASE_URL).toBe('other.db');
  });
});
