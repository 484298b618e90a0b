import { describe, expect, test } from 'vitest';
import { conformanceCases, runConformanceCase } from '../src/conformance/index.js';
import { InMemoryConversationMemory } from '../src/index.js';
import * as broken from './broken-variants.js';
import { failingCases } from './failing-cases.js';

type Variant = typeof InMemoryConversationMemory;

// One plain object, so the variants are looked up by name without indexing the module namespace.
const VARIANTS: Record<keyof typeof broken, Variant> = { ...broken };

/** Each broken backend and the cases that must fail on it (others may fail too). */
const CAUGHT_BY: [name: keyof typeof broken, cases: string[]][] = [
  [
    'CursorIgnoresSession',
    ['getHistoryPage - a cursor of another session is a ValidationError on before, not a page of it'],
  ],
  [
    'TiesOutOfOrder',
    ['getHistory - hundreds of messages in the same millisecond come back in insertion order'],
  ],
  ['MessageCountOffByOne', ['getSessions - messageCount and lastMessageAt are exact for every session']],
  [
    'ShallowMetadataCopy',
    ['getSession - returned metadata is a deep copy: mutating it changes nothing stored'],
  ],
  [
    'MetadataDropped',
    [
      'addMessage - metadata round trips by deep equality: nested objects',
      'addMessage - metadata round trips by deep equality: a 100 KB object',
    ],
  ],
  [
    'DeleteNotCascading',
    [
      'deleteSession - removes the session and exactly its messages, no others',
      'deleteSession - the ids of a deleted session and of its messages can be used again',
    ],
  ],
  [
    'ValidationSkipped',
    [
      'addMessage - refuses role: an empty string (ValidationError on role)',
      'addMessage - refuses content: U+0000 (ValidationError on content)',
      'addMessage - refuses metadata with a cycle (ValidationError on metadata.self)',
      'addMessage - refuses sessionId: 256 characters (ValidationError on sessionId)',
    ],
  ],
  [
    'LoneSurrogatesReplaced',
    ['addMessage - refuses content: a lone high surrogate (ValidationError on content)'],
  ],
  ['CloseNotIdempotent', ['close - is idempotent: a second close and concurrent closes resolve']],
  [
    'UseAfterCloseAllowed',
    [
      'addMessage - after close throws MemoryClosedError',
      'getSessions - after close throws MemoryClosedError',
    ],
  ],
  ['LimitIgnored', ['getHistory - limit returns the last limit messages, still oldest first']],
  ['TieBreakAscending', ['getSessions - ties on updatedAt are broken by id, descending']],
  ['ActivityIgnored', ['getSessions - a new message or a title change moves a session to the front']],
  ['DefaultLimitWrong', ['getSessions - limit defaults to 50']],
  ['PagingSkipsOne', ['getSessions - consecutive pages neither overlap nor skip']],
  [
    'DuplicateSessionIdAccepted',
    ['createSession - a duplicate caller-supplied id throws ConflictError and changes nothing'],
  ],
  [
    'ConflictStillWrites',
    ['addMessage - a duplicate caller-supplied id throws ConflictError and writes nothing'],
  ],
  [
    'OrphanOnMissingSession',
    ['addMessage - to a missing session throws SessionNotFoundError and stores nothing'],
  ],
  [
    'WritesNotQueued',
    [
      'addMessage - 200 concurrent calls on one session all land, with distinct ids, exactly, in call order',
      'addMessage - two un-awaited calls keep call order, every time',
    ],
  ],
  [
    'LocalTimeShift',
    [
      'addMessage - timestamps are unchanged when TZ is Pacific/Kiritimati while writing and reading',
      'addMessage - timestamps are unchanged when TZ is America/Adak while writing and reading',
    ],
  ],
  [
    'SecondPrecision',
    ["addMessage - createdAt is a Date equal to the clock's time, and the session's activity follows it"],
  ],
  ['ContentTrimmed', ['addMessage - content round trips exactly: leading and trailing whitespace']],
  [
    'HistoryPageSkips',
    ['getHistoryPage - pages backwards from the latest messages, oldest first within each page'],
  ],
  ['OwnerLeak', ["forOwner - another owner's session behaves as if it did not exist"]],
  [
    'ImportPartialWrite',
    ['importRecords - a message whose session is missing is refused and nothing is written'],
  ],
  [
    'ImportCountsSkippedAsWritten',
    ['importRecords - importing the same records again writes 0 and skips every one'],
  ],
];

