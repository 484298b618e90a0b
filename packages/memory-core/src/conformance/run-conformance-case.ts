import type { Clock } from '../clock.js';
import type { ConversationMemory } from '../conversation-memory.js';
import { CONFORMANCE_CAPABILITIES } from './capabilities.js';
import type { ConformanceCase, ConformanceContext } from './conformance-case.js';
import {
  CONFORMANCE_DEFAULTS,
  type ConformanceFactory,
  type ConformanceOptions,
  type SharedDatabase,
} from './conformance-options.js';
import { FakeClock } from './fake-clock.js';

/**
 * Why `testCase` cannot run against a backend with these options, or `undefined` when it can: the reason the
 * backend gave for a capability it lacks, or the standard reason when a shared database is needed and
 * `openShared` is absent.
 */
export function skipReasonOf(
  testCase: ConformanceCase,
  options: ConformanceOptions = {},
): string | undefined {
  for (const capability of testCase.needs ?? []) {
    const reason = options.skip?.[capability];
    if (reason !== undefined) return reason || CONFORMANCE_CAPABILITIES[capability];
    if (capability === 'sharedDatabase' && !options.openShared) return CONFORMANCE_DEFAULTS.noSharedReason;
  }
  return undefined;
}

/**
 * Runs one case outside vitest's registration (the suite's own tests use it to prove cases fail on broken
 * backends): opens what the case asks for, runs it, then closes every store and destroys every shared
 * database, even when the case failed. Rejects with the case's failure, or with a failure to clean up.
 */
export async function runConformanceCase(
  testCase: ConformanceCase,
  factory: ConformanceFactory,
  options: ConformanceOptions = {},
): Promise<void> {
  const stores: ConversationMemory[] = [];
  const databases: SharedDatabase[] = [];
  const context: ConformanceContext = {
    clock: new FakeClock(),
    modelRuns: options.modelRuns ?? CONFORMANCE_DEFAULTS.modelRuns,
    modelSeed: options.modelSeed,
    async open(openOptions?: { clock?: Clock }) {
      const store = await factory(openOptions?.clock ? { clock: openOptions.clock } : {});
      stores.push(store);
      return store;
    },
    async openShared() {
      if (!options.openShared) throw new Error(`${testCase.name}: needs openShared, which was not given`);
      const database = await options.openShared();
      databases.push(database);
      return {
        open: async () => {
          const store = await database.open();
          stores.push(store);
          return store;
        },
        destroy: () => database.destroy(),
      };
    },
  };
  let failure: { error: unknown } | undefined;
  try {
    await testCase.run(context);
  } catch (error) {
    failure = { error };
  }
  // Cleanup runs whatever happened, and a failing close() is a failure of its own (close is in the contract).
  for (const store of stores.reverse()) {
    try {
      await store.close();
    } catch (error) {
      failure ??= { error };
    }
  }
  for (const database of databases.reverse()) {
    try {
      await database.destroy();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
