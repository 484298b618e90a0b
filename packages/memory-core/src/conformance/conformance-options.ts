import type { Clock } from '../clock.js';
import type { ConversationMemory } from '../conversation-memory.js';
import type { ConformanceTrait } from './capabilities.js';
import type { ConformanceMode } from './conformance-case.js';

/** What the suite hands to a {@link ConformanceFactory}. */
export interface ConformanceFactoryContext {
  /**
   * The clock the store must take its timestamps from, when the case drives time itself; pass it as the
   * backend's `clock` option. `undefined` means the system clock.
   */
  clock?: Clock;
}

/**
 * Makes the store under test: a fresh, isolated, empty store on every call (a new temporary file, a new schema,
 * ...). The suite closes it after the case; `close()` must be idempotent.
 */
export type ConformanceFactory = (
  context: ConformanceFactoryContext,
) => ConversationMemory | Promise<ConversationMemory>;

/** One empty database that several store instances open at once. */
export interface SharedDatabase {
  /** Opens another store instance on this database. The suite closes it after the case. */
  open(): Promise<ConversationMemory>;
  /** Drops the database (file, schema); called after every instance is closed. */
  destroy(): Promise<void>;
}

/** Options of `runConformanceSuite`. */
export interface ConformanceOptions {
  /**
   * Traits the backend lacks, each with the reason shown in the skipped cases' names.
   * Example: `{ clock: 'timestamps are set by the server' }`. The store's own capabilities
   * (`metadataFilter`, `fullTextSearch`) are not declared here: the suite reads them from `store.capabilities`
   * (naming one here is an error).
   */
  skip?: Partial<Record<ConformanceTrait, string>>;
  /**
   * The modes to run; default both: every case on the factory's store (`store`), and again on an owner view of
   * it with another owner's data present (`view`). A mode left out is still registered, its cases skipped with
   * the reason, so a suite split over two test files (one mode each) runs in parallel and loses no case.
   */
  modes?: readonly ConformanceMode[];
  /**
   * Creates one empty database that several instances can open, for the cases about two instances on one
   * database. Without it those cases are skipped with the reason `no shared database (in-memory)`.
   */
  openShared?: () => Promise<SharedDatabase>;
  /** Timeout of each case in milliseconds; default 30,000 (slow cases get a multiple of it). */
  timeoutMs?: number;
  /** fast-check runs of the model-based case; default 25, so that SQL backends stay quick. */
  modelRuns?: number;
  /**
   * fast-check seed of the model-based case; default random. A failure prints the seed (and the shrunk
   * sequence), so setting it replays exactly that run.
   */
  modelSeed?: number;
}

/** Defaults of {@link ConformanceOptions}. */
export const CONFORMANCE_DEFAULTS = {
  /** Milliseconds per case. */
  timeoutMs: 30_000,
  /** fast-check runs of the model-based case. */
  modelRuns: 25,
  /** Reason given to the shared-database cases when `openShared` is absent. */
  noSharedReason: 'no shared database (in-memory)',
  /** The modes run by default. */
  modes: ['store', 'view'] as readonly ConformanceMode[],
  /** Reason given to the cases of a mode left out of `modes`. */
  modeNotSelectedReason: 'mode not selected in options.modes',
} as const;
