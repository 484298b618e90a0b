import type { Clock } from '../clock.js';
import type { ConversationMemory } from '../conversation-memory.js';
import { MemoryClosedError } from '../errors.js';
import {
  CONFORMANCE_CAPABILITIES,
  CONFORMANCE_TRAITS,
  isStoreCapability,
  missingCapabilityReason,
} from './capabilities.js';
import {
  type ConformanceCase,
  type ConformanceContext,
  type ConformanceMode,
  caseInMode,
} from './conformance-case.js';
import {
  CONFORMANCE_DEFAULTS,
  type ConformanceFactory,
  type ConformanceOptions,
  type SharedDatabase,
} from './conformance-options.js';
import { FakeClock } from './fake-clock.js';
import {
  expectOtherOwnersUnchanged,
  type OtherOwnersSnapshot,
  seedOtherOwners,
  VIEW_OWNER,
} from './owner-view-seed.js';

/** How a case ended when it did not fail: run and passed, or skipped for a reason found at run time. */
export type ConformanceCaseResult = { status: 'passed' } | { status: 'skipped'; reason: string };

/**
 * Refuses options that name something other than a trait in `skip` (the store capabilities used to be declared
 * there; they are read from the store now, and a stale key must not be ignored silently) or an unknown mode.
 */
export function assertConformanceOptions(options: ConformanceOptions): void {
  for (const key of Object.keys(options.skip ?? {})) {
    if (Object.hasOwn(CONFORMANCE_TRAITS, key)) continue;
    throw new TypeError(
      Object.hasOwn(CONFORMANCE_CAPABILITIES, key)
        ? `options.skip.${key}: the suite reads ${key} from store.capabilities; remove it from skip`
        : `options.skip.${key}: not a trait of the suite (${Object.keys(CONFORMANCE_TRAITS).join(', ')})`,
    );
  }
  for (const mode of options.modes ?? []) {
    if (mode !== 'store' && mode !== 'view')
      throw new TypeError(`options.modes: unknown mode ${String(mode)}`);
  }
}

/**
 * Why `testCase` cannot run in `mode` against a backend with these options, known before it runs, or
 * `undefined` when it can: the mode left out of `options.modes`, the case not applying to a view, the reason
 * the backend gave for a trait it lacks, or the standard reason when a shared database is needed and
 * `openShared` is absent. Store capabilities are read from the store when the case opens it, so they are not
 * known here (see `runConformanceCase`).
 */
export function skipReasonOf(
  testCase: ConformanceCase,
  options: ConformanceOptions = {},
  mode: ConformanceMode = 'store',
): string | undefined {
  if (!(options.modes ?? CONFORMANCE_DEFAULTS.modes).includes(mode)) {
    return CONFORMANCE_DEFAULTS.modeNotSelectedReason;
  }
  const inMode = caseInMode(testCase, mode);
  if (inMode.skip !== undefined) return inMode.skip;
  for (const capability of testCase.needs ?? []) {
    if (isStoreCapability(capability)) continue;
    const reason = options.skip?.[capability];
    if (reason !== undefined) return reason || CONFORMANCE_CAPABILITIES[capability];
    if (capability === 'sharedDatabase' && !options.openShared) return CONFORMANCE_DEFAULTS.noSharedReason;
  }
  return undefined;
}

/** Thrown into a case by `open` when the store lacks a capability the case needs; ends the case as skipped. */
class CapabilityMissing extends Error {}

/** An unscoped store opened for a `view`-mode case, with its seed snapshot to compare with at the end. */
interface SeededStore {
  store: ConversationMemory;
  /** What it held outside the view's owner after seeding; `undefined` for a shared database's instance. */
  seeded: OtherOwnersSnapshot | undefined;
  /** Handed to the case through `context.unscoped`, which may close it itself. */
  exposed: boolean;
}

/**
 * Runs one case in `mode` outside vitest's registration (the suite's own tests use it to prove cases fail on
 * broken backends): opens what the case asks for (in `view` mode: seeds the other owners' data through the
 * unscoped store and hands the case an owner view), runs it, checks the other owners' data is unchanged, then
 * closes every store and destroys every shared database, even when the case failed. Resolves with `passed`, or
 * with `skipped` and the reason when a store the case opened lacks a capability it needs (checked before the
 * case touches the store) or the case does not apply in `mode`; rejects with the case's failure, or with a
 * failure to clean up.
 */
