import type { ConversationMemory } from '@flux-rag/memory-core';
import type { OpenAccess } from '@flux-rag/memory-core/backend';
import { CliError } from './cli-error.js';
import {
  type ConnectionFlags,
  descriptorOf,
  loadDotenv,
  locationOf,
  type ResolvedConnection,
  resolveConnection,
} from './config.js';

/**
 * What a command does to the database. `read`: only reads; a SQLite file is opened read-only, never created,
 * upgraded or switched to WAL. `update`: writes to a database that must exist. `write`: may create it. A
 * command that writes never upgrades an older SQLite file either: the person runs `flux-memory upgrade`.
 */
export type OpenMode = Exclude<OpenAccess, 'app'>;

/** An open store and the configuration it came from. */
export interface OpenedStore {
  store: ConversationMemory;
  config: ResolvedConnection;
}

/** Loads `.env`, resolves the flags and opens the store: what every data command does first. */
export function connectionFrom(flags: ConnectionFlags): ResolvedConnection {
  loadDotenv(flags, process.cwd(), process.env);
  return resolveConnection(flags, process.env);
}

/**
 * True when the configured store certainly does not exist yet (a SQLite file not created): its backend's
 * descriptor can tell without connecting (a server's backend cannot, and says nothing).
 */
export function isMissingStore(config: ResolvedConnection): boolean {
  return descriptorOf(config).exists?.(locationOf(config)) === false;
}

/**
 * Opens the configured store through its backend's descriptor (see {@link OpenMode}): a reader opens it
 * read-only, an updater or writer refuses to upgrade an older store. A reader or updater on a store that does
 * not exist fails with `DATABASE_NOT_FOUND` instead of creating an empty database at a mistyped path.
 */
export async function openStore(config: ResolvedConnection, mode: OpenMode): Promise<ConversationMemory> {
  if (mode !== 'write' && isMissingStore(config)) {
    throw new CliError(
      'DATABASE_NOT_FOUND',
      `no ${descriptorOf(config).title} database at ${descriptorOf(config).locationText(locationOf(config))} ` +
        '(the first write creates it: flux-memory demo or import)',
    );
  }
  return descriptorOf(config).open(locationOf(config), mode);
}

/**
 * Opens the store, runs `task`, and closes the store whatever happened. When `task` failed, its error is the
 * one reported: a second failure while closing (the server went away) would only hide the first. With
 * `owner` (`--owner`), `task` gets the store's `forOwner(owner)` view instead of the store, so that every
 * read, write, export and import is scoped to that owner by the contract itself.
 */
export async function withStore<T>(
  flags: ConnectionFlags & { owner?: string },
  mode: OpenMode,
  task: (opened: OpenedStore) => Promise<T>,
): Promise<T> {
  const config = connectionFrom(flags);
  return usingStore(await openStore(config, mode), (store) =>
    task({ store: flags.owner === undefined ? store : store.forOwner(flags.owner), config }),
  );
}

/** Runs `task` with `store`, then closes it; `task`'s error wins over a failure to close. */
export async function usingStore<T>(
  store: ConversationMemory,
  task: (store: ConversationMemory) => Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await task(store);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  await store.close();
  return result;
}
