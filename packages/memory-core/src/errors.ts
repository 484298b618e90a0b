const MARKER = Symbol.for('@flux-rag/memory-core/error');

/** Stable error codes. Messages may change between versions; codes do not. */
export type MemoryErrorCode =
  | 'MEMORY_ERROR'
  | 'SESSION_NOT_FOUND'
  | 'VALIDATION_FAILED'
  | 'CONFLICT'
  | 'MEMORY_CLOSED'
  | 'BACKEND_UNAVAILABLE'
  | 'SCHEMA_VERSION_UNSUPPORTED'
  | 'BACKEND_NOT_INSTALLED'
  | 'CAPABILITY_UNSUPPORTED'
  | 'NOT_CONVERSATION_MEMORY'
  | 'SCHEMA_UPGRADE_REQUIRED'
  | 'READ_ONLY';

/** Every {@link MemoryErrorCode} (keyed by the union, so a new code must be added here). */
const MEMORY_ERROR_CODES: Readonly<Record<MemoryErrorCode, true>> = {
  MEMORY_ERROR: true,
  SESSION_NOT_FOUND: true,
  VALIDATION_FAILED: true,
  CONFLICT: true,
  MEMORY_CLOSED: true,
  BACKEND_UNAVAILABLE: true,
  SCHEMA_VERSION_UNSUPPORTED: true,
  BACKEND_NOT_INSTALLED: true,
  CAPABILITY_UNSUPPORTED: true,
  NOT_CONVERSATION_MEMORY: true,
  SCHEMA_UPGRADE_REQUIRED: true,
  READ_ONLY: true,
};

/** Options every error class of the packages takes: the error that led to it, kept as `cause`. */
export interface ErrorOptions {
  /** The underlying error (a driver's, a parser's, a contract error being relayed), when there was one. */
  cause?: unknown;
}

/**
 * Base of every error the packages throw: the contract's (codes in {@link MemoryErrorCode}), and, through
 * subclasses with their own closed code unions, the migrator's `MigrationError` and the CLI's `CliError`. Check
 * with `MemoryError.isInstance(e)` (or a subclass's `isInstance`, which narrows `code` to its union) rather than
 * `instanceof`: it also recognises errors from a second copy of a package in the same `node_modules`. The
 * underlying error, when there was one, is kept as `cause`.
 */
export class MemoryError<Code extends string = MemoryErrorCode> extends Error {
  /** Stable machine-readable code. */
  readonly code: Code;
  /** Marks errors of these packages across copies of them; see `isInstance`. */
  readonly [MARKER] = true;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * True when `error` is a `MemoryError` (or a subclass: the migrator's and the CLI's errors too) from any copy
   * of these packages. Its `code` is then a string; narrow with a subclass's `isInstance` for a closed union.
   */
  static isInstance(error: unknown): error is MemoryError<string> {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }

  /**
   * True when `error` is a contract error (a `MemoryError` whose code is a {@link MemoryErrorCode}) from any copy
   * of this package: what a backend may rethrow as it is. The migrator's and the CLI's errors are not.
   */
  static isContractError(error: unknown): error is MemoryError {
    return MemoryError.isInstance(error) && Object.hasOwn(MEMORY_ERROR_CODES, error.code);
  }
}

function isCode<T extends MemoryError>(code: MemoryErrorCode) {
  // A contract code is only ever carried by a contract error: the subclasses' unions are disjoint from it.
  return (error: unknown): error is T => MemoryError.isInstance(error) && error.code === code;
}

/** A write named a session that does not exist (or, for an owner-scoped store, belongs to someone else). */
export class SessionNotFoundError extends MemoryError {
  /** The session id that was asked for. */
  readonly sessionId: string;
  constructor(sessionId: string, options?: ErrorOptions) {
    super('SESSION_NOT_FOUND', `Session not found: ${JSON.stringify(sessionId)}`, options);
    this.sessionId = sessionId;
  }
  /** True when `error` is a `SessionNotFoundError` from any copy of this package. */
  static override isInstance = isCode<SessionNotFoundError>('SESSION_NOT_FOUND');
}

