import { expect } from 'vitest';
import { MemoryError, type MemoryErrorCode, ValidationError } from '../errors.js';

/** What a refused call must have thrown. */
export interface ExpectedError {
  /** The stable code. */
  code: MemoryErrorCode;
  /** For a `ValidationError`, the field it must name (exactly, or matching the pattern). */
  field?: string | RegExp;
}

/**
 * Runs `action`, which must fail with a contract error of the expected code (recognised through
 * `MemoryError.isInstance`, which works across two copies of the package), and returns that error. A
 * synchronous throw is accepted here; the lifecycle area checks separately that methods reject instead.
 */
export async function expectMemoryError(
  action: () => Promise<unknown> | AsyncIterable<unknown>,
  expected: ExpectedError,
): Promise<MemoryError> {
  const error = await failureOf(action);
  expect(error, `expected a ${expected.code} error, but the call succeeded`).not.toBe(NO_FAILURE);
  expect(error).toBeInstanceOf(Error);
  expect(MemoryError.isInstance(error), `not a MemoryError: ${String(error)}`).toBe(true);
  const memoryError = error as MemoryError;
  expect({ code: memoryError.code, message: memoryError.message }).toMatchObject({ code: expected.code });
  if (expected.field !== undefined) {
    expect(ValidationError.isInstance(memoryError)).toBe(true);
    const { field } = memoryError as ValidationError;
    if (typeof expected.field === 'string') expect(field).toBe(expected.field);
    else expect(field).toMatch(expected.field);
  }
  return memoryError;
}

const NO_FAILURE = Symbol('no failure');

/** The error `action` threw or rejected with (draining it when it is an async iterable), or `NO_FAILURE`. */
async function failureOf(action: () => Promise<unknown> | AsyncIterable<unknown>): Promise<unknown> {
  try {
    const result = action();
    if (isAsyncIterable(result)) {
      for await (const _ of result) {
        // drained only to reach the error
      }
    } else {
      await result;
    }
    return NO_FAILURE;
  } catch (error) {
    return error;
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Symbol.asyncIterator in value &&
    !(value instanceof Promise)
  );
}
