import { describe, expect, test } from 'vitest';
import type { MessagesTable, SessionsTable } from '../src/sql/database.js';
import {
  type ColumnSpec,
  columnsOf,
  dataColumns,
  dataSelectList,
  MESSAGES_TABLE,
  originalColumns,
  SESSIONS_TABLE,
  selectList,
} from '../src/sql/tables.js';

const text: ColumnSpec = { kind: 'text', nullable: false, origin: 'data', since: 1 };

describe('the table description', () => {
  test('fails to compile when a column of the Kysely types is missing or misspelt (checked by tsc)', () => {
    // @ts-expect-error -- every SessionsTable column but `id` is missing
    const missing = { id: text } satisfies { readonly [C in keyof SessionsTable]-?: ColumnSpec };
    const misspelt = {
      ...MESSAGES_TABLE,
      // @ts-expect-error -- `sesion_id` is not a column of MessagesTable
      sesion_id: text,
    } satisfies { readonly [C in keyof MessagesTable]-?: ColumnSpec };
    expect([missing, misspelt]).toHaveLength(2);
  });

  test('column lists come out in table order, filtered by what users need', () => {
    expect(columnsOf(SESSIONS_TABLE)).toEqual([
      'id',
      'title',
      'created_at',
      'updated_at',
      'metadata',
      'message_count',
      'last_message_at',
      'owner_id',
    ]);
    expect(originalColumns(MESSAGES_TABLE)).toEqual([
      'id',
      'session_id',
      'role',
      'content',
      'created_at',
      'metadata',
    ]);
    expect(originalColumns(SESSIONS_TABLE)).toEqual(['id', 'title', 'created_at', 'updated_at', 'metadata']);
    expect(dataColumns(SESSIONS_TABLE)).toEqual([
      'id',
      'title',
      'created_at',
      'updated_at',
      'metadata',
      'owner_id',
    ]);
    expect(dataColumns(MESSAGES_TABLE)).not.toContain('seq');
    // Schema version 7's columns are data: the migrator copies and verifies them.
    expect(dataColumns(MESSAGES_TABLE).slice(-3)).toEqual(['payload', 'format', 'digest']);
    expect(originalColumns(MESSAGES_TABLE)).not.toContain('payload');
  });

  test('a column added to a description flows into every list built from it', () => {
    const withTags = {
      ...SESSIONS_TABLE,
      tags: { kind: 'json', nullable: false, origin: 'data', since: 7 },
    } as const;
    expect(columnsOf(withTags).at(-1)).toBe('tags');
    expect(dataColumns(withTags)).toContain('tags');
    expect(originalColumns(withTags)).not.toContain('tags');
  });

  test('select lists: the columns asked for, in that order, each by the dialect, NULL where the schema predates it', () => {
    const expression = (column: string, spec: ColumnSpec) =>
      spec.kind === 'json' ? `${column}::text` : column;
    const since7 = (column: string) => SESSIONS_TABLE[column as keyof typeof SESSIONS_TABLE].since < 7;
    expect(selectList(SESSIONS_TABLE, ['metadata', 'id'], expression)).toBe('metadata::text, id');
    expect(dataSelectList(MESSAGES_TABLE, expression, (column) => MESSAGES_TABLE[column].since < 7)).toMatch(
      /, NULL, NULL, NULL$/,
    );
    expect(selectList(SESSIONS_TABLE, columnsOf(SESSIONS_TABLE), () => 'x', since7).split(', ')).toHaveLength(
      columnsOf(SESSIONS_TABLE).length,
    );
  });
});
