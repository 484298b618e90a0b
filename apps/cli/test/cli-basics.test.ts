import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, fails, ok, okJson, runCli, tempDir } from './run-cli.js';

let cwd: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ dir: cwd, remove } = await tempDir());
});
afterAll(() => remove());

const COMMANDS = ['demo', 'check', 'sessions', 'history', 'delete', 'export', 'import'];

describe('flux-memory as a process', () => {
  it('binary - starts with a shebang and is declared as flux-memory', () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.bin).toEqual({ 'flux-memory': './dist/bin.js' });
  });

  it('--help - lists every command, the configuration order and the exit codes', async () => {
    const help = await ok(['--help'], { cwd });
    for (const command of COMMANDS) expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
    // Every variable, with what it does, and no default server.
    for (const variable of ['DATABASE_BACKEND', 'DATABASE_URL', 'POSTGRES_DSN', 'POSTGRES_SCHEMA']) {
      expect(help).toContain(variable);
    }
    expect(help).toContain('there is no default server');
    expect(help).toContain('Exit codes: 0 success, 1 failure');
    expect(help).toMatch(/^ {2}migrate /m);
    // The description at the top names every command too (it left out delete and migrate, then upgrade).
    expect(help).toMatch(/\), delete, export, import,\s+migrate\s+and\s+upgrade\./);
  });

  it.each(COMMANDS)('%s --help - shows usage, the connection flags and exits 0', async (command) => {
    const help = await ok([command, '--help'], { cwd });
    expect(help).toMatch(new RegExp(`^Usage: flux-memory ${command} `));
    for (const flag of [
      '--backend <name>',
      '--url <url>',
      '--schema <name>',
      '--dotenv <path>',
      '--verbose',
    ]) {
      expect(help).toContain(flag);
    }
  });

  it('read commands - offer --json', async () => {
    for (const command of ['check', 'sessions', 'history']) {
      expect(await ok([command, '--help'], { cwd })).toContain('--json');
    }
  });

  it('--version - prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect((await ok(['--version'], { cwd })).trim()).toBe(version);
  });

  it('usage errors - one line on stderr and exit code 2', async () => {
    expect((await fails(['bogus'], { cwd }, 2)).line).toBe("error: unknown command 'bogus'");
    expect((await fails(['sessions', '--bogus'], { cwd }, 2)).line).toBe("error: unknown option '--bogus'");
    expect((await fails(['history'], { cwd }, 2)).line).toBe("error: missing required argument 'session-id'");
    expect((await fails(['sessions', '--limit', '0'], { cwd }, 2)).line).toMatch(
      /'--limit <n>' argument '0' is invalid\. expected an integer from 1 to 1000/,
    );
    expect((await fails(['history', 'x', '--limit', 'ten'], { cwd }, 2)).line).toMatch(/--limit/);
    expect((await fails(['sessions', '--backend', 'mysql'], { cwd }, 2)).line).toMatch(
      /Allowed choices are sqlite, postgres, postgresql, memory/,
    );
  });

  it('no command - prints help on stderr and exits 2', async () => {
    const result = await runCli([], { cwd });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Usage: flux-memory/);
  });

  it("migrate --help - shows the original script's flags", async () => {
    const help = await ok(['migrate', '--help'], { cwd });
    for (const flag of [
      '--sqlite-path',
      '--postgres-dsn',
      '--batch-size',
      '--schema',
      '--on-invalid',
      '--verify-only',
    ]) {
      expect(help).toContain(flag);
    }
  });

  it('--owner - offered by the commands an owner scopes, hidden elsewhere', async () => {
    for (const command of ['sessions', 'history', 'delete', 'export', 'import']) {
      expect(await ok([command, '--help'], { cwd })).toMatch(
        /^ {2}--owner <id> +only this owner's sessions/m,
      );
    }
    for (const command of ['demo', 'check', 'migrate']) {
      expect(await ok([command, '--help'], { cwd })).not.toContain('--owner');
    }
  });

  it("--owner - a bad id is the contract's VALIDATION_FAILED on ownerId, exit 2, before any database is touched", async () => {
    const dir = join(cwd, 'bad-owner');
    mkdirSync(dir);
    const file = join(dir, 'empty.jsonl');
    writeFileSync(file, '{"type":"header","format":"flux-rag-memory","version":1}\n');
    expect((await fails(['import', file, '--owner', ''], { cwd: dir }, 2)).line).toBe(
      'error: VALIDATION_FAILED: Invalid ownerId: must not be empty',
    );
    expect(
      (await fails(['sessions', '--owner', 'x'.repeat(256), '--backend', 'memory'], { cwd }, 2)).line,
    ).toBe('error: VALIDATION_FAILED: Invalid ownerId: must be at most 255 characters, got 256');
    // import creates ./data/memory.db when it opens the store: the value was refused before that.
    expect(existsSync(join(dir, 'data'))).toBe(false);
    expect(await ok(['import', file, '--owner', 'x'.repeat(255)], { cwd: dir })).toMatch(
      /sessions 0 written/,
    );
  });

  it('--owner on demo, check and migrate - refused with the reason, exit 2, nothing done', async () => {
    const dir = join(cwd, 'refused-owner');
    mkdirSync(dir);
    const reasons = {
      demo: 'it writes a sample conversation that belongs to no one',
      check: 'its health and row counts are those of the whole database',
      migrate: 'it copies the whole database, every owner',
    };
    for (const [command, reason] of Object.entries(reasons)) {
      const { line, stdout } = await fails([command, '--owner', 'alice'], { cwd: dir }, 2);
      expect(line).toContain(`error: USAGE: ${command} does not take --owner: ${reason}`);
      expect(stdout).toBe('');
    }
    // demo would have written ./data/memory.db.
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('demo --backend memory - runs without touching the disk', async () => {
    const out = await ok(['demo', '--backend', 'memory'], { cwd });
    expect(out).toContain('flux-memory demo on memory (not persisted)');
    expect(out).toContain('5 messages, oldest first, content and metadata unchanged');
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('check --backend memory --json - reports a healthy store', async () => {
    expect(await okJson(['check', '--backend', 'memory', '--json'], { cwd })).toEqual({
      backend: 'memory',
      location: 'process memory',
      reachable: true,
      sessions: 0,
      messages: 0,
      healthy: true,
    });
  });

  it('--verbose - adds the stack trace after the error line', async () => {
    const result = await runCli(['history', 'nope', '--backend', 'memory', '--verbose'], { cwd });
    expect(result.code).toBe(1);
    const [line, ...rest] = result.stderr.trimEnd().split('\n');
    expect(line).toBe('error: SESSION_NOT_FOUND: Session not found: "nope"');
    expect(rest.join('\n')).toMatch(/SessionNotFoundError[\s\S]* at /);
  });

  it('colours - never when piped, even with TERM set; on request with FORCE_COLOR; never with NO_COLOR piped', async () => {
    const plain = await runCli(['check', '--backend', 'memory'], { cwd, env: { TERM: 'xterm-256color' } });
    expect(plain.stdout).not.toContain('\x1b[');
    const forced = await runCli(['check', '--backend', 'memory'], { cwd, env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain('\x1b[');
    const noColor = await runCli(['history', 'x', '--backend', 'memory'], { cwd, env: { NO_COLOR: '1' } });
    expect(noColor.stderr).not.toContain('\x1b[');
  });
});
