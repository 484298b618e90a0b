/**
 * The conformance suite of the `ConversationMemory` contract: one vitest suite that every backend, ours or a
 * third party's, runs with a factory of empty stores. See `runConformanceSuite`.
 *
 * @packageDocumentation
 */
export {
  CONFORMANCE_CAPABILITIES,
  CONFORMANCE_TRAITS,
  type ConformanceCapability,
  type ConformanceTrait,
  STORE_CAPABILITIES,
  type StoreCapability,
} from './capabilities.js';
export type {
  ConformanceArea,
  ConformanceCase,
  ConformanceContext,
  ConformanceMode,
  ConformanceViewVariant,
} from './conformance-case.js';
export { conformanceAreas, conformanceCases } from './conformance-cases.js';
export {
  CONFORMANCE_DEFAULTS,
  type ConformanceFactory,
  type ConformanceFactoryContext,
  type ConformanceOptions,
  type SharedDatabase,
} from './conformance-options.js';
export { type ExpectedError, expectMemoryError } from './expect-error.js';
export { FAKE_CLOCK_START, FakeClock } from './fake-clock.js';
export {
  expectOtherOwnersUnchanged,
  OTHER_OWNER,
  OTHER_OWNERS_RECORDS,
  type OtherOwnersSnapshot,
  SEEDED_MESSAGE_IDS,
  SEEDED_SESSION_IDS,
  seedOtherOwners,
  snapshotOtherOwners,
  VIEW_OWNER,
} from './owner-view-seed.js';
export {
  assertConformanceOptions,
  type ConformanceCaseResult,
  runConformanceCase,
  skipReasonOf,
} from './run-conformance-case.js';
export {
  CONFORMANCE_MODE_TITLES,
  type PlannedCase,
  planConformanceSuite,
  runConformanceSuite,
} from './run-conformance-suite.js';
export { allMessages, type StoreSnapshot, snapshotStore } from './store-snapshot.js';
export { FAR_TIME_ZONES, setTimeZone } from './time-zone.js';
