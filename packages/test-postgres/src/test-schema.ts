import { randomBytes } from 'node:crypto';
import { withClient } from './test-server.js';

/** A schema made for one test (or test file), dropped with everything in it by `drop()`. */
export interface TestSchema {
  /** The schema's name: `prefix` and random hex, a valid unquoted identifier. */
  readonly name: string;
  /** The server URL, unchanged: the schema lives in its database. */
  readonly url: string;
  /** Drops the schema with everything in it (`DROP SCHEMA ... CASCADE`). Idempotent. */
  drop(): Promise<void>;
}

/** A database made for one test (or test file), dropped by `drop()`. */
export interface TestDatabase {
  /** The database's name. */
  readonly name: string;
  /** The server URL with its database replaced by this one. */
  readonly url: string;
  /** Drops the database, ending the sessions still connected to it. Idempotent. */
  drop(): Promise<void>;
}

/** Options of {@link createTestSchema} and {@link createTestDatabase}. */
export interface TestNameOptions {
  /** Start of the name, letters, digits and `_`; default `t_`. */
  prefix?: string;
  /** For a schema: only choose the name, do not create it (to test code that creates its own schema). */
  create?: boolean;
}

/** A fresh name: `prefix` then 12 random hex digits. */
export function uniqueName(prefix = 't_'): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`invalid name prefix ${JSON.stringify(prefix)}`);
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

/** Creates an empty schema with a unique name in the database `url` names. */
export async function createTestSchema(url: string, options: TestNameOptions = {}): Promise<TestSchema> {
  const name = uniqueName(options.prefix);
  if (options.create !== false) await withClient(url, (client) => client.query(`CREATE SCHEMA "${name}"`));
  let dropped = false;
  return {
    name,
    url,
    async drop() {
      if (dropped) return;
      dropped = true;
      await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`));
    },
  };
}

/** Creates an empty database with a unique name on the server `url` names. */
export async function createTestDatabase(url: string, options: TestNameOptions = {}): Promise<TestDatabase> {
  const name = uniqueName(options.prefix);
  await withClient(url, (client) => client.query(`CREATE DATABASE "${name}"`));
  const target = new URL(url);
  target.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: target.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE) (PostgreSQL 13+) ends the sessions a failed test left open instead of failing the drop.
      await withClient(url, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
