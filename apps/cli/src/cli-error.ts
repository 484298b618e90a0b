import { MemoryError, type MemoryErrorCode } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';
import { visible } from './sanitize.js';

/** Exit codes of `flux-memory`; documented in the README, stable across versions. */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** It failed: a contract error, an unreachable or unhealthy database, a bad import file, a missing session. */
  failure: 1,
  /** It was called wrongly: unknown command or option, bad option value, contradictory configuration. */
  usage: 2,
} as const;

/**
 * Codes the CLI adds to the contract's `MemoryErrorCode`s and the migrator's `MigrationErrorCode`s; shown in
 * the error line (and the `code` of a `--json` error) like them. The README's table lists every one (a test
 * holds it to this list).
 */
export const CLI_ERROR_CODES = [
  'USAGE',
  'CONFIG_INVALID',
  'CONNECTION_STRING_INVALID',
  'DATABASE_NOT_FOUND',
  'FILE_ERROR',
  'IMPORT_FORMAT_INVALID',
  'IMPORT_FORMAT_UNSUPPORTED',
  'INVALID_RECORDS',
  'INVALID_ROWS',
  'VERIFY_FAILED',
  'UNHEALTHY',
  'DEMO_MISMATCH',
  'INTERRUPTED',
] as const;

/** One of {@link CLI_ERROR_CODES}: a code the CLI itself adds. */
export type CliOwnErrorCode = (typeof CLI_ERROR_CODES)[number];

/**
 * The codes a `CliError` carries: the CLI's own, or a contract code it relays with the place it was found (an
 * import file's line number, an option's name), as `VALIDATION_FAILED` for a bad record. Closed: nothing else.
 */
export type CliErrorCode = CliOwnErrorCode | MemoryErrorCode;

/**
 * An error the CLI reports as one line `error: CODE: message` and turns into its exit code. A `MemoryError`, so
 * `MemoryError.isInstance` recognises it like the contract's and the migrator's errors.
 */
export class CliError extends MemoryError<CliErrorCode> {
  /** The process exit code this error ends with. */
  readonly exitCode: number;

  constructor(code: CliErrorCode, message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options?.exitCode ?? EXIT.failure;
  }
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string, code: CliErrorCode = 'USAGE') {
    super(code, message, { exitCode: EXIT.usage });
  }
}

/** An error as `--json` reports it on stderr: its code and its one-line message. */
export interface ErrorReport {
  /** `CliErrorCode`, a contract or migrator code, a system code (`EACCES`), or `ERROR` when none is known. */
  code: string;
  /** One line, credentials masked, control characters shown as escapes. */
  message: string;
}

/**
 * The code and one-line message of an error: credentials masked, line breaks folded so that the line stays
 * one line whatever the driver said, and terminal control characters made visible (`\x1b`).
 */
export function errorReport(error: unknown): ErrorReport {
  let code: string | undefined;
  let message: string;
  // The contract's, the migrator's and the CLI's errors are all MemoryErrors, each with its closed code union.
  if (MemoryError.isInstance(error)) {
    code = error.code;
    message = error.message;
  } else if (error instanceof Error) {
    const sys = (error as NodeJS.ErrnoException).code;
    code = typeof sys === 'string' ? sys : undefined;
    message = error.message;
  } else {
    message = String(error);
  }
  let text = visible(
    maskSecrets(message)
      .replace(/\s*[\r\n]+\s*/g, ' ')
      .trim(),
  );
  if (code !== undefined && text.startsWith(`${code}: `)) text = text.slice(code.length + 2);
  return { code: code ?? 'ERROR', message: text };
}

/** The one line printed for an error, without the `error: ` prefix: `CODE: message` (see {@link errorReport}). */
export function describeError(error: unknown): string {
  const { code, message } = errorReport(error);
  return code === 'ERROR' && !(error instanceof CliError) ? message : `${code}: ${message}`;
}

/** The exit code an error ends the process with. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : EXIT.failure;
}

/** The stack and `cause` chain, for `--verbose`; masked like the error line. */
export function describeErrorVerbose(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const text = current instanceof Error ? (current.stack ?? current.message) : String(current);
    parts.push(depth === 0 ? text : `Caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return maskSecrets(parts.join('\n'));
}
