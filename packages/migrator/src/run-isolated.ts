import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  BackendUnavailableError,
  MemoryError,
  type MemoryErrorCode,
  SchemaVersionError,
  ValidationError,
} from '@flux-rag/memory-core';
import type { MigrationProgress } from './migration-engine.js';
import { MigrationError, type MigrationErrorCode } from './migration-errors.js';
import type { ResolvedOptions } from './migration-options.js';
import type { MigrationReport } from './migration-report.js';
import type { Direction } from './run-direction.js';

/**
 * Heap limits of the worker a migration runs in. On a busy thread V8 grows the young generation to 48 MB and
 * sizes the old one against a limit of several GB, far past what a migration holds (a page of rows). Measured
 * on the 1M-message benchmark (README): on the calling thread peak RSS is about 240 MB; in this worker about
 * 170 MB for 7% more CPU time (a 16 MB young generation: 150 MB, but 20% more CPU). The old generation limit
 * stays generous so that a single huge row still fits.
 */
export const WORKER_LIMITS = { maxYoungGenerationSizeMb: 32, maxOldGenerationSizeMb: 1024 } as const;

const WORKER = new URL('./migration-worker.js', import.meta.url);

/** Whether the worker script is there (it is in the published package; not when the sources run directly). */
export function canIsolate(): boolean {
  return existsSync(fileURLToPath(WORKER));
}

/** Runs one migration in a worker thread with bounded heap; progress is relayed to `onProgress`. */
export function runIsolated(
  direction: Direction,
  options: ResolvedOptions,
  onProgress: ((progress: MigrationProgress) => void) | undefined,
): Promise<MigrationReport> {
  const { onProgress: _, ...data } = options;
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      workerData: { direction, options: data, progress: onProgress !== undefined },
      resourceLimits: WORKER_LIMITS,
    });
    let settled = false;
    worker.on(
      'message',
      (message: {
        type: string;
        progress?: MigrationProgress;
        report?: MigrationReport;
        error?: SerializedError;
      }) => {
        if (message.type === 'progress') onProgress?.(message.progress!);
        else if (message.type === 'report') {
          settled = true;
          resolve(message.report!);
        } else if (message.type === 'error') {
          settled = true;
          reject(deserializeError(message.error!));
        }
      },
    );
    worker.on('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled)
        reject(new MigrationError('TARGET_FAILED', `the migration worker stopped (exit code ${code})`));
      settled = true;
    });
  });
}

/** An error as it crosses from the worker: class, code and the fields the contract's errors carry. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  field?: string;
  cause?: string;
}

/** Flattens an error for `postMessage` (class instances do not survive a structured clone). */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, field } = error as { code?: unknown; field?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof field === 'string' ? { field } : {}),
    ...(error.cause instanceof Error ? { cause: error.cause.message } : {}),
  };
}

/** Rebuilds the error class the worker threw, so `code`, `isInstance` and `instanceof` work as in-process. */
export function deserializeError(e: SerializedError): Error {
  const options = e.cause === undefined ? undefined : { cause: new Error(e.cause) };
  let error: Error;
  if (e.name === 'MigrationError')
    error = new MigrationError(e.code as MigrationErrorCode, e.message, options);
  else if (e.code === 'VALIDATION_FAILED') error = new ValidationError(e.field ?? 'options', '');
  else if (e.code === 'BACKEND_UNAVAILABLE') error = new BackendUnavailableError(e.message, options);
  else if (e.code === 'SCHEMA_VERSION_UNSUPPORTED') error = new SchemaVersionError(e.message);
  else if (
    e.code &&
    e.name.endsWith('Error') &&
    e.name !== 'Error' &&
    e.name !== 'TypeError' &&
    e.name !== 'RangeError'
  ) {
    error = new MemoryError(e.code as MemoryErrorCode, e.message, options);
  } else error = new Error(e.message, options);
  error.message = e.message;
  return error;
}
