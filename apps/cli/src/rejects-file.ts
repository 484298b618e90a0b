import { appendFileSync } from 'node:fs';
import { CliError } from './cli-error.js';
import type { RejectedRecord } from './record-rules.js';

/** A JSON Lines file of rejected records, created at the first one (no rejects, no file). */
export interface RejectsFile {
  readonly path: string;
  /** Records written so far. */
  readonly count: number;
  add(rejected: RejectedRecord): void;
}

/** Opens `path` lazily; each record is one line, appended synchronously so an interrupt loses none. */
export function rejectsFile(path: string): RejectsFile {
  let count = 0;
  return {
    path,
    get count() {
      return count;
    },
    add(rejected) {
      try {
        appendFileSync(path, `${JSON.stringify(rejected)}\n`);
      } catch (error) {
        throw new CliError(
          'FILE_ERROR',
          `cannot write the rejects file ${path}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      count++;
    },
  };
}
