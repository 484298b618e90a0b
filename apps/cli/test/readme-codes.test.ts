import { readFileSync } from 'node:fs';
import type { MemoryErrorCode } from '@flux-rag/memory-core';
import type { MigrationErrorCode } from '@flux-rag/migrator';
import { describe, expect, it } from 'vitest';
import { CLI_ERROR_CODES } from '../src/cli-error.js';

// Records keyed by the unions: adding a code to either union without listing it here fails the type check.
const CONTRACT: Record<MemoryErrorCode, true> = {
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
const MIGRATOR: Record<MigrationErrorCode, true> = {
  SOURCE_NOT_FOUND: true,
  SOURCE_UNSUPPORTED: true,
  SOURCE_FAILED: true,
  TARGET_BUSY: true,
  TARGET_FAILED: true,
};

/** The codes in the README's "Code in the error line" table. */
function documentedCodes(): Set<string> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('| Code in the error line |');
  expect(start, 'the README has the error-code table').toBeGreaterThan(0);
  const table = readme.slice(start).split('\n\n')[0]!;
  const codes = new Set<string>();
  for (const row of table.split('\n').slice(2)) {
    const first = row.split('|')[1] ?? '';
    for (const match of first.matchAll(/`([A-Z][A-Z_]+)`/g)) codes.add(match[1]!);
  }
  return codes;
}

describe('README error-code table', () => {
  it("lists every code the CLI can print: its own, the contract's and the migrator's", () => {
    const documented = documentedCodes();
    const every = [...CLI_ERROR_CODES, ...Object.keys(CONTRACT), ...Object.keys(MIGRATOR)];
    expect(every.filter((code) => !documented.has(code))).toEqual([]);
  });
});
