// `@flux-rag/memory-core/backend`: what a backend author needs beyond the application-facing contract. The base
// class with its hooks and the records they receive, the backend descriptor and registry (how `createMemory` and the
// CLI find a backend by name or connection string), and the helpers the bundled backends share (validators,
// timestamps, orderings, search matching, the write queue, secret masking).
export type {
  AnyBackendDescriptor,
  BackendDescriptor,
  ConnectionClaim,
  ConnectionForms,
  OpenAccess,
  ResolveInput,
} from './backend-descriptor.js';
export {
  acceptedForms,
  backendChoices,
  backendNames,
  type ClaimedLocation,
  claimConnectionString,
  findBackend,
  type LocationRequest,
  maskMalformed,
  parseConnectionString,
  type ResolvedLocation,
  resolveLocation,
  type SourcedValue,
} from './backend-registry.js';
export {
  BaseConversationMemory,
  type BaseMemoryOptions,
  declareCapabilities,
  type EncodedMessage,
  type HistoryRead,
  type HistoryRow,
  type MessageRecord,
  type MessageRow,
  type MessageWrite,
  type OperationKey,
  type PageRows,
  type PurgeBatch,
  type PurgeBatchResult,
  type RewriteRequest,
  type Scope,
  type SearchRequest,
  type SessionListing,
  type SessionRecord,
  type SessionUpdate,
  type UpsertRequest,
} from './base-memory.js';
export { type Clock, monotonic } from './clock.js';
export type { CursorBinding, HistoryPosition, SessionPosition } from './cursor.js';
export { compareSessionsByActivity, compareSessionsByCreation } from './in-memory/ordering.js';
export { KeyedQueue } from './keyed-queue.js';
export { maskSecrets } from './mask.js';
export { messageDigest } from './message-digest.js';
export { type RecordedOperation, replayOperation } from './operations.js';
export { OwnerView, type ScopedOperations } from './owner-view.js';
export { matchContent, snippetOf } from './search/match-message.js';
export { jsonContains } from './search/metadata-contains.js';
export { parseSearchQuery, type SearchTerm, UNSPACED_SCRIPT, wordsOf } from './search/search-query.js';
export { applySessionUpdate, mergePatch } from './session-update.js';
export {
  dateTimeFieldsToMillis,
  dateToIsoMicros,
  fractionDigitsToMillis,
  type IsoMicros,
  isoMicrosToDate,
  isoMicrosToNaive,
  parseTimestamp,
} from './timestamp.js';
export {
  assertFormat,
  assertId,
  assertMetadata,
  assertPayload,
  assertText,
  assertTitle,
  digestOf,
  encodeMessage,
  isStorableText,
  type ListingView,
  validateExportOptions,
  validateHistoryOptions,
  validateHistoryPageOptions,
  validateImportOptions,
  validateListSessionsOptions,
  validateNewMessage,
  validateNewSession,
  validatePortableRecord,
  validateSearchOptions,
  validateSessionFilter,
  validateSessionsPageOptions,
} from './validation.js';
