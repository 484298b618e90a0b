import type { OperationKey } from './base-memory.js';
import { ConflictError } from './errors.js';

/** An operation a backend recorded: the digest of its request and its result. */
export interface RecordedOperation<T> {
  requestDigest: string;
  result: T;
}

/**
 * The first step of an edit with an `operationId`, for a backend to call inside its transaction once it has read
 * the recorded operation of that id on that session (`undefined` when none): returns the recorded result when the
 * request is the same (the edit is then a replay and must change nothing), `undefined` when there is no operation
 * or none recorded (the edit proceeds and records it), and throws `ConflictError` (reason `'operation-reused'`)
 * when the id was recorded for another request.
 */
export function replayOperation<T>(
  sessionId: string,
  operation: OperationKey | undefined,
  recorded: RecordedOperation<T> | undefined,
): T | undefined {
  if (operation === undefined || recorded === undefined) return undefined;
  if (recorded.requestDigest !== operation.requestDigest) {
    throw new ConflictError('history', sessionId, undefined, { reason: 'operation-reused' });
  }
  return recorded.result;
}
