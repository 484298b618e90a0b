import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateLegacyFile } from '@flux-rag/migrator';
import { createTestSchema } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, okJson, tempDir } from './run-cli.js';

let dir: string;
let remove: () => Promise<void>;
let big: string;
beforeAll(async () => {
  ({ dir, remove } = await tempDir());
  big = join(dir, 'big.db');
  // Big enough that an export or a migration runs for a few seconds on a loaded two-core machine.
  generateLegacyFile({ path: big, sessions: 2_000, messages: 300_000 });
  // Upgraded once here (search index), so that no command below spends its time on the upgrade.
  await okJson(['upgrade', '--no-backup', '--json', '--url', big], { cwd: dir });
}, 300_000);
afterAll(() => remove());

interface Ended {
  code: number | null;
  stderr: string;
}

function start(args: readonly string[], cwd: string): { child: ChildProcess; ended: Promise<Ended> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout!.resume();
  const ended = new Promise<Ended>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, ended };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('interrupts (issue 13 item 6)', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('export --out, %s mid-run - one line, exit %i, no temporary file, no output file', async (signal, code) => {
    const { dir: out, remove: removeOut } = await tempDir();
    try {
      const file = join(out, 'backup.jsonl');
      const { child, ended } = start(['export', '--url', big, '--out', file], out);
      await waitFor(() => readdirSync(out).some((name) => name.endsWith('.tmp')), 'the temporary file');
      child.kill(signal);
      const result = await ended;
      expect(result.code, result.stderr).toBe(code);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^error: INTERRUPTED: interrupted \\(${signal}\\): no file written \\(.*backup\\.jsonl left as it was\\)`,
        ),
      );
      expect(readdirSync(out)).toEqual([]);
    } finally {
      await removeOut();
    }
  });

  it('export --json under SIGINT - the interrupt is a JSON error', async () => {
    const { dir: out, remove: removeOut } = await tempDir();
    try {
      const { child, ended } = start(['export', '--url', big, '--out', join(out, 'x.jsonl'), '--json'], out);
      // (export --json prints its summary as JSON; here it only makes the interrupt JSON.)
      await waitFor(() => readdirSync(out).some((name) => name.endsWith('.tmp')), 'the temporary file');
      child.kill('SIGINT');
      const result = await ended;
      expect(result.code).toBe(130);
      expect(JSON.parse(result.stderr)).toMatchObject({ code: 'INTERRUPTED' });
      expect(readdirSync(out)).toEqual([]);
    } finally {
      await removeOut();
    }
  });

  it('migrate, SIGINT mid-run - says a re-run resumes, exits 130; the re-run completes and verifies', async () => {
    const schema = await createTestSchema(testPostgresUrl(), { prefix: 'cli_int_' });
    try {
      const args = ['migrate', '--from', big, '--to', schema.url, '--schema', schema.name];
      const { child, ended } = start(args, dir);
      // Long enough to be copying (the whole run takes tens of seconds), whatever the machine's load.
      await sleep(3000);
      child.kill('SIGINT');
      const result = await ended;
      // A run that finished before the signal would prove nothing.
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(
        /INTERRUPTED: interrupted \(SIGINT\): .*run the same migrate again to resume/,
      );
      // Only the source and SQLite's own journal files of it: no temporary or partial file of ours.
      expect(readdirSync(dir).filter((name) => !name.startsWith('big.db'))).toEqual([]);
      const report = await okJson<{ ok: boolean; verification: { status: string } }>([...args, '--json'], {
        cwd: dir,
      });
      expect(report).toMatchObject({ ok: true, verification: { status: 'passed' } });
    } finally {
      await schema.drop();
    }
    // The re-run copies and verifies 300,000 messages: tens of seconds alone, more on a loaded machine.
  }, 240_000);
});
