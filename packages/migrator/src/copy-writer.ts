import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * One `COPY ... FROM STDIN` in progress. Writes wait while the server is behind (backpressure), so memory
 * holds at most a chunk or two whatever the table's size.
 */
export class CopyWriter {
  readonly #stream: ReturnType<typeof copyFrom>;
  #error: unknown;
  readonly #done: Promise<void>;

  constructor(client: pg.Client, statement: string) {
    this.#stream = client.query(copyFrom(statement));
    this.#done = new Promise<void>((resolve, reject) => {
      this.#stream.on('finish', resolve);
      this.#stream.on('error', (error) => {
        this.#error = error;
        reject(error);
      });
    });
    // Observed through write() and end(); without this an early error would be an unhandled rejection.
    this.#done.catch(() => {});
  }

  /** Sends a chunk of COPY text; resolves when the stream can take more. */
  async write(chunk: string | Buffer): Promise<void> {
    if (this.#error) throw this.#error;
    if (chunk.length === 0) return;
    if (!this.#stream.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)) {
      await Promise.race([once(this.#stream, 'drain'), this.#done]);
    }
    if (this.#error) throw this.#error;
  }

  /** Ends the COPY; resolves when the server has taken every row. */
  async end(): Promise<void> {
    if (this.#error) throw this.#error;
    this.#stream.end();
    await this.#done;
  }
}
