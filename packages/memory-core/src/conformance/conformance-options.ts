import type { Clock } from '../clock.js';
import type { ConversationMemory } from '../conversation-memory.js';
import type { ConformanceCapability } from './capabilities.js';

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
   * Capabilities the backend lacks, each with the reason shown in the skipped cases' names.
   * Example: `{ clock: 'timestamps are set by the server' }`.
   */
  skip?: Partial<Record<ConformanceCapability, string>>;
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
} as const;
