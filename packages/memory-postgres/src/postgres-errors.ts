import { BackendUnavailableError, MemoryError } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';

/** Node socket errors that mean the server cannot be reached or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that mean "try again later": class 08 (connection exception), 53 (insufficient resources, e.g.
 * too many connections), 57P01-57P05 (admin/crash shutdown, cannot connect now, idle session timeout) and
 * 57014 (statement cancelled by a timeout).
 */
function isUnavailableState(state: string): boolean {
  return state.startsWith('08') || state.startsWith('53') || /^57P0[1-5]$/.test(state) || state === '57014';
}

/** pg's own messages for a lost connection, a timed-out connect or query, and a pool that was ended. */
const UNAVAILABLE_MESSAGE =
  /connection terminated|connection timeout|timeout exceeded when trying to connect|query read timeout|not queryable|cannot use a pool after calling end|connection has been discarded|driver has already been destroyed|the database system is (starting up|shutting down|in recovery mode)/i;

/** True when `error` (or the error it wraps) says the server cannot be reached right now. */
export function isUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const { code, message, errors } = current as { code?: unknown; message?: unknown; errors?: unknown };
    if (
      typeof code === 'string' &&
      (NETWORK_CODES.has(code) || (code.length === 5 && isUnavailableState(code)))
    )
      return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    // Node's happy-eyeballs connect gives an AggregateError holding one error per address tried.
    if (Array.isArray(errors) && errors.some(isUnavailable)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Turns a pg or Kysely error into a contract error: `BackendUnavailableError` when the server cannot be
 * reached or dropped the connection, a generic `MemoryError` otherwise. The message names the database by
 * its masked `location` and is itself masked; the driver's error is kept as `cause`.
 */
export function mapPostgresError(error: unknown, location: string): MemoryError {
  if (MemoryError.isContractError(error)) return error;
  const detail = maskSecrets(describe(error));
  if (isUnavailable(error)) {
    return new BackendUnavailableError(`PostgreSQL at ${location} is unavailable: ${detail}`, {
      cause: error,
    });
  }
  return new MemoryError('MEMORY_ERROR', `PostgreSQL error at ${location}: ${detail}`, { cause: error });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as { code?: unknown };
  const message =
    error.message || (error instanceof AggregateError ? error.errors.map(describe).join('; ') : '');
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
