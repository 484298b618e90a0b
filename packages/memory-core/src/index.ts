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
  ConnectionSettingError,
  type ConnectionSettingErrorKind,
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
  type MessageRecord,
  type PageRows,
  type Scope,
  type SearchRequest,
  type SessionRecord,
} from './base-memory.js';
export { type Clock, monotonic } from './clock.js';
export { CONTRACT_VERSION, type ConversationMemory } from './conversation-memory.js';
export { createMemory, type MemoryConfig, resolveMemoryConfig } from './create-memory.js';
export type { CursorBinding, HistoryPosition, SessionPosition } from './cursor.js';
export {
  BackendNotInstalledError,
  BackendUnavailableError,
  ConflictError,
  MemoryClosedError,
  MemoryError,
  type MemoryErrorCode,
  NotConversationMemoryError,
  ReadOnlyError,
  SchemaUpgradeRequiredError,
  SchemaVersionError,
  SessionNotFoundError,
  UnsupportedCapabilityError,
  ValidationError,
} from './errors.js';
export { InMemoryConversationMemory, type InMemoryMemoryOptions } from './in-memory/in-memory-memory.js';
export { compareSessionsByActivity, compareSessionsByCreation } from './in-memory/ordering.js';
export { inMemoryBackend } from './in-memory-backend.js';
export { KeyedQueue } from './keyed-queue.js';
export { maskSecrets } from './mask.js';
export {
  type ExportOptions,
  type ImportOptions,
  type ImportResult,
  PORTABLE_FORMAT_VERSION,
  type PortableMessage,
  type PortableRecord,
  type PortableSession,
  type StoreHealth,
} from './portable.js';
export { matchContent, snippetOf } from './search/match-message.js';
export { jsonContains } from './search/metadata-contains.js';
export { parseSearchQuery, type SearchTerm, UNSPACED_SCRIPT, wordsOf } from './search/search-query.js';
export {
  dateToIsoMicros,
  type IsoMicros,
  isoMicrosToDate,
  isoMicrosToNaive,
  parseTimestamp,
} from './timestamp.js';
export {
  DEFAULTS,
  type HistoryOptions,
  type HistoryPageOptions,
  type JsonValue,
  LIMITS,
  type ListSessionsOptions,
  type MemoryCapabilities,
  type Message,
  type Metadata,
  type NewMessage,
  type NewSession,
  type Page,
  type Role,
  type SearchHit,
  type SearchOptions,
  type Session,
  type SessionFilter,
  type SessionSummary,
  type SessionsPageOptions,
} from './types.js';
export {
  assertId,
  assertMetadata,
  assertText,
  assertTitle,
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
