import type { Clock } from '../clock.js';
import type { ConversationMemory } from '../conversation-memory.js';
import type { ConformanceCapability } from './capabilities.js';
import type { SharedDatabase } from './conformance-options.js';
import type { FakeClock } from './fake-clock.js';

/** What a case gets to work with; everything it opens is closed (and destroyed) after it. */
export interface ConformanceContext {
  /**
   * Opens a fresh, empty store through the factory. With `clock`, the store takes its timestamps from it
   * (only in cases that need the `clock` capability).
   */
  open(options?: { clock?: Clock }): Promise<ConversationMemory>;
  /** Creates a database that several instances can open (only in cases that need `sharedDatabase`). */
  openShared(): Promise<SharedDatabase>;
  /** A fake clock of this case alone, at {@link FAKE_CLOCK_START}; pass `clock.now` to `open`. */
  readonly clock: FakeClock;
  /** fast-check runs for the model-based case. */
  readonly modelRuns: number;
  /** fast-check seed for the model-based case, when the backend's test fixed one. */
  readonly modelSeed: number | undefined;
}

/** One behaviour of the contract, checked against any backend. */
export interface ConformanceCase {
  /** `"<method> - <behaviour>"`, as shown in the test report. */
  readonly name: string;
  /** Capabilities the case relies on; it is skipped, with the backend's reason, when one is declared missing. */
  readonly needs?: readonly ConformanceCapability[];
  /** The case's timeout is this many times the suite's `timeoutMs`; default 1. */
  readonly timeoutFactor?: number;
  /** Runs the case; throws (through vitest's `expect`) when the backend misbehaves. */
  run(context: ConformanceContext): Promise<void>;
}

/** Cases grouped by the area of behaviour they check, one source file per area. */
export interface ConformanceArea {
  /** The area's name, used as the `describe` block's title. */
  readonly name: string;
  /** The area's cases, in the order they are registered. */
  readonly cases: readonly ConformanceCase[];
}
