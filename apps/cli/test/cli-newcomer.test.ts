import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@flux-rag/test-postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, failsJson, ok, okJson, tempDir } from './run-cli.js';
import { postgresTarget } from './targets.js';

let cwd: string;
let remove: () => Promise<void>;
beforeEach(async () => {
  ({ dir: cwd, remove } = await tempDir());
});
afterEach(() => remove());

const HEADER = '{"type":"header","format":"flux-rag-memory","version":1}\n';

function exportFile(name: string, lines: readonly object[]): string {
  const file = join(cwd, name);
  writeFileSync(file, HEADER + lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return file;
}

const session = (id: string, extra: object = {}) => ({
  type: 'session',
  id,
  title: `title ${id}`,
  createdAt: '2025-01-01T00:00:00.000000Z',
  ...extra,
});
const message = (id: string, sessionId: string, content: string, extra: object = {}) => ({
  type: 'message',
  id,
  sessionId,
  role: 'user',
  content,
  createdAt: '2025-01-01T00:00:01.000000Z',
  ...extra,
});

describe('connection strings are strict (issue 13 item 3)', () => {
  it.each([
    'postgres:/postgres@127.0.0.1/x',
    'postgresql//postgres@127.0.0.1/x',
    'mysql://root@127.0.0.1/x',
  ])('import --url %s - exit 2, CONNECTION_STRING_INVALID, no file or folder created', async (url) => {
    const file = exportFile('in.jsonl', [session('s1')]);
    const { line } = await fails(['import', file, '--url', url], { cwd }, 2);
    expect(line).toMatch(
      /^error: CONNECTION_STRING_INVALID: --url ".*" is not a connection string: .*Accepted:/,
    );
    expect(readdirSync(cwd)).toEqual(['in.jsonl']);
  });

  it('a libpq key=value DSN is PostgreSQL, not a file path; its password never shows', async () => {
    const port = await freePort();
    const dsn = `host=127.0.0.1 port=${port} dbname=app user=app password='hunter2 x' connect_timeout=2`;
    const result = await fails(['sessions', '--url', dsn], { cwd });
    expect(result.line).toMatch(/^error: BACKEND_UNAVAILABLE: /);
    expect(result.stderr).not.toContain('hunter2');
    expect(readdirSync(cwd)).toEqual([]);
    // A raw "#" in a URL's password is refused before connecting, masked.
    const hash = await fails(['check', '--url', 'postgresql://app:hun#ter2@db/app'], { cwd }, 2);
    expect(hash.line).toMatch(/raw "#"/);
    expect(hash.line).not.toContain('hun#ter2');
  });

  it('a mistyped DATABASE_URL or POSTGRES_DSN is a usage error naming the variable', async () => {
    const env = { DATABASE_URL: 'mysql://root@db/x' };
    expect((await fails(['sessions'], { cwd, env }, 2)).line).toMatch(/DATABASE_URL "mysql:\/\/root@db\/x"/);
    const pg = { DATABASE_BACKEND: 'postgres', POSTGRES_DSN: 'postgres:/u@h/x' };
    expect((await fails(['check'], { cwd, env: pg }, 2)).line).toMatch(/POSTGRES_DSN "postgres:\/u@h\/x"/);
  });
});

describe('no hidden PostgreSQL default (issue 13 item 4)', () => {
  it('--backend postgres, DATABASE_BACKEND=postgres and migrate without a DSN are usage errors', async () => {
    for (const [args, env] of [
      [['check', '--backend', 'postgres'], {}],
      [['sessions'], { DATABASE_BACKEND: 'postgres' }],
      [['migrate', '--from', join(cwd, 'x.db')], {}],
      [['migrate'], {}],
    ] as const) {
      const { line } = await fails(args, { cwd, env }, 2);
      expect(line).toMatch(/no default server.*POSTGRES_DSN/);
      expect(line).not.toContain('flux_rag');
    }
  });

  it('every help text says where the DSN comes from, and that there is no default server', async () => {
    for (const command of ['demo', 'check', 'sessions', 'history', 'delete', 'export', 'import', 'migrate']) {
      const help = await ok([command, '--help'], { cwd });
      expect(help, command).toContain('$POSTGRES_DSN');
      expect(help.replace(/\s+/g, ' '), command).toMatch(/no default server/);
      expect(help, command).not.toContain('flux_rag');
    }
    const migrate = await ok(['migrate', '--help'], { cwd });
    expect(migrate).toContain('--from <url>');
    expect(migrate).toContain('--to <url>');
  });

  it('a postgresql:// DATABASE_URL alone selects PostgreSQL', async () => {
    const port = await freePort();
    const report = await failsJson(['check', '--json'], {
      cwd,
      env: { DATABASE_URL: `postgresql://app@127.0.0.1:${port}/app` },
    });
    expect(JSON.parse(report.stdout)).toMatchObject({ backend: 'postgres', healthy: false });
  });
});

describe('one flag vocabulary; suggestions (issue 13 item 5)', () => {
  it('migrate --url and --backend say to use --from/--to; unknown flags get suggestions on subcommands', async () => {
    expect((await fails(['migrate', '--url', 'x.db'], { cwd }, 2)).line).toMatch(/--from <url> --to <url>/);
    expect((await fails(['sessions', '--limt', '3'], { cwd }, 2)).line).toMatch(/Did you mean --limit\?/);
    expect((await fails(['migrate', '--form', 'x.db'], { cwd }, 2)).line).toMatch(/Did you mean --from\?/);
  });

  it('migrate refuses SQLite to SQLite, PostgreSQL to PostgreSQL, and mixed spellings', async () => {
    const a = join(cwd, 'a.db');
    const b = join(cwd, 'b.db');
    expect((await fails(['migrate', '--from', a, '--to', b], { cwd }, 2)).line).toMatch(/both SQLite files/);
    const pg = ['postgresql://u@127.0.0.1/a', 'postgresql://u@127.0.0.1/b'];
    expect((await fails(['migrate', '--from', pg[0]!, '--to', pg[1]!], { cwd }, 2)).line).toMatch(
      /both PostgreSQL/,
    );
    expect((await fails(['migrate', '--from', a, '--postgres-dsn', pg[0]!], { cwd }, 2)).line).toMatch(
      /use one spelling/,
    );
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('--json failures and exit codes (issue 13 items 7, 8)', () => {
  it('every failure under --json is one JSON object on stderr, commander usage errors included', async () => {
    const usage = await failsJson(['sessions', '--json', '--limit', 'x'], { cwd }, 2);
    expect(usage.error.code).toBe('USAGE');
    expect(usage.error.message).toMatch(/--limit/);
    const unknown = await failsJson(['sessions', '--json', '--bogus'], { cwd }, 2);
    expect(unknown.error.message).toMatch(/unknown option '--bogus'/);
    const missing = await failsJson(['sessions', '--json', '--url', 'nope.db'], { cwd });
    expect(missing.error.code).toBe('DATABASE_NOT_FOUND');
    const migrate = await failsJson(['migrate', '--json', '--from', 'mysql://x'], { cwd }, 2);
    expect(migrate.error.code).toBe('CONNECTION_STRING_INVALID');
    const importing = await failsJson(['import', join(cwd, 'none.jsonl'), '--json'], { cwd });
    expect(importing.error.code).toBe('FILE_ERROR');
  });

  it('bad option values exit 2 before anything is opened: time zone, schema, DSN', async () => {
    const legacy = join(cwd, 'legacy.db');
    const to = 'postgresql://u@127.0.0.1:1/x';
    const tz = await fails(
      ['migrate', '--from', legacy, '--to', to, '--source-timezone', 'Mars/Base'],
      { cwd },
      2,
    );
    expect(tz.line).toMatch(/sourceTimezone|Mars\/Base/);
    const schema = await fails(['migrate', '--from', legacy, '--to', to, '--schema', 'bad"x'], { cwd }, 2);
    expect(schema.line).toMatch(/--schema "bad\\"x"/);
    expect((await fails(['sessions', '--url', to, '--schema', 'bad"x'], { cwd }, 2)).line).toMatch(
      /--schema/,
    );
    expect((await fails(['check', '--url', 'postgresql://u@h:notaport/x'], { cwd }, 2)).line).toMatch(
      /CONNECTION_STRING_INVALID/,
    );
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('terminal output is sanitised (issue 13 item 9)', () => {
  it('history and sessions show escape sequences as visible escapes; --json keeps the text as stored', async () => {
    const evil =
      '\x1b[2J\x1b]0;owned\x07\x1b]8;;http://evil/\x07link\x1b]8;;\x07 safe\rOVERWRITE \u009b31m \u202eabc';
    const file = exportFile('evil.jsonl', [
      session('s1', { title: 'T\x1b[31mred' }),
      message('m1', 's1', evil, { role: 'user\x1b[0m' }),
    ]);
    const args = ['--url', join(cwd, 'store.db')];
    await ok(['import', file, ...args], { cwd });
    const text = await ok(['history', 's1', ...args], { cwd });
    const sessions = await ok(['sessions', ...args], { cwd });
    for (const out of [text, sessions]) {
      expect(out).not.toMatch(/[\x1b\r\u009b\u202e\x07]/);
    }
    expect(text).toContain('\\x1b[2J\\x1b]0;owned\\x07');
    // C1 controls as \x9b, bidi overrides as \u202e: visible, and not acted on.
    expect(text).toContain(' safe\\rOVERWRITE \\x9b31m \\u202eabc');
    expect(text).toContain('user\\x1b[0m');
    expect(sessions).toContain('T\\x1b[31mred');
    const json = await okJson<{ content: string; role: string }[]>(['history', 's1', '--json', ...args], {
      cwd,
    });
    expect(json[0]).toMatchObject({ content: evil, role: 'user\x1b[0m' });
  });

  it('an error line echoing input shows its control characters as escapes', async () => {
    const { line } = await fails(['history', 'x\x1b[2Jy', '--url', join(cwd, 'none.db')], { cwd });
    expect(line).not.toContain('\x1b');
    const store = ['--url', join(cwd, 's.db')];
    await ok(['import', exportFile('one.jsonl', [session('s1')]), ...store], { cwd });
    const missing = await fails(['history', 'x\x1b[2Jy', ...store], { cwd });
    expect(missing.line).toMatch(/x(\\u001b|\\x1b)\[2Jy/);
  });
});

describe('smaller items (issue 13 items 2, 10)', () => {
  it('import of a SQLite database points to migrate, and writes nothing', async () => {
    await ok(['demo', '--url', join(cwd, 'real.db')], { cwd });
    const { line } = await fails(['import', join(cwd, 'real.db'), '--url', join(cwd, 'other.db')], { cwd });
    expect(line).toMatch(/is a SQLite database, not an export: copy it with flux-memory migrate --from/);
    expect(existsSync(join(cwd, 'other.db'))).toBe(false);
  });

  it('demo - the Next: hints are pnpm flux-memory from the workspace scripts, flux-memory otherwise', async () => {
    const installed = await ok(['demo', '--backend', 'sqlite'], { cwd });
    expect(installed).toMatch(/^ {2}flux-memory history /m);
    const pnpm = { npm_execpath: '/usr/local/lib/node_modules/pnpm/bin/pnpm.cjs' };
    const workspace = await ok(['demo'], {
      cwd,
      env: { npm_lifecycle_event: 'flux-memory', npm_package_name: 'flux-rag-memory', ...pnpm },
    });
    expect(workspace).toMatch(/^ {2}pnpm flux-memory history /m);
    expect(workspace).toMatch(/^ {2}pnpm flux-memory check$/m);
    const demoScript = await ok(['demo'], {
      cwd,
      env: { npm_lifecycle_event: 'demo', npm_package_name: 'flux-rag-memory', ...pnpm },
    });
    expect(demoScript).toMatch(/^ {2}pnpm flux-memory export /m);
    // The quick start without pnpm installed: `npx -y pnpm@12.4.2 demo`, as pnpm reports itself under npx.
    const quickStart = await ok(['demo'], {
      cwd,
      env: {
        npm_lifecycle_event: 'demo',
        npm_package_name: 'flux-rag-memory',
        npm_execpath: '/root/.npm/_npx/f64b4edc612fabde/node_modules/pnpm/pnpm',
        npm_config_user_agent: 'pnpm/12.4.2 npm/? node/? linux x64',
      },
    });
    expect(quickStart).toMatch(/^ {2}npx -y pnpm@12\.4\.2 flux-memory history /m);
    // Another project's script that happens to run flux-memory: the installed command.
    const other = await ok(['demo'], {
      cwd,
      env: { npm_lifecycle_event: 'demo', npm_package_name: 'my-app' },
    });
    expect(other).toMatch(/^ {2}flux-memory history /m);
  });

  it('import --json summary and text summary format counts like export (1,234)', async () => {
    const lines: object[] = [session('s1')];
    for (let i = 0; i < 1234; i++) lines.push(message(`m${i}`, 's1', `hello ${i}`));
    const text = await ok(['import', exportFile('many.jsonl', lines), '--url', join(cwd, 'n.db')], { cwd });
    expect(text).toMatch(/messages 1,234 written, 0 skipped\.$/m);
  });
});

describe('PostgreSQL ends of migrate --from/--to', () => {
  it('--from a SQLite file --to a PostgreSQL schema, and back with --from/--to swapped', async () => {
    const target = await postgresTarget.open(cwd);
    try {
      const [, url, , schema] = target.args as [string, string, string, string];
      const source = join(cwd, 'source.db');
      await ok(['demo', '--url', source], { cwd });
      const forward = await okJson<{ ok: boolean; direction: string }>(
        ['migrate', '--from', source, '--to', url, '--schema', schema, '--json'],
        { cwd },
      );
      expect(forward).toMatchObject({ ok: true, direction: 'sqlite-to-postgres' });
      const back = await okJson<{ ok: boolean; direction: string }>(
        [
          'migrate',
          '--from',
          url,
          '--to',
          `sqlite:///${join(cwd, 'back.db').slice(1)}`,
          '--schema',
          schema,
          '--json',
        ],
        { cwd },
      );
      expect(back).toMatchObject({ ok: true, direction: 'postgres-to-sqlite' });
      expect(readFileSync(join(cwd, 'back.db')).length).toBeGreaterThan(0);
    } finally {
      await target.close();
    }
  });
});
