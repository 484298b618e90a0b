import { once } from 'node:events';
import { createWriteStream, unlinkSync, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { CliError } from './cli-error.js';

/** Where an export goes: text is buffered into large writes and written with backpressure. */
export interface Sink {
  write(text: string): Promise<void>;
  /** Flushes; for a file, renames the temporary file into place. */
  commit(): Promise<void>;
  /** Gives up; for a file, deletes the temporary file so no truncated export is left behind. */
  abort(): Promise<void>;
  /** Deletes the temporary file at once, synchronously: what an interrupt does before the process ends. */
  discardNow(): void;
}

const CHUNK = 64 * 1024;

function buffered(
  stream: NodeJS.WritableStream,
  onCommit: () => Promise<void>,
  onAbort: () => Promise<void>,
  discardNow: () => void = () => {},
): Sink {
  let buffer = '';
  const flush = async () => {
    if (buffer === '') return;
    const chunk = buffer;
    buffer = '';
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  return {
    async write(text) {
      buffer += text;
      if (buffer.length >= CHUNK) await flush();
    },
    async commit() {
      await flush();
      await onCommit();
    },
    async abort() {
      buffer = '';
      await onAbort();
    },
    discardNow,
  };
}

/** stdout; nothing to rename or delete. */
export function stdoutSink(): Sink {
  return buffered(
    process.stdout,
    async () => {},
    async () => {},
  );
}

/**
 * A file written as `<file>.<pid>.tmp` beside it and renamed over `file` once complete, so that a failed or
 * interrupted export never leaves a truncated file that looks finished.
 */
export async function fileSink(file: string): Promise<Sink> {
  const temporary = `${file}.${process.pid}.tmp`;
  const stream: WriteStream = createWriteStream(temporary, { flags: 'wx' });
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new CliError('FILE_ERROR', `cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
  return buffered(
    stream,
    async () => {
      stream.end();
      await finished(stream);
      await rename(temporary, file);
    },
    async () => {
      stream.destroy();
      await unlink(temporary).catch(() => {});
    },
    () => {
      stream.destroy();
      try {
        unlinkSync(temporary);
      } catch {
        // Already gone: committed or never created.
      }
    },
  );
}
