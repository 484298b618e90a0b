import { describe, test } from 'vitest';
import {
  conformanceCases,
  runConformanceCase,
  type SharedDatabase,
  skipReasonOf,
} from '../src/conformance/index.js';
import { type ConversationMemory, InMemoryConversationMemory, MemoryClosedError } from '../src/index.js';

/**
 * One in-memory store seen through several "instances", each with its own closed state and its own pending
 * writes, as connections to one database would be. The in-memory backend has no database to share, so this
 * double is how the suite's shared-database cases get exercised in this package.
 */
function sharedInMemory(): SharedDatabase {
  const database = new InMemoryConversationMemory();
  return {
    async open() {
      let closed = false;
      const pending = new Set<Promise<unknown>>();
      return new Proxy(database, {
        get(target, property) {
          if (property === 'close') {
            return async () => {
              closed = true;
              await Promise.allSettled([...pending]);
            };
          }
          const value = Reflect.get(target, property, target);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (closed) {
              if (property === 'forOwner' || property === 'exportRecords') throw new MemoryClosedError();
              return Promise.reject(new MemoryClosedError());
            }
            const result = value.apply(target, args);
            if (result instanceof Promise) {
              pending.add(result);
              void result.then(
                () => pending.delete(result),
                () => pending.delete(result),
              );
            }
            return result;
          };
        },
      }) as ConversationMemory;
    },
    destroy: () => database.close(),
  };
}

const options = { openShared: async () => sharedInMemory() };
const sharedCases = conformanceCases.filter((c) => c.needs?.includes('sharedDatabase'));

for (const mode of ['store', 'view'] as const) {
  describe(`shared-database cases, on an in-memory double (${mode} mode)`, () => {
    test('there are shared-database cases, and none of them is skipped once openShared is given', () => {
      if (sharedCases.length < 5) throw new Error(`only ${sharedCases.length} shared-database cases`);
      for (const c of sharedCases) {
        // On views, only the case about initialising an empty database does not apply (the seed fills it).
        if (mode === 'view' && c.onView && 'skip' in c.onView) continue;
        if (skipReasonOf(c, options, mode) !== undefined) throw new Error(c.name);
      }
    });
    for (const testCase of sharedCases) {
      test(testCase.name, async (context) => {
        const result = await runConformanceCase(
          testCase,
          ({ clock }) => new InMemoryConversationMemory({ clock }),
          options,
          mode,
        );
        if (result.status === 'skipped') context.skip(result.reason);
      });
    }
  });
}
