// What applications import: the contract, its types and errors, the factory and the in-memory store.
// Implementors import `@flux-rag/memory-core/backend` (and `/sql` for a Kysely dialect); backend tests
// import `@flux-rag/memory-core/conformance`.

export { ConnectionSettingError, type ConnectionSettingErrorKind } from './backend-registry.js';
export type { Clock } from './clock.js';
export { CONTRACT_VERSION, type ConversationMemory } from './conversation-memory.js';
export { createMemory, type MemoryConfig, resolveMemoryConfig } from './create-memory.js';
export {
  BackendNotInstalledError,
  BackendUnavailableError,
  ConflictError,
  type ConflictErrorOptions,
  type ConflictReason,
  type ErrorOptions,
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
export { inMemoryBackend } from './in-memory-backend.js';
export { messageDigest } from './message-digest.js';
export {
  type ExportOptions,
  type ImportOptions,
  type ImportResult,
  PORTABLE_FORMAT_VERSION,
  type PortableMessage,
  type PortableRecord,
  type PortableSession,
  READABLE_PORTABLE_FORMAT_VERSIONS,
  type StoreHealth,
} from './portable.js';
export type { IsoMicros } from './timestamp.js';
export {
  DEFAULTS,
  type HistoryOptions,
  type HistoryPageOptions,
  type JsonInput,
  type JsonValue,
  LIMITS,
  type ListSessionsOptions,
  type MemoryCapabilities,
  type Message,
  type MessageDigest,
  type Metadata,
  type NewMessage,
  type NewSession,
  type Page,
  type PurgeOptions,
  type PurgeResult,
  type RewriteInput,
  type RewriteResult,
  type Role,
  type SearchHit,
  type SearchOptions,
  type Session,
  type SessionFilter,
  type SessionSummary,
  type SessionsPageOptions,
  type UpdateSessionInput,
  type UpsertOptions,
  type UpsertResult,
} from './types.js';