/**
 * Variants only the view mode catches (their leak needs a view and another owner's rows), with the view-mode
 * cases that must fail on them; the store mode must pass them entirely, which shows what the view run adds.
 */
const CAUGHT_ONLY_ON_VIEWS: [name: keyof typeof broken, cases: string[]][] = [
  [
    'OwnerScopeLostAfterFirstPage',
    [
      'getSessions - limit and offset select exactly that slice of the full order',
      'getSessions - consecutive pages neither overlap nor skip',
      'getSessions - an offset past the end returns []',
    ],
  ],
];

/** Variants the model-based case catches on its own, with a fixed seed (it compares with the reference). */
const CAUGHT_BY_MODEL: (keyof typeof broken)[] = [
  'TiesOutOfOrder',
  'MessageCountOffByOne',
  'MetadataDropped',
  'DeleteNotCascading',
  'ValidationSkipped',
  'TieBreakAscending',
  'ActivityIgnored',
  'PagingSkipsOne',
  'DuplicateSessionIdAccepted',
  'OrphanOnMissingSession',
  'SecondPrecision',
];

const factoryOf =
  (Variant: Variant) =>
  ({ clock }: { clock?: () => Date }) =>
    new Variant({ clock });

describe('the suite fails on broken backends', () => {
  test('every case named here exists in the suite, and every variant is listed', () => {
    const names = new Set(conformanceCases.map((c) => c.name));
    for (const [, cases] of CAUGHT_BY) for (const name of cases) expect(names, name).toContain(name);
    for (const [, cases] of CAUGHT_ONLY_ON_VIEWS)
      for (const name of cases) expect(names, name).toContain(name);
    expect([...CAUGHT_BY, ...CAUGHT_ONLY_ON_VIEWS].map(([variant]) => variant).sort()).toEqual(
      Object.keys(broken).sort(),
    );
    expect(CAUGHT_BY.length).toBeGreaterThanOrEqual(8);
  });

  test('the reference backend fails no case (so failures below are the variants, not the harness)', async () => {
    expect(await failingCases(factoryOf(InMemoryConversationMemory), { modelSeed: 1 })).toEqual([]);
  }, 120_000);

  for (const [name, cases] of CAUGHT_BY) {
    test(`${name} is caught by: ${cases.join('; ')}`, async () => {
      const failed = await failingCases(factoryOf(VARIANTS[name]), { modelSeed: 1 });
      expect(failed.length).toBeGreaterThan(0);
      for (const expected of cases) expect(failed).toContain(expected);
    }, 120_000);
  }

  for (const [name, cases] of CAUGHT_ONLY_ON_VIEWS) {
    test(`${name} passes the store run but the view run catches it: ${cases.join('; ')}`, async () => {
      const factory = factoryOf(VARIANTS[name]);
      expect(await failingCases(factory, { modelSeed: 1 }, 'store')).toEqual([]);
      const failed = await failingCases(factory, { modelSeed: 1 }, 'view');
      for (const expected of cases) expect(failed).toContain(expected);
    }, 240_000);
  }

  const model = conformanceCases.find((c) => c.name.startsWith('all methods - random operation sequences'))!;
  for (const name of CAUGHT_BY_MODEL) {
    test(`the model-based case alone catches ${name}`, async () => {
      await expect(runConformanceCase(model, factoryOf(VARIANTS[name]), { modelSeed: 1 })).rejects.toThrow(
        /Property failed/,
      );
    }, 120_000);
  }
});
