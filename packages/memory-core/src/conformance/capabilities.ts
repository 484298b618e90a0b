import type { MemoryCapabilities } from '../types.js';

/**
 * Traits of a backend that a store cannot report about itself, each with what it means. A backend that lacks
 * one declares it in `ConformanceOptions.skip` with a reason; the cases that need it are then registered as
 * skipped with that reason in their name, never left out.
 */
export const CONFORMANCE_TRAITS = {
  /**
   * The backend takes its timestamps from the `clock` the factory receives (`BaseMemoryOptions.clock`), so a
   * case can freeze or step time. A backend whose database sets timestamps itself (`DEFAULT now()`) lacks it.
   */
  clock: 'timestamps come from the injected clock',
  /**
   * Several store instances can open one database (`ConformanceOptions.openShared`). Skipped automatically
   * when `openShared` is not given, as for a purely in-process store.
   */
  sharedDatabase: 'several instances can open one database',
  /** Stores a 1 MB message and a 100 KB metadata object (a hosted store with small item limits may not). */
  largeValues: 'stores 1 MB content and 100 KB metadata',
} as const;

/** A key of {@link CONFORMANCE_TRAITS}: what `ConformanceOptions.skip` may name. */
export type ConformanceTrait = keyof typeof CONFORMANCE_TRAITS;

/**
 * The optional capabilities a store reports itself in `store.capabilities` (`MemoryCapabilities`), each with
 * what it means. The suite reads them from the store a case opens; a case needing one the store lacks is
 * reported as skipped with the reason, never as passed. Every key of `MemoryCapabilities` must be described
 * here (the `satisfies` fails the typecheck otherwise), so a new capability cannot go unchecked.
 */
export const STORE_CAPABILITIES = {
  /** `getSessions`/`getSessionsPage` accept `where.metadata` (`MemoryCapabilities.metadataFilter`). */
  metadataFilter: 'filters sessions by metadata containment',
  /** `searchMessages` works (`MemoryCapabilities.fullTextSearch`). */
  fullTextSearch: 'full-text search over messages',
  /** Messages' `payload` and `format` are stored and returned (`MemoryCapabilities.structuredMessages`). */
  structuredMessages: 'stores message payloads and formats',
  /**
   * Per-session message ids, `upsertMessages`, `rewriteHistory`, `deleteMessages`, `popMessage`,
   * `getHistoryDigests` and `operationId` (`MemoryCapabilities.historyEditing`).
   */
  historyEditing: 'edits history (upsert, rewrite, delete, pop, digests, operation ids)',
  /** `updateSession` works (`MemoryCapabilities.sessionUpdates`). */
  sessionUpdates: 'updates session title and metadata',
  /** `purgeSessions` works (`MemoryCapabilities.retention`). */
  retention: 'purges idle sessions',
} as const satisfies Record<keyof MemoryCapabilities, string>;

/** A key of {@link STORE_CAPABILITIES}, i.e. of `MemoryCapabilities`. */
export type StoreCapability = keyof MemoryCapabilities;

/** Everything a case may need: a trait declared by the backend's test or a capability read from the store. */
export const CONFORMANCE_CAPABILITIES = { ...CONFORMANCE_TRAITS, ...STORE_CAPABILITIES } as const;

/** A key of {@link CONFORMANCE_CAPABILITIES}. */
export type ConformanceCapability = ConformanceTrait | StoreCapability;

/** True when `need` is read from `store.capabilities` rather than declared in `ConformanceOptions.skip`. */
export function isStoreCapability(need: ConformanceCapability): need is StoreCapability {
  return Object.hasOwn(STORE_CAPABILITIES, need);
}

/** The reason shown for a case skipped because the store reports `capability` as `false`. */
export function missingCapabilityReason(capability: StoreCapability): string {
  return `the store reports capabilities.${capability} = false (${STORE_CAPABILITIES[capability]})`;
}
