/**
 * A JSON value as stored in metadata: what `JSON.parse(JSON.stringify(v))` gives back unchanged.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

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
  /** Unique id, at most 36 characters (a UUID v4 unless the caller chose one). */
  readonly id: string;
  /** The title, or `null` when none was set. Legacy files may hold an empty string, which is returned as is. */
  readonly title: string | null;
  /** When the session was created, as a UTC `Date` with millisecond precision. */
  readonly createdAt: Date;
  /** Latest activity: creation, the latest message, or the latest title change, whichever is last. */
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
  /** Unique id, at most 36 characters. */
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
}

/** Input of `createSession`. Every field is optional. */
export interface NewSession {
  /** Title; default `null`. At most {@link LIMITS.titleLength} characters. */
  title?: string | null;
  /** Metadata; default `{}`. */
  metadata?: Metadata;
  /** Caller-chosen id (1 to 36 characters); default a random UUID v4. An id already used is a `ConflictError`. */
  id?: string;
  /**
   * The owner (user or tenant id, 1 to 36 characters); default `null`. A store opened with `forOwner(id)` sets
   * it itself and refuses any other value.
   */
  ownerId?: string | null;
}

/** Input of `addMessage`. */
export interface NewMessage {
  /** Who wrote the message. */
  role: Role;
  /** The text. */
  content: string;
  /** Metadata; default `{}`. */
  metadata?: Metadata;
  /** Caller-chosen id (1 to 36 characters); default a random UUID v4. An id already used is a `ConflictError`. */
  id?: string;
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
  /** Longest id, in UTF-16 code units: a UUID's 36 characters, as the original `VARCHAR(36)`. */
  idLength: 36,
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
} as const;

/**
 * Optional capabilities of a store. Every backend of this repository has them all; a third-party backend may
 * lack some, and then the methods that need one throw `UnsupportedCapabilityError`.
 */
export interface MemoryCapabilities {
  /** `getSessions` and `getSessionsPage` accept `where.metadata`. */
  readonly metadataFilter: boolean;
  /** `searchMessages` works. */
  readonly fullTextSearch: boolean;
}
