import type { Clock } from '../clock.js';
import type { ConversationMemory } from '../conversation-memory.js';
import type { ConformanceCapability } from './capabilities.js';
import type { SharedDatabase } from './conformance-options.js';
import type { FakeClock } from './fake-clock.js';

/**
 * How the suite reaches the store under test. `store`: the factory's store itself. `view`: an owner view of it,
 * `store.forOwner(VIEW_OWNER)`, on a database that also holds another owner's and unowned sessions and
 * messages (written through the unscoped store before the case, and checked unchanged after it).
 */
export type ConformanceMode = 'store' | 'view';

/** What a case gets to work with; everything it opens is closed (and destroyed) after it. */
export interface ConformanceContext {
  /**
   * Opens a fresh store through the factory and returns the store under test: that store in `store` mode, its
   * owner view (with the other owners' data present) in `view` mode. With `clock`, the store takes its
   * timestamps from it (only in cases that need the `clock` trait).
   */
  open(options?: { clock?: Clock }): Promise<ConversationMemory>;
  /**
   * Creates a database that several instances can open (only in cases that need `sharedDatabase`); in `view`
   * mode each `open()` returns an owner view of a new instance, and the database holds the other owners' data.
   */
  openShared(): Promise<SharedDatabase>;
  /** A fake clock of this case alone, at {@link FAKE_CLOCK_START}; pass `clock.now` to `open`. */
  readonly clock: FakeClock;
  /** fast-check runs for the model-based case. */
  readonly modelRuns: number;
  /** fast-check seed for the model-based case, when the backend's test fixed one. */
  readonly modelSeed: number | undefined;
  /** The mode this run of the case is in. */
  readonly mode: ConformanceMode;
  /**
   * The owner the stores `open` returns are scoped to: `null` in `store` mode, `VIEW_OWNER` in `view` mode. A
   * case compares exported `ownerId`s and builds cursor bindings with it.
   */
  readonly ownerId: string | null;
  /**
   * The unscoped store behind a store `open` or a shared database returned: the store itself in `store` mode,
   * the store the view was taken from in `view` mode. For cases that must look past the view; the other owners'
   * data must still be unchanged after the case.
   */
  unscoped(store: ConversationMemory): ConversationMemory;
  /**
   * Closes a store `open` returned before the case ends (the model-based case opens one per run): in `view`
   * mode it first checks the other owners' data is unchanged, then closes the view and the store behind it,
   * and rejects when the check failed.
   */
  close(store: ConversationMemory): Promise<void>;
}

/** How a case runs in `view` mode when it cannot run there as written. */
export type ConformanceViewVariant =
  /**
   * The case adapted to a view, under its own name: typically checking that the view refuses what the case
   * does on the unscoped store (another owner's id, another owner's records).
   */
  | { readonly name: string; run(context: ConformanceContext): Promise<void> }
  /** The case does not apply to a view; it is registered as skipped with this reason in its name. */
  | { readonly skip: string };

/** One behaviour of the contract, checked against any backend. */
export interface ConformanceCase {
  /** `"<method> - <behaviour>"`, as shown in the test report. */
  readonly name: string;
  /**
   * What the case relies on. A trait (`clock`, `sharedDatabase`, `largeValues`) the backend's test declares
   * missing in `skip` skips it with that reason; a store capability (`metadataFilter`, `fullTextSearch`) is read
   * from `store.capabilities` of each store the case opens, and a missing one skips it with the reason.
   */
  readonly needs?: readonly ConformanceCapability[];
  /** The case's timeout is this many times the suite's `timeoutMs`; default 1. */
  readonly timeoutFactor?: number;
  /** Runs the case; throws (through vitest's `expect`) when the backend misbehaves. */
  run(context: ConformanceContext): Promise<void>;
  /** How the case runs in `view` mode; by default `run`, as is, on the owner view. */
  readonly onView?: ConformanceViewVariant;
}

/** Cases grouped by the area of behaviour they check, one source file per area. */
export interface ConformanceArea {
  /** The area's name, used as the `describe` block's title. */
  readonly name: string;
  /** The area's cases, in the order they are registered. */
  readonly cases: readonly ConformanceCase[];
}

/** The name and body a case runs under in `mode`, or the reason it does not apply there. */
export function caseInMode(
  testCase: ConformanceCase,
  mode: ConformanceMode,
): { name: string; run: ConformanceCase['run']; skip?: undefined } | { name: string; skip: string } {
  const variant = mode === 'view' ? testCase.onView : undefined;
  if (variant === undefined) return { name: testCase.name, run: (context) => testCase.run(context) };
  if ('skip' in variant) return { name: testCase.name, skip: variant.skip };
  return { name: variant.name, run: (context) => variant.run(context) };
}
