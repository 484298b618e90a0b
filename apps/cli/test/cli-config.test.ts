import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@flux-rag/test-postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, failsJson, ok, okJson, runCli, tempDir } from './run-cli.js';
import { postgresTarget } from './targets.js';

interface Report {
  backend: string;
  location: string;
  healthy: boolean;
  reachable: boolean;
  error?: string;
}

let cwd: string;
let remove: () => Promise<void>;
beforeEach(async () => {
  ({ dir: cwd, remove } = await tempDir());
});
afterEach(() => remove());

/** Where `check` says the store is, after `demo` created it there. */
async function locationAfterDemo(args: string[], env?: Record<string, string>): Promise<string> {
  await ok(['demo', ...args], { cwd, env });
  return (await okJson<Report>(['check', '--json', ...args], { cwd, env })).location;
}

describe('configuration: flags, then environment, then .env, then defaults', () => {
  it('default - a SQLite file at ./data/memory.db, created by the first write', async () => {
    expect(await locationAfterDemo([])).toBe('./data/memory.db');
    expect(existsSync(join(cwd, 'data', 'memory.db'))).toBe(true);
  });

  it('.env - is read from the working directory', async () => {
    writeFileSync(join(cwd, '.env'), 'DATABASE_BACKEND=sqlite\nDATABASE_URL=sqlite:///./from-dotenv.db\n');
    expect(await locationAfterDemo([])).toBe('./from-dotenv.db');
    expect(existsSync(join(cwd, 'from-dotenv.db'))).toBe(true);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('environment - wins over .env, and does not need it', async () => {
    writeFileSync(join(cwd, '.env'), 'DATABASE_URL=from-dotenv.db\n');
    expect(await locationAfterDemo([], { DATABASE_URL: 'from-env.db' })).toBe('from-env.db');
    expect(existsSync(join(cwd, 'from-dotenv.db'))).toBe(false);
  });

  it('flags - win over the environment and .env', async () => {
    writeFileSync(join(cwd, '.env'), 'DATABASE_URL=from-dotenv.db\n');
    expect(await locationAfterDemo(['--url', 'from-flag.db'], { DATABASE_URL: 'from-env.db' })).toBe(
      'from-flag.db',
    );
    expect(existsSync(join(cwd, 'from-env.db'))).toBe(false);
    // --backend memory beats DATABASE_BACKEND and never touches the file the environment names.
    const report = await okJson<Report>(['check', '--backend', 'memory', '--json'], {
      cwd,
      env: { DATABASE_BACKEND: 'sqlite', DATABASE_URL: 'nowhere.db' },
    });
    expect(report.backend).toBe('memory');
  });

  it('--dotenv - reads another file instead of ./.env; a missing one is a usage error', async () => {
    writeFileSync(join(cwd, '.env'), 'DATABASE_URL=from-dotenv.db\n');
    writeFileSync(join(cwd, 'staging.env'), 'DATABASE_URL=from-staging.db\n');
    expect(await locationAfterDemo(['--dotenv', 'staging.env'])).toBe('from-staging.db');
    expect((await fails(['sessions', '--dotenv', 'nope.env'], { cwd }, 2)).line).toBe(
      'error: USAGE: --dotenv nope.env: no such file',
    );
  });

  it('a bad DATABASE_BACKEND - is named, exit 2', async () => {
    writeFileSync(join(cwd, '.env'), 'DATABASE_BACKEND=mongodb\n');
    expect((await fails(['sessions'], { cwd }, 2)).line).toBe(
      'error: CONFIG_INVALID: DATABASE_BACKEND="mongodb": expected sqlite, postgres or memory',
    );
  });

  it('.env - selects PostgreSQL through DATABASE_BACKEND, POSTGRES_DSN and POSTGRES_SCHEMA', async () => {
    const store = await postgresTarget.open(cwd);
    try {
      const [, url, , schema] = store.args;
      writeFileSync(
        join(cwd, '.env'),
        `DATABASE_BACKEND=postgres\nPOSTGRES_DSN=${url}\nPOSTGRES_SCHEMA=${schema}\nDATABASE_URL=ignored.db\n`,
      );
      await ok(['demo'], { cwd });
      const report = await okJson<Report & { sessions: number }>(['check', '--json'], { cwd });
      expect(report).toMatchObject({ backend: 'postgres', healthy: true, sessions: 1 });
      // The same store through flags: the .env did point there.
      const sessions = await okJson<unknown[]>(['sessions', '--json', ...store.args], { cwd });
      expect(sessions).toHaveLength(1);
      expect(existsSync(join(cwd, 'ignored.db'))).toBe(false);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite specifics', () => {
  it('read commands - refuse a database file that does not exist, and do not create it', async () => {
    for (const command of [['sessions'], ['history', 'x'], ['delete', 'x'], ['export']]) {
      const { line } = await fails([...command, '--url', 'typo.db'], { cwd });
      expect(line).toBe(
        'error: DATABASE_NOT_FOUND: no SQLite database at typo.db (the first write creates it: flux-memory demo or import)',
      );
    }
    const check = await failsJson(['check', '--url', 'typo.db', '--json'], { cwd });
    expect(JSON.parse(check.stdout)).toMatchObject({ backend: 'sqlite', reachable: false, healthy: false });
    expect(check.error.code).toBe('UNHEALTHY');
    expect(check.error.message).toMatch(/^sqlite typo\.db: no database file/);
    expect(existsSync(join(cwd, 'typo.db'))).toBe(false);
  });

  it('import - a file that is not an export creates no database', async () => {
    writeFileSync(join(cwd, 'notes.txt'), 'hello\n');
    await fails(['import', 'notes.txt', '--url', 'new.db'], { cwd });
    expect(existsSync(join(cwd, 'new.db'))).toBe(false);
  });

  it('export --out - an unwritable path is one line, exit 1, and leaves nothing behind', async () => {
    await ok(['demo'], { cwd });
    const { line } = await fails(['export', '--out', join(cwd, 'no', 'such', 'dir', 'x.jsonl')], { cwd });
    expect(line).toMatch(/^error: FILE_ERROR: cannot write .*x\.jsonl: ENOENT/);
  });

  it('demo - twice on a fresh directory accumulates sessions, each with 5 messages', async () => {
    await ok(['demo'], { cwd });
    const second = await ok(['demo'], { cwd });
    expect(second).toContain('Sessions in the store: 2');
    const report = await okJson<{ sessions: number; messages: number }>(['check', '--json'], { cwd });
    expect(report).toMatchObject({ sessions: 2, messages: 10 });
  });
});

describe('PostgreSQL specifics', () => {
  it('check - an unreachable server is one line, exit 1, password masked', async () => {
    const port = await freePort();
    const url = `postgresql://app:hunter2-secret@127.0.0.1:${port}/app`;
    const result = await fails(['check', '--url', url], { cwd });
    expect(result.line).toMatch(/^error: UNHEALTHY: .*ECONNREFUSED/);
    expect(result.line).toContain(`postgresql://app:***@127.0.0.1:${port}/app`);
    expect(result.stdout).toBe('');
    const json = await failsJson(['check', '--url', url, '--json'], { cwd });
    expect(JSON.parse(json.stdout)).toMatchObject({ backend: 'postgres', reachable: false, healthy: false });
    for (const text of [result.stderr, json.stdout, json.stderr]) expect(text).not.toContain('hunter2');
  });

  it('data commands - fail on an unreachable server with the contract code, password masked', async () => {
    const port = await freePort();
    const { line, stderr } = await fails(
      ['sessions', '--url', `postgres://app:hunter2-secret@127.0.0.1:${port}/app`],
      {
        cwd,
      },
    );
    expect(line).toMatch(/^error: BACKEND_UNAVAILABLE: /);
    expect(stderr).not.toContain('hunter2');
    const verbose = await runCli(
      ['sessions', '--verbose', '--url', `postgres://app:hunter2-secret@127.0.0.1:${port}/app`],
      {
        cwd,
      },
    );
    expect(verbose.stderr).toMatch(/ at /);
    expect(verbose.stderr).not.toContain('hunter2');
  });

  it('--schema - keeps two stores in one database apart', async () => {
    const a = await postgresTarget.open(cwd);
    const b = await postgresTarget.open(cwd);
    try {
      await ok(['demo', ...a.args], { cwd });
      expect(await okJson<unknown[]>(['sessions', '--json', ...a.args], { cwd })).toHaveLength(1);
      expect(await okJson<unknown[]>(['sessions', '--json', ...b.args], { cwd })).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
