import { describe, expect, test } from 'vitest';
import {
  BackendNotInstalledError,
  BackendUnavailableError,
  ConflictError,
  MemoryClosedError,
  MemoryError,
  NotConversationMemoryError,
  ReadOnlyError,
  SchemaUpgradeRequiredError,
  SchemaVersionError,
  SessionNotFoundError,
  UnsupportedCapabilityError,
  ValidationError,
} from '../src/errors.js';

/**
 * What a second copy of the package in the same node_modules produces: a different class, same marker (a
 * registered symbol is shared by every copy) and same code.
 */
const MARKER: unique symbol = Symbol.for('@flux-rag/memory-core/error') as never;

class OtherCopyError extends Error {
  readonly [MARKER] = true;
  constructor(
    readonly code: string,
    readonly field?: string,
  ) {
    super(`copy: ${code}`);
  }
}

interface ErrorClass {
  readonly name: string;
  isInstance(error: unknown): boolean;
}

const EVERY_ERROR: [MemoryError, string, ErrorClass][] = [
  [new MemoryError('MEMORY_ERROR', 'm'), 'MEMORY_ERROR', MemoryError],
  [new SessionNotFoundError('s'), 'SESSION_NOT_FOUND', SessionNotFoundError],
  [new ValidationError('f', 'p'), 'VALIDATION_FAILED', ValidationError],
  [new ConflictError('session', 'i'), 'CONFLICT', ConflictError],
  [new MemoryClosedError(), 'MEMORY_CLOSED', MemoryClosedError],
  [new BackendUnavailableError('down'), 'BACKEND_UNAVAILABLE', BackendUnavailableError],
  [new SchemaVersionError('newer'), 'SCHEMA_VERSION_UNSUPPORTED', SchemaVersionError],
  [
    new BackendNotInstalledError('@flux-rag/memory-sqlite'),
    'BACKEND_NOT_INSTALLED',
    BackendNotInstalledError,
  ],
];

describe('errors', () => {
  test('each class has its stable code, its own name, and is an Error and a MemoryError', () => {
    for (const [error, code, Class] of EVERY_ERROR) {
      expect(error.code).toBe(code);
      expect(error.name).toBe(Class.name);
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(MemoryError);
      expect(MemoryError.isInstance(error)).toBe(true);
      expect(Class.isInstance(error)).toBe(true);
      expect(typeof error.stack).toBe('string');
    }
  });

  test("a subclass's isInstance recognises only its own code", () => {
    for (const [error] of EVERY_ERROR) {
      for (const [other, , Class] of EVERY_ERROR) {
        if (Class === MemoryError) continue;
        expect(Class.isInstance(error), `${Class.name}.isInstance(${error.name})`).toBe(
          error.code === other.code,
        );
      }
    }
  });

  test('isInstance recognises errors of another copy of the package, where instanceof fails', () => {
    const copy = new OtherCopyError('VALIDATION_FAILED', 'limit');
    expect(copy instanceof ValidationError).toBe(false);
    expect(MemoryError.isInstance(copy)).toBe(true);
    expect(ValidationError.isInstance(copy)).toBe(true);
    expect(SessionNotFoundError.isInstance(copy)).toBe(false);
    expect(SessionNotFoundError.isInstance(new OtherCopyError('SESSION_NOT_FOUND'))).toBe(true);
  });

  test('isInstance refuses look-alikes without the marker and non-objects', () => {
    const lookAlike = Object.assign(new Error('x'), { code: 'VALIDATION_FAILED', field: 'id' });
    for (const value of [lookAlike, { code: 'CONFLICT' }, null, undefined, 'CONFLICT', 42]) {
      expect(MemoryError.isInstance(value)).toBe(false);
      expect(ConflictError.isInstance(value)).toBe(false);
      expect(ValidationError.isInstance(value)).toBe(false);
    }
    expect(MemoryError.isInstance({ [Symbol.for('@flux-rag/memory-core/error')]: 'yes' })).toBe(false);
  });

  test('errors carry what the caller needs: ids, field, entity, package, cause', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new SessionNotFoundError('chat-1')).toMatchObject({ sessionId: 'chat-1' });
    expect(new SessionNotFoundError('chat-1').message).toContain('"chat-1"');
    expect(new ValidationError('metadata.a[2]', 'bad')).toMatchObject({ field: 'metadata.a[2]' });
    expect(new ValidationError('limit', 'must be positive').message).toBe('Invalid limit: must be positive');
    expect(new ConflictError('message', 'm-1')).toMatchObject({ entity: 'message', id: 'm-1' });
    const missing = new BackendNotInstalledError('@flux-rag/memory-postgres', { cause });
    expect(missing.packageName).toBe('@flux-rag/memory-postgres');
    expect(missing.message).toContain('npm install @flux-rag/memory-postgres');
    expect(missing.cause).toBe(cause);
    expect(new BackendUnavailableError('down', { cause }).cause).toBe(cause);
    expect(new MemoryError('MEMORY_ERROR', 'x').cause).toBeUndefined();
  });
});

