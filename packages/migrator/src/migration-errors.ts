import { maskSecrets } from '@flux-rag/memory-core/backend';

const MARKER = Symbol.for('@flux-rag/migrator/error');

/**
 * Stable codes of {@link MigrationError}. Invalid rows and verification mismatches are not errors: they are
 * results, in the report (`ok: false`).
 * - `SOURCE_NOT_FOUND`: the source file does not exist.
 * - `SOURCE_UNSUPPORTED`: the source is not a conversation-memory database (no `sessions`/`messages` tables,
 *   or columns missing).
 * - `SOURCE_FAILED`: reading the source failed.
 * - `TARGET_BUSY`: another migration into the same target is running.
 * - `TARGET_FAILED`: writing or reading the target failed; what the run had committed stays, and a re-run
 *   resumes from it.
 */
export type MigrationErrorCode =
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_UNSUPPORTED'
  | 'SOURCE_FAILED'
  | 'TARGET_BUSY'
  | 'TARGET_FAILED';

/**
 * An error of the migrator. Its message never holds a password (every message goes through `maskSecrets`);
 * the driver's error, when there was one, is its `cause`. Contract errors of the backends (a target whose
 * schema is newer than this library, an unreachable server, invalid options) are thrown as they are.
 */
export class MigrationError extends Error {
  /** Stable machine-readable code. */
  readonly code: MigrationErrorCode;
  /** Marks errors of this package across copies of it; see `isInstance`. */
  readonly [MARKER] = true;

  constructor(code: MigrationErrorCode, message: string, options?: { cause?: unknown }) {
    super(maskSecrets(message), options);
    this.code = code;
    this.name = 'MigrationError';
  }

  /** True when `error` is a `MigrationError` from any copy of this package. */
  static isInstance(error: unknown): error is MigrationError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** The message of any thrown value, masked. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return maskSecrets(typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message);
}
