import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./migrate-child.mjs', import.meta.url));

/** A migration running in a child process (`migrate-child.mjs`). */
export interface ChildRun {
  process: ChildProcess;
  /** True once the child has paused at its pause point; false when it exited first. */
  paused: Promise<boolean>;
  /** The JSON line the child printed last (report outcome or error code), once it has exited. */
  result: Promise<Record<string, unknown> | undefined>;
}

/**
 * Starts a migration in a child process, configured by `env` (`SQLITE`, `DSN`, `SCHEMA`, `BATCH`, and to pause:
 * `PAUSE_PHASE`, `PAUSE_STEP`, `PAUSE_AT`, `RESUME_FILE`; see `migrate-child.mjs`).
 */
export function startChildRun(env: Record<string, string>): ChildRun {
  const proc = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const paused = new Promise<boolean>((resolve) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('PAUSED')) resolve(true);
    });
    proc.on('exit', () => resolve(false));
  });
  const result = new Promise<Record<string, unknown> | undefined>((resolve) => {
    proc.on('exit', () => {
      const last = out.trim().split('\n').pop() ?? '';
      resolve(last.startsWith('{') ? (JSON.parse(last) as Record<string, unknown>) : undefined);
    });
  });
  return { process: proc, paused, result };
}

/** SIGKILLs the child (nothing runs after: no cleanup, no ROLLBACK) and resolves once it has exited. */
export function killed(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}
