import type { ConversationMemory } from './conversation-memory.js';

/**
 * How a caller means to use a store, so that a backend opens it no wider than needed. `read`: only reads (a
 * SQLite file is opened read-only, never created or upgraded). `update`: writes to a store that must exist and
 * is not upgraded behind the person's back. `write`: may create the store. `app`: an application's store, opened
 * as the backend's constructor does by default (created and upgraded when needed): what `createMemory` uses.
 */
export type OpenAccess = 'read' | 'update' | 'write' | 'app';

/** The outcome of parsing a connection string a backend claims: its location, or why it is malformed. */
export type ConnectionClaim<L> = { readonly location: L } | { readonly refused: string };

/**
 * The connection strings a backend claims. A string with a URL scheme goes to the backend listing that scheme;
 * a scheme-less string to the first backend whose {@link ConnectionForms.parseOther} claims it, else to the
 * backend with {@link ConnectionForms.parsePath} (a file path). A scheme nobody lists is refused in one shared
 * place (`claimConnectionString`), never guessed.
 */
export interface ConnectionForms<L> {
  /** URL schemes it owns, lower case, without the colon (`['postgres', 'postgresql']`). */
  readonly schemes: readonly string[];
  /** The accepted forms in words, with examples, for help and error messages. */
  readonly description: string;
  /** What one of its locations is called in messages: `a SQLite file`, `a PostgreSQL DSN`. */
  readonly noun: string;
  /** Parses `text` (trimmed), whose scheme is `scheme` (one of {@link schemes}, lower case). */
  parseUrl(text: string, scheme: string): ConnectionClaim<L>;
  /** Claims a scheme-less string in a form of its own (libpq `key=value`); `undefined` when it is not its. */
  parseOther?(text: string): ConnectionClaim<L> | undefined;
  /** A scheme-less string nobody else claims is a path to this backend's file (at most one backend has it). */
  parsePath?(text: string): L;
}

/** Where a descriptor's {@link BackendDescriptor.resolve} gets the original settings from. */
export interface ResolveInput<L> {
  /** The location given explicitly and claimed by this backend (`--url`), if any: it wins. */
  readonly explicit?: L;
  /**
   * `DATABASE_URL` (or the `databaseUrl` option), parsed: `undefined` when unset or blank, its location when
   * this backend claims it, else the backend that does. Parsed on demand, so an unused malformed value is no
   * error; a malformed one that is read throws the connection-string `ValidationError`.
   */
  databaseUrl():
    | { readonly location: L; readonly source: string }
    | { readonly otherBackend: AnyBackendDescriptor; readonly source: string }
    | undefined;
  /**
   * A setting of this backend by its original name (`POSTGRES_DSN`, `POSTGRES_SCHEMA`) and where it came from
   * (the option or flag, else the environment); `undefined` when unset or blank.
   */
  setting(name: string): { readonly value: string; readonly source: string } | undefined;
  /** Parses a connection-string setting (`POSTGRES_DSN`) strictly: the backend that claims it and where. */
  parse(text: string, source: string): { readonly backend: AnyBackendDescriptor; readonly location: unknown };
  /**
   * True when a documented default location may be used when nothing names one (the library: the original
   * settings' defaults); false when the caller must name it (the CLI: no hidden default server). A file
   * backend's default path counts as named.
   */
  readonly useDefaults: boolean;
}

/**
 * A backend as the registry sees it: everything `createMemory` and the CLI need to choose it, locate its store
 * from the original settings, describe that location without secrets, and open it. Each backend package
 * exports one (`sqliteBackend`, `postgresBackend`); core holds `inMemoryBackend`. `L` is its location.
 * Field names are the registry's contract: adding a backend adds a descriptor, and changes no other code.
 */
export interface BackendDescriptor<L = unknown> {
  /** Canonical name, lower case: the value of `DATABASE_BACKEND` and `--backend` (`sqlite`). */
  readonly name: string;
  /** Other accepted names (`postgresql`). */
  readonly aliases: readonly string[];
  /** Human name for messages: `SQLite`, `PostgreSQL`. */
  readonly title: string;
  /** The connection strings it claims; absent for a backend with no location (in-memory). */
  readonly connectionStrings?: ConnectionForms<L>;
  /**
   * Original setting names it reads, beyond `DATABASE_BACKEND`/`DATABASE_URL` (`POSTGRES_DSN`,
   * `POSTGRES_SCHEMA`), with what each means, for help texts.
   */
  readonly settings: readonly { readonly name: string; readonly meaning: string }[];
  /**
   * Its location from the settings (see {@link ResolveInput}); `undefined` when none is named and
   * `useDefaults` is false and it has no default. Throws `ValidationError` (field: the setting's name) for a
   * value it refuses, before anything is opened.
   */
  resolve(input: ResolveInput<L>): L | undefined;
  /** How to name a location in the CLI's missing-location message (`postgresql://USER@HOST:5432/DB`). */
  readonly locationExample?: string;
  /** One line naming the location for messages and reports, secrets masked: `postgres postgresql://u:***@h/db`. */
  describe(location: L): string;
  /** The location as a store's `check()` reports it (`location` field), secrets masked. */
  locationText(location: L): string;
  /**
   * False when the location certainly does not exist yet (a SQLite file not created), so that a reader can
   * refuse instead of creating it; absent when the backend cannot tell without connecting.
   */
  exists?(location: L): boolean;
  /** Opens a store at `location` for `access` (see {@link OpenAccess}); a writer creates what it needs. */
  open(location: L, access: OpenAccess): Promise<ConversationMemory>;
}

/** A descriptor whose location type is not known to the caller: what registries hold. */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds descriptors of several location types
export type AnyBackendDescriptor = BackendDescriptor<any>;
