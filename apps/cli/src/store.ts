import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type ConversationMemory,
  InMemoryConversationMemory,
  type ResolvedMemoryConfig,
} from '@flux-rag/memory-core';
import { CliError } from './cli-error.js';
import { type ConnectionFlags, loadDotenv, resolveConnection } from './config.js';

/**
 * What a command does to the database. `read`: only reads; a SQLite file is opened read-only, never created,
 * upgraded or switched to WAL. `update`: writes to a database that must exist. `write`: may create it. A
 * command that writes never upgrades an older SQLite file either: the person runs `flux-memory upgrade`.
 */
export type OpenMode = 'read' | 'update' | 'write';

/** An open store and the configuration it came from. */
export interface OpenedStore {
  store: ConversationMemory;
  config: ResolvedMemoryConfig;
}

/** Loads `.env`, resolves the flags and opens the store: what every data command does first. */
export function connectionFrom(flags: ConnectionFlags): ResolvedMemoryConfig {
  loadDotenv(flags, process.cwd(), process.env);
  return resolveConnection(flags, process.env);
}

/** True for a SQLite configuration whose file does not exist yet. */
export function isMissingSqliteFile(config: ResolvedMemoryConfig): boolean {
  return config.backend === 'sqlite' && config.filename !== ':memory:' && !existsSync(config.filename);
}

/**
 * Opens the configured store (see {@link OpenMode}). A reader or updater on a SQLite file that does not exist
 * fails with `DATABASE_NOT_FOUND` instead of creating an empty database at a mistyped path; a writer creates
 * the file's folder.
 *
 * The backend packages are imported here, from the CLI's own dependencies, and only the one chosen: `--help`
 * and the PostgreSQL commands never load the SQLite native module, and the reverse.
 */
export async function openStore(config: ResolvedMemoryConfig, mode: OpenMode): Promise<ConversationMemory> {
  switch (config.backend) {
    case 'memory':
      return new InMemoryConversationMemory();
    case 'sqlite': {
      if (isMissingSqliteFile(config)) {
        if (mode !== 'write') {
          throw new CliError(
            'DATABASE_NOT_FOUND',
            `no SQLite database at ${config.filename} (the first write creates it: flux-memory demo or import)`,
          );
        }
        mkdirSync(dirname(config.filename), { recursive: true });
      }
      const { SqliteConversationMemory } = await import('@flux-rag/memory-sqlite');
      // Inspection never writes; writes never upgrade an older file behind the person's back.
      // (A private `:memory:` database has nothing to protect and cannot be opened read-only.)
      return mode === 'read' && config.filename !== ':memory:'
        ? new SqliteConversationMemory({ filename: config.filename, readOnly: true })
        : new SqliteConversationMemory({ filename: config.filename, upgrade: 'refuse' });
    }
    case 'postgres': {
      const { PostgresConversationMemory } = await import('@flux-rag/memory-postgres');
      return new PostgresConversationMemory({
        connectionString: config.connectionString,
        schema: config.schema,
      });
    }
  }
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
