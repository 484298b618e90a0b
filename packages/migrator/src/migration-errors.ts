import { type ErrorOptions, MemoryError } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';

/**
 * Stable codes of {@link MigrationError}. Invalid rows and verification mismatches are not errors: they are
 * results, in the report (`ok: false`).
 * - `SOURCE_NOT_FOUND`: the source file does not exist.
 * - `SOURCE_UNSUPPORTED`: the source is not a conversation-memory database (no `sessions`/`messages` tables,
 *   or columns missing).
 * - `SOURCE_FAILED`: reading the source failed.
 * - `TARGET_BUSY`: another migration into the same target is running.
 * - `TARGET_FAILED`: writing or reading the target failed, or the run's migration lock ended under it (its
 *   connection cut or timed out; the run stops before its next write); what the run had committed stays, and a
 *   re-run resumes from it.
 */
export type MigrationErrorCode =
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_UNSUPPORTED'
  | 'SOURCE_FAILED'
  | 'TARGET_BUSY'
  | 'TARGET_FAILED';

/** Every {@link MigrationErrorCode} (keyed by the union, so a new code must be added here), for `isInstance`. */
const MIGRATION_ERROR_CODES: Readonly<Record<MigrationErrorCode, true>> = {
  SOURCE_NOT_FOUND: true,
  SOURCE_UNSUPPORTED: true,
  SOURCE_FAILED: true,
  TARGET_BUSY: true,
  TARGET_FAILED: true,
};

/**
 * An error of the migrator: a `MemoryError` (so `MemoryError.isInstance` recognises it) whose code is one of
 * the closed {@link MigrationErrorCode}s. Its message never holds a password (every message goes through
 * `maskSecrets`); the driver's error, when there was one, is its `cause`. Contract errors of the backends (a
 * target whose schema is newer than this library, an unreachable server, invalid options) are thrown as they are.
 */
export class MigrationError extends MemoryError<MigrationErrorCode> {
  constructor(code: MigrationErrorCode, message: string, options?: ErrorOptions) {
    super(code, maskSecrets(message), options);
  }

  /** True when `error` is a `MigrationError` from any copy of these packages (a `MemoryError` with its code). */
  static override isInstance(error: unknown): error is MigrationError {
    return MemoryError.isInstance(error) && Object.hasOwn(MIGRATION_ERROR_CODES, error.code);
  }
}

/** The message of any thrown value, masked. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return maskSecrets(typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message);
}