/** An argument broke the contract. `field` names it, as a path such as `metadata.sources[2]`. */
export class ValidationError extends MemoryError {
  /** The argument (or path inside it) that was refused. */
  readonly field: string;
  constructor(field: string, problem: string, options?: ErrorOptions) {
    super('VALIDATION_FAILED', `Invalid ${field}: ${problem}`, options);
    this.field = field;
  }
  /** True when `error` is a `ValidationError` from any copy of this package. */
  static override isInstance = isCode<ValidationError>('VALIDATION_FAILED');
}

/**
 * Why a {@link ConflictError} was thrown:
 * - `'exists'`: a caller-chosen session or message id is already used (for a message: in that session, by a
 *   different message);
 * - `'expected-ids'`: `rewriteHistory`'s `expectedIds` or `expectedDigests` differ from the messages it would remove;
 * - `'after-missing'`: `rewriteHistory`'s `after` is not in the session's history;
 * - `'last-id'`: `upsertMessages`' `ifLastId` is not the id of the session's latest message;
 * - `'operation-reused'`: an `operationId` already used on the session for a different request;
 * - `'if-metadata'`: `updateSession`'s `ifMetadata` is not contained in the session's metadata.
 */
export type ConflictReason =
  | 'exists'
  | 'expected-ids'
  | 'after-missing'
  | 'last-id'
  | 'operation-reused'
  | 'if-metadata';

/** Options of {@link ConflictError}: the cause, and why (default `'exists'`). */
export interface ConflictErrorOptions extends ErrorOptions {
  /** Why the write conflicted; default `'exists'`. */
  reason?: ConflictReason;
}

/**
 * A write conflicted with what is stored, and nothing was written (see {@link ConflictReason}): a caller-supplied
 * id is already used by another session or message, or (for a session) still referenced by orphan messages of a
 * legacy file, which a new session of that id would adopt; or a precondition of a history or session edit does
 * not hold. The message names only ids the caller gave, never another session's or owner's.
 */
export class ConflictError extends MemoryError {
  /**
   * `'session'` or `'message'` (the id is theirs), or `'history'` (a precondition on a session's history; the id
   * is the session's).
   */
  readonly entity: 'session' | 'message' | 'history';
  /** The id that was already taken, or the session whose history or metadata did not match. */
  readonly id: string;
  /** Why the write conflicted. */
  readonly reason: ConflictReason;
  /** `why`, when given, replaces the reason's standard wording ("already exists" for `'exists'`). */
  constructor(
    entity: 'session' | 'message' | 'history',
    id: string,
    why?: string,
    options?: ConflictErrorOptions,
  ) {
    const reason = options?.reason ?? 'exists';
    const subject = entity === 'history' ? 'The history of session' : `A ${entity} with id`;
    super('CONFLICT', `${subject} ${JSON.stringify(id)} ${why ?? CONFLICT_WORDING[reason]}`, options);
    this.entity = entity;
    this.id = id;
    this.reason = reason;
  }
  /** True when `error` is a `ConflictError` from any copy of this package. */
  static override isInstance = isCode<ConflictError>('CONFLICT');
}

const CONFLICT_WORDING: Readonly<Record<ConflictReason, string>> = {
  exists: 'already exists',
  'expected-ids': 'does not end with the expected messages',
  'after-missing': 'does not contain the message to keep up to',
  'last-id': 'does not end with the expected message',
  'operation-reused': 'already recorded this operation id for a different request',
  'if-metadata': 'has metadata that does not contain the expected value',
};

/** The store was closed; every call after `close()` (except `close()` itself) throws this. */
export class MemoryClosedError extends MemoryError {
  constructor(options?: ErrorOptions) {
    super('MEMORY_CLOSED', 'The memory store is closed', options);
  }
  /** True when `error` is a `MemoryClosedError` from any copy of this package. */
  static override isInstance = isCode<MemoryClosedError>('MEMORY_CLOSED');
}

/**
 * The database cannot be reached (server down, network cut, pool ended, file locked past the busy timeout).
 * The call may succeed if retried later; the store stays usable.
 */
