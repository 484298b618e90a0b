import { closeSync, openSync, writeSync } from 'node:fs';
import type { RowAction, RowProblem } from './row-rules.js';

/** One line of the rejects file. */
export interface RejectsLine {
  table: 'sessions' | 'messages';
  key: number;
  action: RowAction;
  problems: RowProblem[];
  /** The row exactly as the source stored it; blobs as `{"$base64": "..."}`. */
  row: Record<string, unknown>;
}

/**
 * The JSON Lines file that receives every invalid row with its original values: what `skip` left out and
 * what `repair` changed, so that both can be undone or fixed by hand. Created on the first line only; written
 * synchronously line by line, so it is complete up to the last row judged even if the process is killed.
 */
export class RejectsFile {
  readonly path: string;
  #fd: number | undefined;
  #lines = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** Lines written so far. */
  get lines(): number {
    return this.#lines;
  }

  write(line: RejectsLine): void {
    this.#fd ??= openSync(this.path, 'w');
    writeSync(this.#fd, `${JSON.stringify(line, jsonSafe)}\n`);
    this.#lines++;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    const data = (value as { data?: number[] }).data;
    if (Array.isArray(data)) return { $base64: Buffer.from(data).toString('base64') };
  }
  return value;
}
