/**
 * A JSON value as stored in metadata: what `JSON.parse(JSON.stringify(v))` gives back unchanged.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A JSON value as a caller may pass it as a message's `payload`: like {@link JsonValue}, but object properties
 * may be `undefined`, which is dropped as `JSON.stringify` drops it (the way framework objects such as the AI SDK's
 * `UIMessage` often carry optional fields). Read back as a {@link JsonValue} without those properties.
 */
export type JsonInput =
  | string
  | number
  | boolean
  | null
  | readonly JsonInput[]
  | { readonly [key: string]: JsonInput | undefined };

/**
 * Metadata attached to a session or a message: a plain JSON object. Backends return a fresh deep copy that
 * compares deeply equal to what was written; `{}` when none was given.
 */
export type Metadata = { [key: string]: JsonValue };

/**
 * Who wrote a message. The four well-known roles are typed; any other non-empty string (at most
 * {@link LIMITS.roleLength} characters) is accepted because legacy data holds roles such as `function`.
 */
export type Role = 'system' | 'user' | 'assistant' | 'tool' | (string & {});

/** A conversation, without its messages. */
export interface Session {
  /** Unique id, at most {@link LIMITS.idLength} characters (a UUID v4 unless the caller chose one). */
  readonly id: string;
  /** The title, or `null` when none was set. Legacy files may hold an empty string, which is returned as is. */
  readonly title: string | null;
  /** When the session was created, as a UTC `Date` with millisecond precision. */
  readonly createdAt: Date;
  /**
   * Latest activity: creation, or the latest write that changed the session's messages or title (a
   * metadata-only `updateSession` does not move it), whichever is last. `purgeSessions` compares it.
   */
  readonly updatedAt: Date;
  /** The session's metadata; `{}` when none was given. */
  readonly metadata: Metadata;
  /** The user or tenant the session belongs to, or `null` for a session created without an owner. */
  readonly ownerId: string | null;
}

/** A session as listed by `getSessions`: the session plus facts about its messages. */
export interface SessionSummary extends Session {
  /** Exact number of messages the session holds. */
  readonly messageCount: number;
  /** `createdAt` of the session's latest message, or `null` when it has none. */
  readonly lastMessageAt: Date | null;
}

/** One message of a session. */
export interface Message {
  /**
   * The message's id, unique within its session (the same id may be used in another session), at most
   * {@link LIMITS.idLength} characters.
   */
  readonly id: string;
  /** The session the message belongs to. */
  readonly sessionId: string;
  /** Who wrote it. */
  readonly role: Role;
  /** The text, stored and returned exactly (any length, any Unicode except U+0000 and lone surrogates). */
  readonly content: string;
  /** When it was added, as a UTC `Date` with millisecond precision; never earlier than the message before it. */
  readonly createdAt: Date;
  /** The message's metadata; `{}` when none was given. */
  readonly metadata: Metadata;
  /**
   * The structured message as the caller gave it (e.g. a framework's message object: parts, tool calls and
   * unknown fields included), as a fresh JSON value deep-equal to what was written, object properties that were
   * `undefined` left out; `null` when none was given (and for every message of a backend without the
   * `structuredMessages` capability).
   */
  readonly payload: JsonValue | null;
  /** A short tag naming the payload's shape (e.g. `ai-sdk/ui-message`), or `null` when none was given. */
  readonly format: string | null;
}

/** Input of `createSession`. Every field is optional. */
export interface NewSession {
  /** Title; default `null`. At most {@link LIMITS.titleLength} characters. */
  title?: string | null;
  /** Metadata; default `{}`. */
  metadata?: Metadata;
  /**
   * Caller-chosen id (1 to {@link LIMITS.idLength} characters); default a random UUID v4. An id already used is
   * a `ConflictError`.
   */
  id?: string;
  /**
   * The owner (user or tenant id, 1 to {@link LIMITS.idLength} characters); default `null`. A store opened with `forOwner(id)` sets
   * it itself and refuses any other value.
   */
  ownerId?: string | null;
}