export async function runConformanceCase(
  testCase: ConformanceCase,
  factory: ConformanceFactory,
  options: ConformanceOptions = {},
  mode: ConformanceMode = 'store',
): Promise<ConformanceCaseResult> {
  assertConformanceOptions(options);
  const inMode = caseInMode(testCase, mode);
  if (inMode.skip !== undefined) return { status: 'skipped', reason: inMode.skip };
  const stores: ConversationMemory[] = [];
  const databases: SharedDatabase[] = [];
  const seededStores: SeededStore[] = [];
  const unscopedOf = new Map<ConversationMemory, SeededStore>();
  /** Seed checks of shared databases: each opens one more instance and compares, at the end. */
  const sharedChecks: (() => Promise<void>)[] = [];
  let missing: string | undefined;

  /** Skips the case (through `CapabilityMissing`) when `store` lacks a capability the case needs. */
  const requireCapabilities = (store: ConversationMemory) => {
    for (const need of testCase.needs ?? []) {
      if (isStoreCapability(need) && store.capabilities?.[need] !== true) {
        missing ??= missingCapabilityReason(need);
        throw new CapabilityMissing(missing);
      }
    }
  };

  /**
   * In `view` mode: the owner view of an unscoped `store` the case will get, checked for capabilities before
   * `seed` (which seeds nothing for a case about to be skipped) runs and registers the store for the end check.
   */
  const viewOf = async (
    store: ConversationMemory,
    seed: () => Promise<OtherOwnersSnapshot | undefined>,
  ): Promise<ConversationMemory> => {
    const view = store.forOwner(VIEW_OWNER);
    requireCapabilities(view);
    const entry: SeededStore = { store, seeded: await seed(), exposed: false };
    if (entry.seeded) seededStores.push(entry);
    unscopedOf.set(view, entry);
    return view;
  };

  const context: ConformanceContext = {
    clock: new FakeClock(),
    modelRuns: options.modelRuns ?? CONFORMANCE_DEFAULTS.modelRuns,
    modelSeed: options.modelSeed,
    mode,
    ownerId: mode === 'view' ? VIEW_OWNER : null,
    async open(openOptions?: { clock?: Clock }) {
      const store = await factory(openOptions?.clock ? { clock: openOptions.clock } : {});
      stores.push(store);
      if (mode === 'store') {
        requireCapabilities(store);
        return store;
      }
      return viewOf(store, () => seedOtherOwners(store));
    },
    async openShared() {
      if (!options.openShared) throw new Error(`${testCase.name}: needs openShared, which was not given`);
      const database = await options.openShared();
      databases.push(database);
      let seeding: Promise<OtherOwnersSnapshot> | undefined;
      if (mode === 'view') {
        sharedChecks.push(async () => {
          if (!seeding) return;
          const seeded = await seeding;
          const checker = await database.open();
          try {
            await expectOtherOwnersUnchanged(checker, seeded);
          } finally {
            await checker.close();
          }
        });
      }
      return {
        open: async () => {
          const store = await database.open();
          stores.push(store);
          if (mode === 'store') {
            requireCapabilities(store);
            return store;
          }
          return viewOf(store, async () => {
            // The first instance seeds the database; later ones (even opened at once) wait for it. The end
            // check reads it through one more instance, so no instance is registered for it.
            seeding ??= seedOtherOwners(store);
            await seeding;
            return undefined;
          });
        },
        destroy: () => database.destroy(),
      };
    },
    unscoped(store: ConversationMemory) {
      if (mode === 'store') return store;
      const entry = unscopedOf.get(store);
      if (!entry) throw new Error(`${testCase.name}: unscoped() takes a store that open() returned`);
      entry.exposed = true;
      return entry.store;
    },
    async close(store: ConversationMemory) {
      const entry = mode === 'view' ? unscopedOf.get(store) : undefined;
      const root = entry?.store ?? store;
      let failure: { error: unknown } | undefined;
      if (entry?.seeded) {
        try {
          await expectOtherOwnersUnchanged(root, entry.seeded);
        } catch (error) {
          failure = { error };
        }
        seededStores.splice(seededStores.indexOf(entry), 1);
        entry.seeded = undefined;
      }
      if (root !== store) await store.close();
      await root.close();
      if (stores.includes(root)) stores.splice(stores.indexOf(root), 1);
      if (failure) throw failure.error;
    },
  };
  let failure: { error: unknown } | undefined;
  try {
    await inMode.run(context);
  } catch (error) {
    failure = { error };
  }
  if (missing === undefined) {
    // The other owners' data must be as seeded, whatever the case did through the view.
    for (const { store, seeded, exposed } of seededStores) {
      if (!seeded) continue;
      try {
        await expectOtherOwnersUnchanged(store, seeded);
      } catch (error) {
        // A case given the unscoped store may have closed it itself (the case about closing the store).
        if (!(exposed && MemoryClosedError.isInstance(error))) failure ??= { error };
      }
    }
    for (const check of sharedChecks) {
      try {
        await check();
      } catch (error) {
        failure ??= { error };
      }
    }
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
  if (missing !== undefined) return { status: 'skipped', reason: missing };
  if (failure) throw failure.error;
  return { status: 'passed' };
}
