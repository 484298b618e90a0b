import { BackendUnavailableError, MemoryError, ValidationError } from '@flux-rag/memory-core';

/** What an error message may say about the database. */
export interface SqliteErrorContext {
  /** The file (or `:memory:`) the store uses. */
  location: string;
  /** The configured lock wait, for the message of a busy error. */
  busyTimeoutMs: number;
}

/** True for SQLite's "another connection holds the lock" codes (`SQLITE_BUSY*`, `SQLITE_LOCKED*`). */
export function isBusyError(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Turns a better-sqlite3 (or file system) error into a contract error, keeping it as `cause`:
 * - `SQLITE_BUSY*` / `SQLITE_LOCKED*` (still locked after the busy timeout), `SQLITE_CANTOPEN`, `SQLITE_IOERR*`,
 *   `SQLITE_FULL`, `SQLITE_READONLY*`, `SQLITE_PERM`, a closed handle, and `EACCES`/`ENOENT`/... from creating
 *   the folder: `BackendUnavailableError` (may work when retried later);
 * - `SQLITE_TOOBIG`: `ValidationError` on `record` (a value over SQLite's 1,000,000,000-byte limit);
 * - `SQLITE_NOTADB` / `SQLITE_CORRUPT*`: `MemoryError` `MEMORY_ERROR` saying the file is not a usable database;
 * - `SQLITE_CONSTRAINT*` and anything else: `MemoryError` `MEMORY_ERROR` with the driver's message.
 */
export function mapSqliteError(error: unknown, context: SqliteErrorContext): MemoryError {
  if (MemoryError.isContractError(error)) return error;
  const { location } = context;
  const message = error instanceof Error ? error.message : String(error);
  const code = sqliteCode(error);
  if (code === undefined) {
    if (error instanceof TypeError && /database connection is not open/i.test(message)) {
      return new BackendUnavailableError(`SQLite database ${location} was closed by its owner`, {
        cause: error,
      });
    }
    const osCode = (error as { code?: unknown } | null)?.code;
    if (typeof osCode === 'string' && /^E[A-Z]+$/.test(osCode)) {
      return new BackendUnavailableError(`SQLite database ${location} cannot be opened: ${message}`, {
        cause: error,
      });
    }
    return new MemoryError('MEMORY_ERROR', `SQLite error on ${location}: ${message}`, { cause: error });
  }
  if (isBusyError(error)) {
    return new BackendUnavailableError(
      `SQLite database ${location} is locked by another connection (${code}; busy timeout ` +
        `${context.busyTimeoutMs} ms)`,
      { cause: error },
    );
  }
  if (/^SQLITE_(CANTOPEN|IOERR|FULL|READONLY|PERM|PROTOCOL|NOLFS)/.test(code)) {
    return new BackendUnavailableError(`SQLite database ${location} cannot be used: ${message} (${code})`, {
      cause: error,
    });
  }
  if (code === 'SQLITE_TOOBIG') {
    const problem = "holds a value larger than SQLite's limit of 1,000,000,000 bytes (SQLITE_TOOBIG)";
    return new ValidationError('record', problem, { cause: error });
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new MemoryError(
      'MEMORY_ERROR',
      `${location} is not a usable SQLite database: ${message} (${code})`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return new MemoryError('MEMORY_ERROR', `SQLite refused a write to ${location}: ${message} (${code})`, {
      cause: error,
    });
  }
  return new MemoryError('MEMORY_ERROR', `SQLite error on ${location}: ${message} (${code})`, {
    cause: error,
  });
}

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}