/** Input of `addMessage`, and one message of `upsertMessages` and `rewriteHistory`. */
export interface NewMessage {
  /** Who wrote the message. */
  role: Role;
  /** The plain text, what search and legacy readers see; may be empty when the payload holds the message. */
  content: string;
  /** Metadata; default `{}`. */
  metadata?: Metadata;
  /**
   * Caller-chosen id (1 to {@link LIMITS.idLength} characters), unique within the session; default a random
   * UUID v4. For `addMessage`, an id already stored in the session with an equal message (same
   * {@link messageDigest}) resolves to that id without writing (a safe retry); with a different message it is a
   * `ConflictError`. For `upsertMessages`, a stored id is replaced in place.
   */
  id?: string;
  /**
   * The structured message: any JSON value (object properties that are `undefined` are dropped, as
   * `JSON.stringify` does), at most {@link LIMITS.payloadBytes} bytes of JSON text. `Date`, `Map`, `BigInt`,
   * typed arrays, non-finite numbers, functions and cycles are a `ValidationError` naming their path. Default
   * `null`. Needs the `structuredMessages` capability when not `null`.
   */
  payload?: JsonInput | null;
  /** A tag naming the payload's shape, 1 to {@link LIMITS.formatLength} characters; default `null`. */
  format?: string | null;
}

/** Options of `upsertMessages`. */
export interface UpsertOptions {
  /**
   * Makes the call idempotent: a second call on the same session with the same `operationId` and the same
   * request changes nothing and returns the first call's result, even if the history changed since; the same id
   * with a different request is a `ConflictError` (reason `'operation-reused'`). 1 to
   * {@link LIMITS.operationIdLength} characters; the latest {@link LIMITS.operationsKept} per session are kept.
   */
  operationId?: string;
  /**
   * Writes only if the session's latest message (in history order) has this id (`null`: only if its history is
   * empty); otherwise a `ConflictError` (reason `'last-id'`) and nothing is written.
   */
  ifLastId?: string | null;
}

/** What `upsertMessages` did. `appended + replaced + unchanged` is the number of messages given. */
export interface UpsertResult {
  /** The id of each message given, in the order given (chosen ids for those given without one). */
  ids: string[];
  /** Messages appended at the end of the history. */
  appended: number;
  /** Stored messages replaced in place. */
  replaced: number;
  /** Messages equal to the stored ones (same {@link messageDigest}), not written. */
  unchanged: number;
}

/** Input of `rewriteHistory`. */
export interface RewriteInput {
  /**
   * The id of the last message to keep: every message after it (in history order) is removed. `null` removes
   * every message. An id not in the session's history is a `ConflictError` (reason `'after-missing'`).
   */
  after: string | null;
  /**
   * When given, the ids of the messages that will be removed, in history order; any difference is a
   * `ConflictError` (reason `'expected-ids'`) and nothing changes (compare-and-swap on the suffix).
   */
  expectedIds?: readonly string[];
  /**
   * When given, the {@link messageDigest}s of the messages that will be removed, in history order; any difference
   * is a `ConflictError` (reason `'expected-ids'`) and nothing changes.
   */
  expectedDigests?: readonly string[];
  /** Messages appended after `after`, in order; they may reuse ids of the removed messages. */
  messages: readonly NewMessage[];
  /** As {@link UpsertOptions.operationId}. */
  operationId?: string;
}

/** What `rewriteHistory` did. */
export interface RewriteResult {
  /** Ids of the messages removed, in history order. */
  removed: string[];
  /** Ids of the messages appended, in the order given. */
  ids: string[];
}

/** A stored message's id and {@link messageDigest}, as `getHistoryDigests` returns them. */
export interface MessageDigest {
  readonly id: string;
  /** The digest of the stored message's fields (see `messageDigest`), 64 lowercase hex characters. */
  readonly digest: string;
}