describe('every error class takes { cause }', () => {
  const cause = new Error('the driver said no');
  const made: [string, MemoryError][] = [
    ['MemoryError', new MemoryError('MEMORY_ERROR', 'x', { cause })],
    ['SessionNotFoundError', new SessionNotFoundError('s', { cause })],
    ['ValidationError', new ValidationError('query', 'cannot be searched', { cause })],
    ['ConflictError', new ConflictError('session', 's', undefined, { cause })],
    ['MemoryClosedError', new MemoryClosedError({ cause })],
    ['BackendUnavailableError', new BackendUnavailableError('down', { cause })],
    ['SchemaVersionError', new SchemaVersionError('newer', { cause })],
    ['BackendNotInstalledError', new BackendNotInstalledError('p', { cause })],
    ['UnsupportedCapabilityError', new UnsupportedCapabilityError('search', undefined, { cause })],
    ['NotConversationMemoryError', new NotConversationMemoryError('f', [], 'why', { cause })],
    ['SchemaUpgradeRequiredError', new SchemaUpgradeRequiredError('old', 1, 6, { cause })],
    ['ReadOnlyError', new ReadOnlyError('ro', { cause })],
  ];
  test.each(made)('%s keeps its cause and still has its fields', (name, error) => {
    expect(error.name).toBe(name);
    expect(error.cause).toBe(cause);
  });

  test('without a cause, there is no cause property at all (as with a plain Error)', () => {
    expect('cause' in new ValidationError('limit', 'bad')).toBe(false);
    expect('cause' in new BackendUnavailableError('down', { cause: undefined })).toBe(false);
  });

  test('a subclass with its own closed code union is still recognised as a MemoryError', () => {
    class ToolError extends MemoryError<'TOOL_FAILED'> {}
    const error = new ToolError('TOOL_FAILED', 'x', { cause });
    expect(MemoryError.isInstance(error)).toBe(true);
    expect(error.code).toBe('TOOL_FAILED');
    expect(ValidationError.isInstance(error)).toBe(false);
    expect(MemoryError.isContractError(error)).toBe(false);
    expect(MemoryError.isContractError(new ValidationError('limit', 'bad'))).toBe(true);
    expect(MemoryError.isContractError(new OtherCopyError('CONFLICT'))).toBe(true);
  });
});

describe('init', () => {
  test('a failing schema setup reaches the caller as a contract error through mapError, and is retried', async () => {
    const { InMemoryConversationMemory, MemoryError } = await import('../src/index.js');
    let attempts = 0;
    class Unreachable extends InMemoryConversationMemory {
      protected override _init(): Promise<void> {
        attempts++;
        return Promise.reject(
          Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
        );
      }
    }
    const store = new Unreachable();
    const error = await store.init().catch((caught: unknown) => caught);
    expect(MemoryError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('ECONNREFUSED');
    await store.init().catch(() => undefined);
    expect(attempts).toBe(2);
  });
});