export class BackendUnavailableError extends MemoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('BACKEND_UNAVAILABLE', message, options);
  }
  /** True when `error` is a `BackendUnavailableError` from any copy of this package. */
  static override isInstance = isCode<BackendUnavailableError>('BACKEND_UNAVAILABLE');
}

/**
 * The database was written by a newer version of this library (its schema version is above the versions this
 * one knows). Nothing was written to it.
 */
export class SchemaVersionError extends MemoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('SCHEMA_VERSION_UNSUPPORTED', message, options);
  }
  /** True when `error` is a `SchemaVersionError` from any copy of this package. */
  static override isInstance = isCode<SchemaVersionError>('SCHEMA_VERSION_UNSUPPORTED');
}

/** `createMemory` chose a backend whose package is not installed; the message names the package. */
export class BackendNotInstalledError extends MemoryError {
  /** The npm package to install. */
  readonly packageName: string;
  constructor(packageName: string, options?: ErrorOptions) {
    super(
      'BACKEND_NOT_INSTALLED',
      `The backend package ${packageName} is not installed: npm install ${packageName}`,
      options,
    );
    this.packageName = packageName;
  }
  /** True when `error` is a `BackendNotInstalledError` from any copy of this package. */
  static override isInstance = isCode<BackendNotInstalledError>('BACKEND_NOT_INSTALLED');
}

/**
 * The store lacks an optional capability (see `MemoryCapabilities`) that the call needs: the backend has none,
 * or (`hint`) the database lacks it until something is done, such as upgrading its schema.
 */
export class UnsupportedCapabilityError extends MemoryError {
  /** The capability's name, a key of `MemoryCapabilities`. */
  readonly capability: string;
  /** `hint`, when given, replaces the generic "this backend does not support it" and says how to get it. */
  constructor(capability: string, hint?: string, options?: ErrorOptions) {
    super('CAPABILITY_UNSUPPORTED', hint ?? `This backend does not support ${capability}`, options);
    this.capability = capability;
  }
  /** True when `error` is an `UnsupportedCapabilityError` from any copy of this package. */
  static override isInstance = isCode<UnsupportedCapabilityError>('CAPABILITY_UNSUPPORTED');
}

/**
 * The database holds something other than a conversation memory (for SQLite: tables, but not `sessions` and
 * `messages` with at least the original Python columns). It was neither changed nor upgraded.
 */
export class NotConversationMemoryError extends MemoryError {
  /** The tables found in the database, sorted. */
  readonly tables: readonly string[];
  constructor(location: string, tables: readonly string[], why: string, options?: ErrorOptions) {
    super(
      'NOT_CONVERSATION_MEMORY',
      `${location} is not a conversation memory (${why}; tables found: ${tables.join(', ') || 'none'}); ` +
        'nothing was written to it',
      options,
    );
    this.tables = Object.freeze([...tables]);
  }
  /** True when `error` is a `NotConversationMemoryError` from any copy of this package. */
  static override isInstance = isCode<NotConversationMemoryError>('NOT_CONVERSATION_MEMORY');
}

/**
 * The database is at an older schema version than this library's and the store was told not to upgrade it
 * (SQLite's `upgrade: 'refuse'`). Nothing was written; the message says how to upgrade.
 */
export class SchemaUpgradeRequiredError extends MemoryError {
  /** The version the database is at. */
  readonly schemaVersion: number;
  /** The version this library would upgrade it to. */
  readonly latestVersion: number;
  constructor(message: string, schemaVersion: number, latestVersion: number, options?: ErrorOptions) {
    super('SCHEMA_UPGRADE_REQUIRED', message, options);
    this.schemaVersion = schemaVersion;
    this.latestVersion = latestVersion;
  }
  /** True when `error` is a `SchemaUpgradeRequiredError` from any copy of this package. */
  static override isInstance = isCode<SchemaUpgradeRequiredError>('SCHEMA_UPGRADE_REQUIRED');
}

/** A write was asked of a store opened read-only (SQLite's `readOnly: true`). Nothing was written. */
export class ReadOnlyError extends MemoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('READ_ONLY', message, options);
  }
  /** True when `error` is a `ReadOnlyError` from any copy of this package. */
  static override isInstance = isCode<ReadOnlyError>('READ_ONLY');
}
