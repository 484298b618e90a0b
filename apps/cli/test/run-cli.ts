import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The built binary: tests run what users run, not the sources. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** Variables that would make a test read the developer's own configuration. */
const CONFIG_VARIABLES = [
  'DATABASE_BACKEND',
  'DATABASE_URL',
  'POSTGRES_DSN',
  'POSTGRES_SCHEMA',
  'FORCE_COLOR',
  'NO_COLOR',
  'NODE_DISABLE_COLORS',
];

/** What a `flux-memory` process did. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** Working directory: where `./data/` and `./.env` are. */
  cwd: string;
  /** Variables added to a clean environment. */
  env?: Record<string, string>;
  /** Written to stdin, then closed. */
  input?: string;
}

/** Runs `node dist/bin.js ...args` as a child process; stdout and stderr are pipes, as in a script. */
export function runCli(args: readonly string[], options: RunOptions): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of CONFIG_VARIABLES) delete env[name];
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs the command and expects exit code 0 and nothing on stderr. */
export async function ok(args: readonly string[], options: RunOptions): Promise<string> {
  const result = await runCli(args, options);
  expect(result.stderr, `stderr of flux-memory ${args.join(' ')}`).toBe('');
  expect(result.code, `exit code of flux-memory ${args.join(' ')}`).toBe(0);
  return result.stdout;
}

/** Runs the command and parses its stdout as JSON. */
export async function okJson<T = unknown>(args: readonly string[], options: RunOptions): Promise<T> {
  return JSON.parse(await ok(args, options)) as T;
}

/**
 * Runs the command and expects it to fail with `code`: exactly one line on stderr, starting with `error:`,
 * no stack trace, no escape codes (stderr is not a terminal).
 */
export async function fails(
  args: readonly string[],
  options: RunOptions,
  code = 1,
): Promise<CliResult & { line: string }> {
  const result = await runCli(args, options);
  expect(result.code, `exit code of flux-memory ${args.join(' ')}; stderr: ${result.stderr}`).toBe(code);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, `stderr of flux-memory ${args.join(' ')}`).toHaveLength(1);
  const line = lines[0]!;
  expect(line).toMatch(/^error: /);
  expect(line).not.toMatch(/\s at |\x1b\[/);
  return { ...result, line };
}

/**
 * Runs a `--json` command and expects it to fail with exit `code` and its error as JSON: exactly one line on
 * stderr, an object with `code` and `message` and nothing else.
 */
export async function failsJson(
  args: readonly string[],
  options: RunOptions,
  code = 1,
): Promise<CliResult & { error: { code: string; message: string } }> {
  const result = await runCli(args, options);
  expect(result.code, `exit code of flux-memory ${args.join(' ')}; stderr: ${result.stderr}`).toBe(code);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, `stderr of flux-memory ${args.join(' ')}`).toHaveLength(1);
  const error = JSON.parse(lines[0]!) as { code: string; message: string };
  expect(Object.keys(error).sort()).toEqual(['code', 'message']);
  expect(typeof error.code).toBe('string');
  expect(typeof error.message).toBe('string');
  return { ...result, error };
}

/** A temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'flux-memory-cli-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
