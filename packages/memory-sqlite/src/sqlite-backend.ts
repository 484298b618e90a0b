import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectionSettingError } from '@flux-rag/memory-core';
import type { BackendDescriptor, ConnectionClaim } from '@flux-rag/memory-core/backend';
import { DEFAULT_SQLITE_PATH } from './sqlite-defaults.js';
import { SqliteConversationMemory } from './sqlite-memory.js';

/** Where a SQLite store lives: a file path, or `:memory:` for a private database. */
export interface SqliteLocation {
  readonly filename: string;
}

/**
 * `sqlite:///abs/path`, `sqlite:///./rel`, `sqlite://rel`, `sqlite:rel` and `file:` URLs (`file:///abs`,
 * `file:rel`): the file they name, or why not (a query or fragment, no file, a `file://` URL of another host).
 */
function parseSqliteUrl(text: string, scheme: string): ConnectionClaim<SqliteLocation> {
  const rest = text.slice(scheme.length + 1);
  if (/[?#]/.test(rest)) return { refused: `a ${scheme}: URL takes no query or fragment` };
  if (scheme === 'file' && rest.startsWith('//')) {
    try {
      return { location: { filename: fileURLToPath(`file:${rest}`) } };
    } catch (error) {
      return { refused: (error as Error).message };
    }
  }
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  const filename = path.startsWith('/./') || path.startsWith('/../') ? path.slice(1) : path;
  if (filename === '') return { refused: `the ${scheme}: URL names no file` };
  return { location: { filename } };
}

/**
 * The SQLite backend for the registry (`createMemory`, the CLI): named `sqlite`; claims file paths, `:memory:`,
 * `sqlite:` and `file:` URLs; located by `DATABASE_URL`, default `./data/memory.db` (the original settings'
 * default, used by the CLI too). Opening for `read` opens the file read-only (never created, upgraded or
 * switched to WAL); `update` and `write` refuse to upgrade an older file (`SchemaUpgradeRequiredError`), and
 * `write` creates the file's folder; `app` opens it as the constructor does (created and upgraded).
 */
export const sqliteBackend: BackendDescriptor<SqliteLocation> = {
  name: 'sqlite',
  aliases: [],
  title: 'SQLite',
  connectionStrings: {
    schemes: ['sqlite', 'file'],
    description:
      'a SQLite file as a path (./data/memory.db), sqlite:///abs/path, sqlite:rel/path or file:///abs/path',
    noun: 'a SQLite file',
    parseUrl: parseSqliteUrl,
    parsePath: (text) => ({ filename: text }),
  },
  settings: [{ name: 'DATABASE_URL', meaning: `the SQLite file; default ${DEFAULT_SQLITE_PATH}` }],
  resolve(input) {
    if (input.explicit) return input.explicit;
    const url = input.databaseUrl();
    if (url && 'otherBackend' in url) {
      throw new ConnectionSettingError(
        url.source,
        `is ${url.otherBackend.connectionStrings?.noun ?? `a ${url.otherBackend.title} location`} but the ` +
          'backend is sqlite; choose that backend or name a SQLite file',
      );
    }
    return url?.location ?? { filename: DEFAULT_SQLITE_PATH };
  },
  describe: (location) => `sqlite ${location.filename}`,
  locationText: (location) => location.filename,
  exists: (location) => location.filename === ':memory:' || existsSync(location.filename),
  async open({ filename }, access) {
    if (access === 'app') return new SqliteConversationMemory({ filename });
    // A private `:memory:` database has nothing to protect and cannot be opened read-only.
    if (access === 'read' && filename !== ':memory:') {
      return new SqliteConversationMemory({ filename, readOnly: true });
    }
    if (access === 'write' && filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
    return new SqliteConversationMemory({ filename, upgrade: 'refuse' });
  },
};