/** Input of `updateSession`; fields left out are unchanged. */
export interface UpdateSessionInput {
  /** The new title (`null` clears it); moves `updatedAt` to now. */
  title?: string | null;
  /** Replaces the metadata. Not together with `metadataPatch`. */
  metadata?: Metadata;
  /**
   * Changes the metadata as a JSON Merge Patch (RFC 7396): keys set to `null` are removed, objects merge
   * recursively, anything else replaces. Not together with `metadata`.
   */
  metadataPatch?: Metadata;
  /**
   * Updates only if the current metadata contains this value (the `where.metadata` semantics, PostgreSQL's
   * `jsonb @>`), checked in the same transaction; otherwise a `ConflictError` (reason `'if-metadata'`) and
   * nothing changes.
   */
  ifMetadata?: Metadata;
}

/** Options of `purgeSessions`. */
export interface PurgeOptions {
  /** Sessions whose `updatedAt` is earlier than this are deleted, with their messages. */
  inactiveBefore: Date;
  /** Sessions deleted per transaction, 1 to {@link LIMITS.purgeBatchSize}; default {@link DEFAULTS.purgeBatchSize}. */
  batchSize?: number;
  /**
   * Stops between batches when aborted: the call rejects with the signal's reason; the batches already done
   * stay done.
   */
  signal?: AbortSignal;
}

/** What `purgeSessions` did. */
export interface PurgeResult {
  /** Sessions deleted. */
  sessions: number;
  /** Messages deleted with them. */
  messages: number;
  /**
   * Sessions kept because their `updatedAt` cannot be read (legacy files): every such session of the scope,
   * counted once, whatever its stored text sorts as; never purged.
   */
  unreadable: number;
}

/** Options of `getHistory`. */
export interface HistoryOptions {
  /**
   * Return only the last `limit` messages (still oldest first). An integer from 1 to {@link LIMITS.historyLimit};
   * default: the whole history.
   */
  limit?: number;
}

/** Which sessions a listing returns. */
export interface SessionFilter {
  /**
   * Only sessions whose metadata contains this JSON, with PostgreSQL's `jsonb @>` semantics: every key given is
   * present with a value that contains the given one (recursively); an array contains every element given, in
   * any order and position; scalars are equal. `{}` matches every session. Validated like metadata.
   */
  metadata?: Metadata;
}

/** Options of `getSessions`. */
export interface ListSessionsOptions {
  /** Page size, an integer from 1 to {@link LIMITS.sessionsLimit}; default {@link DEFAULTS.sessionsLimit}. */
  limit?: number;
  /** Sessions to skip, an integer from 0 to {@link LIMITS.offset}; default 0. */
  offset?: number;
  /** Only sessions matching this filter (the `metadataFilter` capability). */
  where?: SessionFilter;
}

