import { BackendUnavailableError, MemoryError, SessionNotFoundError } from '@flux-rag/memory-core';
import { MigrationError } from '@flux-rag/migrator';
import { describe, expect, it } from 'vitest';
import { CliError, describeError, describeErrorVerbose, EXIT, exitCodeOf, UsageError } from './cli-error.js';

describe('one error root', () => {
  it("the CLI's and the migrator's errors are MemoryErrors with their own codes, and take a cause", () => {
    const cause = new Error('underneath');
    const cli = new CliError('FILE_ERROR', 'x', { cause });
    const migration = new MigrationError('TARGET_BUSY', 'y', { cause });
    for (const error of [cli, migration, new UsageError('bad flag')]) {
      expect(error).toBeInstanceOf(MemoryError);
      expect(MemoryError.isInstance(error)).toBe(true);
      expect(MemoryError.isContractError(error)).toBe(false);
    }
    expect([cli.cause, migration.cause]).toEqual([cause, cause]);
    expect(MigrationError.isInstance(migration)).toBe(true);
    expect(MigrationError.isInstance(cli)).toBe(false);
    expect(describeError(migration)).toBe('TARGET_BUSY: y');
    expect(new UsageError('bad flag').name).toBe('UsageError');
  });
});

describe('error lines', () => {
  it('describeError - shows the contract code before the message', () => {
    expect(describeError(new SessionNotFoundError('abc'))).toBe(
      'SESSION_NOT_FOUND: Session not found: "abc"',
    );
  });

  it('describeError - folds a multi-line driver message into one line and masks passwords', () => {
    const error = new BackendUnavailableError(
      'cannot reach postgresql://app:hunter2@db/app\n  retry later\r\n',
    );
    expect(describeError(error)).toBe(
      'BACKEND_UNAVAILABLE: cannot reach postgresql://app:***@db/app retry later',
    );
  });

  it('describeError - keeps a system error code and handles non-errors', () => {
    const fs = Object.assign(new Error('EACCES: permission denied, open x'), { code: 'EACCES' });
    expect(describeError(fs)).toBe('EACCES: permission denied, open x');
    expect(describeError('plain text')).toBe('plain text');
  });

  it('describeErrorVerbose - prints the stack and the causes, masked', () => {
    const cause = new Error('password=hunter2 rejected');
    const text = describeErrorVerbose(new CliError('FILE_ERROR', 'outer', { cause }));
    expect(text).toMatch(/^CliError: outer\n\s+at /);
    expect(text).toContain('Caused by: Error: password=*** rejected');
    expect(text).not.toContain('hunter2');
  });

  it('exitCodeOf - 2 for usage errors, 1 for everything else', () => {
    expect(exitCodeOf(new UsageError('bad flag'))).toBe(EXIT.usage);
    expect(exitCodeOf(new CliError('UNHEALTHY', 'down'))).toBe(EXIT.failure);
    expect(exitCodeOf(new SessionNotFoundError('x'))).toBe(EXIT.failure);
    expect(exitCodeOf(new Error('boom'))).toBe(EXIT.failure);
  });
});
