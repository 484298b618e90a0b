/**
 * The optional capabilities a backend may lack, each with what it means. A backend declares a missing one in
 * `ConformanceOptions.skip` with a reason; the cases that need it are then reported as skipped with that
 * reason, never left out.
 */
export const CONFORMANCE_CAPABILITIES = {
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
  /** `getSessions`/`getSessionsPage` accept `where.metadata` (`MemoryCapabilities.metadataFilter`). */
  metadataFilter: 'filters sessions by metadata containment',
  /** `searchMessages` works (`MemoryCapabilities.fullTextSearch`). */
  fullTextSearch: 'full-text search over messages',
} as const;

/** A key of {@link CONFORMANCE_CAPABILITIES}. */
export type ConformanceCapability = keyof typeof CONFORMANCE_CAPABILITIES;
