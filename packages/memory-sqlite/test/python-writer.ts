import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./python-writer.py', import.meta.url));

/** True when `python3` with its `sqlite3` module runs here. */
export function pythonAvailable(): boolean {
  const result = spawnSync('python3', ['-c', 'import sqlite3'], { stdio: 'ignore' });
  return result.status === 0;
}

/** One operation of `python-writer.py`. */
export type PythonOp =
  | { op: 'create_session'; id: string; title?: string | null; at: string; metadata?: object }
  | { op: 'add_message'; id: string; session: string; role: string; content: string; at: string }
  | { op: 'rename'; session: string; title: string; at: string }
  | { op: 'delete_session'; session: string };

/**
 * The original Python app writing a file: a `python3` process running `python-writer.py`, which executes each
 * operation with Python's `sqlite3` (the statements of flux-rag's `ConversationMemory`) and answers it.
 */
export class PythonWriter {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #answers: string[] = [];
  readonly #waiting: ((line: string) => void)[] = [];
  /** The SQLite version Python's `sqlite3` runs, once {@link ready} resolved. */
  sqliteVersion = '';

  constructor(path: string, timeoutSeconds = 10) {
    this.#child = spawn('python3', [SCRIPT, path, String(timeoutSeconds)], { stdio: 'pipe' });
    let stderr = '';
    this.#child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    this.#child.on('close', (code) => {
      for (const resolve of this.#waiting.splice(0)) {
        resolve(JSON.stringify({ ok: false, error: `python3 exited with ${code}: ${stderr}` }));
      }
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      const resolve = this.#waiting.shift();
      if (resolve) resolve(line);
      else this.#answers.push(line);
    });
  }

  #next(): Promise<{ ok: boolean; error?: string; sqlite?: string }> {
    const line = this.#answers.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line));
    return new Promise((resolve) => this.#waiting.push((l) => resolve(JSON.parse(l))));
  }

  /** Waits for the script to start; returns Python's SQLite version. */
  async ready(): Promise<string> {
    const hello = await this.#next();
    if (!hello.ok) throw new Error(hello.error);
    this.sqliteVersion = hello.sqlite ?? '';
    return this.sqliteVersion;
  }

  /** Sends one operation; resolves when Python committed it, rejects with Python's error. */
  async run(op: PythonOp): Promise<void> {
    this.#child.stdin.write(`${JSON.stringify(op)}\n`);
    const answer = await this.#next();
    if (!answer.ok) throw new Error(`python3 ${op.op}: ${answer.error}`);
  }

  /**
   * Makes Python take the write lock (`BEGIN IMMEDIATE`) and hold it for `ms`: `acquired` resolves once it holds
   * it, `released` once it committed.
   */
  holdLock(ms: number): { acquired: Promise<void>; released: Promise<void> } {
    this.#child.stdin.write(`${JSON.stringify({ op: 'hold_lock', ms })}\n`);
    const answer = async () => {
      const line = await this.#next();
      if (!line.ok) throw new Error(`python3 hold_lock: ${line.error}`);
    };
    const acquired = answer();
    return { acquired, released: acquired.then(answer) };
  }

  /** Ends the script. */
  async close(): Promise<void> {
    this.#child.stdin.end();
    if (this.#child.exitCode === null) await new Promise((resolve) => this.#child.on('close', resolve));
  }
}