/** Options of `searchMessages`. */
export interface SearchOptions {
  /** Only messages of this session. */
  sessionId?: string;
  /** Only messages with this role. */
  role?: string;
  /** Hits per page, 1 to {@link LIMITS.searchLimit}; default {@link DEFAULTS.searchLimit}. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
}

/** One message found by `searchMessages`. */
export interface SearchHit {
  /** The message, as `getHistory` returns it (its `sessionId` names the session). */
  readonly message: Message;
  /** Relevance: higher is better; comparable only within one result list of one backend. */
  readonly rank: number;
  /** An excerpt of the content around the matches, each match wrapped in `<mark>` and `</mark>` (not escaped). */
  readonly snippet: string;
}

/** Options of `getHistoryPage`. */
export interface HistoryPageOptions {
  /** Messages per page, 1 to {@link LIMITS.historyLimit}; default {@link DEFAULTS.pageLimit}. */
  limit?: number;
  /** The `nextCursor` of the previous page; omitted or `null` for the latest messages. */
  before?: string | null;
}

/** Options of `getSessionsPage`. */
export interface SessionsPageOptions {
  /** Sessions per page, 1 to {@link LIMITS.sessionsLimit}; default {@link DEFAULTS.sessionsLimit}. */
  limit?: number;
  /** The `nextCursor` of the previous page; omitted or `null` for the first page. */
  cursor?: string | null;
  /** Only sessions matching this filter (the `metadataFilter` capability). */
  where?: SessionFilter;
}

/** One page of a cursor listing. */
export interface Page<T> {
  /** The page's items, in the listing's order. */
  readonly items: T[];
  /** Opaque cursor of the next page, or `null` when this page is the last. Valid for the same store only. */
  readonly nextCursor: string | null;
}

/** Bounds enforced by validation, the same on every backend. */
export const LIMITS = {
  /** Longest session, message and owner id, in UTF-16 code units (provider ids are up to 54, prefixed ids more). */
  idLength: 255,
  /** Longest message `format` tag. */
  formatLength: 64,
  /** Longest `operationId`. */
  operationIdLength: 255,
  /** Largest message `payload`, in bytes of its JSON text (UTF-8): 32 MiB. */
  payloadBytes: 33_554_432,
  /** Deepest nesting of a payload's arrays and objects. */
  payloadDepth: 256,
  /** Largest `upsertMessages` or `rewriteHistory` call: the bytes of its messages' JSON text (64 MiB). */
  callBytes: 67_108_864,
  /** Most messages in one `upsertMessages` or `rewriteHistory` call (and ids in one `deleteMessages`). */
  callMessages: 10_000,
  /** Operations (`operationId`) remembered per session: the latest this many. */
  operationsKept: 1_000,
  /** Largest `purgeSessions` batch. */
  purgeBatchSize: 10_000,
  /** Longest role. */
  roleLength: 64,
  /** Longest title. */
  titleLength: 10_000,
  /** Largest `getHistory` limit. */
  historyLimit: 100_000,
  /** Largest `getSessions` limit. */
  sessionsLimit: 1_000,
  /** Largest `getSessions` offset (PostgreSQL's and SQLite's 32-bit comfort zone). */
  offset: 2_147_483_647,
  /** Deepest nesting of metadata objects and arrays. */
  metadataDepth: 64,
  /**
   * Largest metadata, in bytes of its JSON text (UTF-8, as `JSON.stringify` writes it): 1 MiB. An object
   * referenced several times counts each time, as it would be stored.
   */
  metadataBytes: 1_048_576,
  /** Largest `searchMessages` page. */
  searchLimit: 100,
  /** Longest search query, in characters. */
  queryLength: 1_000,
  /** Most words in one search query. */
  queryTerms: 32,
} as const;

/** Defaults applied when an option is omitted. */
export const DEFAULTS = {
  /** `getSessions` page size, as the original's `get_sessions(limit=50)`. */
  sessionsLimit: 50,
  /** `getHistoryPage` page size. */
  pageLimit: 50,
  /** `searchMessages` page size. */
  searchLimit: 20,
  /**
   * Sessions deleted per transaction by `purgeSessions`. 50 keeps SQLite's write lock well under 100 ms per
   * transaction with another connection writing (on this project's 2-core bench machine, 100,000 sessions of 3
   * messages: longest hold 79 ms at 50, 100 ms at 100, 106 ms at 200); a transaction's time grows with the
   * messages its sessions hold, so stores of long sessions want a smaller one.
   */
  purgeBatchSize: 50,
} as const;

/**
 * Optional capabilities of a store. Every backend of this repository has them all; a third-party backend may
 * lack some (each is `false` unless the backend declares it), and then the methods that need one throw
 * `UnsupportedCapabilityError` naming it.
 */
export interface MemoryCapabilities {
  /** `getSessions` and `getSessionsPage` accept `where.metadata`. */
  readonly metadataFilter: boolean;
  /** `searchMessages` works. */
  readonly fullTextSearch: boolean;
  /** Messages' `payload` and `format` are stored and returned; without it a non-null one is refused. */
  readonly structuredMessages: boolean;
  /**
   * Message ids are unique per session (not per store), `addMessage` retries resolve, and `upsertMessages`,
   * `rewriteHistory`, `deleteMessages`, `popMessage`, `getHistoryDigests` and `operationId` work.
   */
  readonly historyEditing: boolean;
  /** `updateSession` works. */
  readonly sessionUpdates: boolean;
  /** `purgeSessions` works. */
  readonly retention: boolean;
}
