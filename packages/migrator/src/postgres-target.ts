import { BackendUnavailableError, MemoryError } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';
import { decodeMetadataText, readSchemaVersion } from '@flux-rag/memory-core/sql';
import { isUnavailable, PostgresConversationMemory } from '@flux-rag/memory-postgres';
import pg from 'pg';
import { type CopyValue, copyRows } from './copy-text.js';
import { CopyWriter } from './copy-writer.js';
import { describeError, MigrationError } from './migration-errors.js';
import type { MigrationTarget, SessionWithCounts } from './migration-target.js';
import { clientSchemaCatalog, connectMigrationClient, UTC_TRANSACTION } from './postgres-connection.js';
import { TargetRunLock } from './postgres-run-lock.js';
import { DigestSet } from './row-digest.js';
import type { MessageRow, SessionRow } from './row-rules.js';
import {
  MESSAGE_COLUMNS as MESSAGE_COLUMN_LIST,
  MESSAGE_DATA_COLUMNS,
  messageCells,
  SESSION_COLUMNS as SESSION_COLUMN_LIST,
  sessionCells,
  targetSessionSelectList,
} from './table-columns.js';

/** Options of {@link openPostgresTarget}. */
export interface PostgresTargetOptions {
  /** `postgres://` connection string. */
  connectionString: string;
  /** Schema holding the tables; default `public`. */
  schema?: string;
  /**
   * Whether to create or upgrade the schema (through `PostgresConversationMemory`'s migrations); default true.
   * Without it (dry run, verification only) a missing table reads as empty and nothing is ever written.
   */
  setup?: boolean;
}

const SESSION_COLUMNS = SESSION_COLUMN_LIST.join(', ');
const MESSAGE_COLUMNS = MESSAGE_COLUMN_LIST.join(', ');
/** Read-only: handed to the digest only. */
const EMPTY_METADATA = Object.freeze({});
const TS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
/** Every session column as verification reads it back: timestamps as canonical UTC text, JSON as text. */
const DIGEST_SESSION_SELECT = targetSessionSelectList(
  () => true,
  (column, spec) =>
    spec.kind === 'timestamp'
      ? `to_char(${column}, ${TS})`
      : spec.kind === 'json'
        ? `${column}::text`
        : column,
);

/**
 * Opens (and unless `setup: false`, creates or upgrades) a PostgreSQL target and takes its migration lock.
 * Directly or through a transaction-mode pooler (PgBouncer), the same way: the run keeps no state in a server
 * session. Its lock is a transaction lock held on a connection of its own ({@link TargetRunLock}); every
 * transaction sets what it needs itself (`SET LOCAL TimeZone`, its staging tables dropped at commit); no
 * statement is named (a named prepared statement lives in a server session).
 */
export async function openPostgresTarget(options: PostgresTargetOptions): Promise<MigrationTarget> {
  const schema = options.schema ?? 'public';
  let version: number | null = null;
  const location = `${maskSecrets(options.connectionString)} (schema ${schema})`;
  let client: pg.Client | undefined;
  let lock: TargetRunLock | undefined;
  try {
    client = await connectMigrationClient(options.connectionString);
  } catch (error) {
    throw targetError(error, location);
  }
  if (options.setup !== false) {
    // The backend's own migrations create or upgrade the tables: the migrator never holds DDL of its own.
    const store = new PostgresConversationMemory({ connectionString: options.connectionString, schema });
    try {
      await store.init();
    } catch (error) {
      await client.end().catch(() => {});
      throw targetError(error, location);
    } finally {
      await store.close().catch(() => {});
    }
  }
  try {
    lock = await TargetRunLock.take(options.connectionString, schema, location);
    const exists = await client.query<{ n: string | null }>('SELECT to_regclass($1) AS n', [
      `${pg.escapeIdentifier(schema)}.messages`,
    ]);
    if (exists.rows[0]?.n) {
      version = await readSchemaVersion(clientSchemaCatalog(client, schema));
    }
  } catch (error) {
    await lock?.release();
    await client.end().catch(() => {});
    throw targetError(error, location);
  }
  return new PostgresTarget(client, lock, schema, location, version);
}

/** Turns a driver error into a masked contract or migration error, keeping the cause. */
function targetError(error: unknown, location: string): Error {
  if (MemoryError.isInstance(error)) return error;
  if (isUnavailable(error)) {
    return new BackendUnavailableError(`PostgreSQL at ${location} is unavailable: ${describeError(error)}`, {
      cause: error,
    });
  }
  return new MigrationError('TARGET_FAILED', `PostgreSQL at ${location}: ${describeError(error)}`, {
    cause: error,
  });
}

interface SavedDefinition {
  table: string;
  name: string;
  definition: string;
}

class PostgresTarget implements MigrationTarget {
  readonly backend = 'postgres';
  readonly location: string;
  readonly schemaVersion: number | null;
  readonly #client: pg.Client;
  readonly #lock: TargetRunLock;
  readonly #sessions: string;
  readonly #messages: string;
  readonly #schema: string;
  #copy: CopyWriter | undefined;
  #copying: 'sessions' | 'messages' | undefined;
  #saved: { keys: SavedDefinition[]; indexes: SavedDefinition[]; foreign: SavedDefinition[] } | undefined;
  #closed = false;

  constructor(
    client: pg.Client,
    lock: TargetRunLock,
    schema: string,
    location: string,
    schemaVersion: number | null,
  ) {
    this.#client = client;
    this.#lock = lock;
    this.#schema = schema;
    this.location = location;
    this.schemaVersion = schemaVersion;
    this.#sessions = `${pg.escapeIdentifier(schema)}.sessions`;
    this.#messages = `${pg.escapeIdentifier(schema)}.messages`;
  }

  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) {
    try {
      return await this.#client.query<R>(text, values);
    } catch (error) {
      throw targetError(error, this.location);
    }
  }

  /**
   * Opens a transaction that carries everything it needs, so that it runs the same on a server session of its
   * own and on whichever server connection a transaction-mode pooler hands it: UTC for timestamps as text; for
   * a write, the check that this run still holds the migration lock.
   */
  async #begin(kind: 'write' | 'read'): Promise<void> {
    await this.#query(kind === 'write' ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      await this.#query(UTC_TRANSACTION);
      if (kind === 'write') await this.#lock.check(this.#client);
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => {});
      throw targetError(error, this.location);
    }
  }

  async isEmpty(): Promise<boolean> {
    if (this.schemaVersion === null) return true;
    const result = await this.#query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${this.#sessions}) OR EXISTS (SELECT 1 FROM ${this.#messages}) AS any`,
    );
    return !result.rows[0]?.any;
  }

  async #present(table: string, ids: readonly string[]): Promise<Set<string>> {
    if (this.schemaVersion === null || ids.length === 0) return new Set();
    // One array parameter, whatever the batch size: no bind-parameter limit to respect.
    const result = await this.#query<{ id: string }>(`SELECT id FROM ${table} WHERE id = ANY($1::text[])`, [
      ids,
    ]);
    return new Set(result.rows.map((r) => r.id));
  }

  presentSessions(ids: readonly string[]) {
    return this.#present(this.#sessions, ids);
  }

  presentMessages(ids: readonly string[]) {
    return this.#present(this.#messages, ids);
  }

  async beginBulk(): Promise<boolean> {
    await this.#begin('write');
    try {
      // Nobody reads or writes the tables while they have no keys; the lock is released at COMMIT.
      await this.#query(`LOCK TABLE ${this.#sessions}, ${this.#messages} IN ACCESS EXCLUSIVE MODE`);
      if (!(await this.isEmpty())) {
        await this.#query('ROLLBACK');
        return false;
      }
      // Index builds sort in memory instead of in temporary files (this transaction only).
      await this.#query("SET LOCAL maintenance_work_mem = '256MB'");
      await this.#dropKeysAndIndexes();
      return true;
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  /**
   * Reads the definitions of the tables' keys, foreign keys and indexes from the catalog (whatever the
   * backend's migrations created), then drops them: loading into bare tables and building each index once
   * is several times faster than inserting random UUIDs into live B-trees.
   */
  async #dropKeysAndIndexes(): Promise<void> {
    const tables = [this.#sessions, this.#messages];
    const constraints = await this.#query<{ name: string; table: string; type: string; definition: string }>(
      `SELECT c.conname AS name, c.conrelid::regclass::text AS table, c.contype AS type,
              pg_get_constraintdef(c.oid) AS definition
       FROM pg_constraint c
       WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('p', 'u', 'f')
       ORDER BY c.conname`,
      [tables],
    );
    // A foreign key of some other table pins the keys it references: those stay.
    const pinned = await this.#query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_constraint
       WHERE contype = 'f' AND confrelid = ANY($1::regclass[]) AND NOT (conrelid = ANY($1::regclass[]))`,
      [tables],
    );
    const keepKeys = Number(pinned.rows[0]?.n ?? 0) > 0;
    const indexes = await this.#query<{ name: string; table: string; definition: string }>(
      `SELECT i.indexname AS name, format('%I.%I', i.schemaname, i.tablename) AS table, i.indexdef AS definition
       FROM pg_indexes i
       WHERE i.schemaname = $1 AND i.tablename IN ('sessions', 'messages')
         AND NOT EXISTS (
           SELECT 1 FROM pg_constraint c
           WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass
             AND c.conrelid = format('%I.%I', i.schemaname, i.tablename)::regclass)
       ORDER BY i.indexname`,
      [this.#schema],
    );
    const saved = {
      foreign: constraints.rows.filter((c) => c.type === 'f'),
      keys: keepKeys ? [] : constraints.rows.filter((c) => c.type !== 'f'),
      indexes: indexes.rows,
    };
    for (const c of saved.foreign) {
      await this.#query(`ALTER TABLE ${c.table} DROP CONSTRAINT ${pg.escapeIdentifier(c.name)}`);
    }
    for (const i of saved.indexes) {
      await this.#query(`DROP INDEX ${pg.escapeIdentifier(this.#schema)}.${pg.escapeIdentifier(i.name)}`);
    }
    for (const c of saved.keys) {
      await this.#query(`ALTER TABLE ${c.table} DROP CONSTRAINT ${pg.escapeIdentifier(c.name)}`);
    }
    this.#saved = saved;
  }

  async #copyInto(table: 'sessions' | 'messages', text: Buffer): Promise<void> {
    if (this.#copying !== table) {
      await this.#endCopy();
      const columns = table === 'sessions' ? SESSION_COLUMNS : MESSAGE_COLUMNS;
      const name = table === 'sessions' ? this.#sessions : this.#messages;
      this.#copy = new CopyWriter(this.#client, `COPY ${name} (${columns}) FROM STDIN`);
      this.#copying = table;
    }
    try {
      await this.#copy!.write(text);
    } catch (error) {
      throw targetError(error, this.location);
    }
  }

  async #endCopy(): Promise<void> {
    const copy = this.#copy;
    this.#copy = undefined;
    this.#copying = undefined;
    if (!copy) return;
    try {
      await copy.end();
    } catch (error) {
      throw targetError(error, this.location);
    }
  }

  bulkMessages(rows: readonly MessageRow[]): Promise<void> {
    return this.#copyInto('messages', encodeMessages(rows));
  }

  bulkSessions(rows: readonly SessionWithCounts[]): Promise<void> {
    return this.#copyInto('sessions', encodeSessions(rows));
  }

  async finishBulk(onStep?: (step: string) => void): Promise<void> {
    await this.#endCopy();
    const saved = this.#saved!;
    for (const c of saved.keys) {
      onStep?.(`key ${c.name}`);
      await this.#query(
        `ALTER TABLE ${c.table} ADD CONSTRAINT ${pg.escapeIdentifier(c.name)} ${c.definition}`,
      );
    }
    for (const i of saved.indexes) {
      onStep?.(`index ${i.name}`);
      await this.#query(i.definition);
    }
    for (const c of saved.foreign) {
      onStep?.(`foreign key ${c.name}`);
      await this.#query(
        `ALTER TABLE ${c.table} ADD CONSTRAINT ${pg.escapeIdentifier(c.name)} ${c.definition}`,
      );
    }
    onStep?.('sequence');
    await this.fixSequence();
    onStep?.('statistics');
    await this.#query(`ANALYZE ${this.#sessions}, ${this.#messages}`);
    onStep?.('commit');
    await this.#query('COMMIT');
    this.#saved = undefined;
  }

  async abortBulk(): Promise<void> {
    this.#copy = undefined;
    this.#copying = undefined;
    this.#saved = undefined;
    await this.#client.query('ROLLBACK').catch(() => {});
  }

  /**
   * Creates the staging table of `table` in the current transaction, dropped at its COMMIT or ROLLBACK: rows go
   * through COPY into it, then INSERT ... ON CONFLICT DO NOTHING (COPY alone cannot skip rows already present).
   * One per transaction, not one per session: behind a transaction pooler the next transaction may run on
   * another server connection, where a session's temporary table does not exist.
   */
  async #stage(table: 'sessions' | 'messages'): Promise<string> {
    const name = `flux_stage_${table}`;
    await this.#query(
      `CREATE TEMP TABLE ${name} (LIKE ${table === 'sessions' ? this.#sessions : this.#messages} INCLUDING DEFAULTS) ON COMMIT DROP`,
    );
    return name;
  }

  async #inTransaction<T>(work: () => Promise<T>): Promise<T> {
    await this.#begin('write');
    try {
      const result = await work();
      await this.#query('COMMIT');
      return result;
    } catch (error) {
      this.#copy = undefined;
      this.#copying = undefined;
      await this.#client.query('ROLLBACK').catch(() => {});
      throw targetError(error, this.location);
    }
  }

  async mergeSessions(rows: readonly SessionRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.#inTransaction(async () => {
      const stage = await this.#stage('sessions');
      const copy = new CopyWriter(this.#client, `COPY ${stage} (${SESSION_COLUMNS}) FROM STDIN`);
      await copy.write(encodeSessions(rows.map((r) => ({ ...r, messageCount: 0, lastMessageAt: null }))));
      await copy.end();
      const result = await this.#query(
        `INSERT INTO ${this.#sessions} (${SESSION_COLUMNS})
         SELECT ${SESSION_COLUMNS} FROM ${stage} ON CONFLICT (id) DO NOTHING`,
      );
      return result.rowCount ?? 0;
    });
  }

  async mergeMessages(rows: readonly MessageRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.#inTransaction(async () => {
      const stage = await this.#stage('messages');
      const copy = new CopyWriter(this.#client, `COPY ${stage} (${MESSAGE_COLUMNS}) FROM STDIN`);
      await copy.write(encodeMessages(rows));
      await copy.end();
      // seq comes from the target's own identity, drawn in the source's order (the subquery's ORDER BY feeds
      // nextval row by row): the source's seq may already be used by rows of another source merged before (two
      // files both number their rows from 1), and PostgreSQL has no unique key on seq to refuse it, so the
      // duplicates only surfaced when the reverse direction wrote them into SQLite's rowid. Relative order
      // within each session (created_at, then seq) is kept; the values are the target's.
      const result = await this.#query(
        `INSERT INTO ${this.#messages} (${MESSAGE_COLUMNS})
         SELECT nextval(pg_get_serial_sequence($1, 'seq')), ${MESSAGE_DATA_COLUMNS.join(', ')}
         FROM (
           SELECT * FROM ${stage} AS s
           WHERE NOT EXISTS (SELECT 1 FROM ${this.#messages} AS m WHERE m.session_id = s.session_id AND m.id = s.id)
           ORDER BY seq
         ) AS ordered
         ON CONFLICT (session_id, id) DO NOTHING`,
        [this.#messages],
      );
      const written = result.rowCount ?? 0;
      if (written > 0) {
        // The counters of the sessions touched, from their rows, in the same transaction as the rows.
        await this.#query(
          `UPDATE ${this.#sessions} AS s SET message_count = c.n, last_message_at = c.last
           FROM (
             SELECT session_id, count(*)::integer AS n, max(created_at) AS last FROM ${this.#messages}
             WHERE session_id IN (SELECT DISTINCT session_id FROM ${stage})
             GROUP BY session_id
           ) AS c
           WHERE s.id = c.session_id`,
        );
      }
      return written;
    });
  }

  async fixSequence(): Promise<void> {
    if (this.schemaVersion === null) return;
    // Never backwards: the identity then hands out values above every seq written, and above any it already
    // handed out to someone else.
    await this.#query(
      `SELECT setval(s.seq, m.top, true)
       FROM (SELECT pg_get_serial_sequence($1, 'seq')::regclass AS seq) AS s,
            (SELECT max(seq) AS top FROM ${this.#messages}) AS m
       WHERE m.top IS NOT NULL AND m.top > coalesce(pg_sequence_last_value(s.seq), 0)`,
      [this.#messages],
    );
  }

  async count(): Promise<{ sessions: number; messages: number }> {
    if (this.schemaVersion === null) return { sessions: 0, messages: 0 };
    const result = await this.#query<{ s: string; m: string }>(
      `SELECT (SELECT count(*) FROM ${this.#sessions}) AS s, (SELECT count(*) FROM ${this.#messages}) AS m`,
    );
    return { sessions: Number(result.rows[0]!.s), messages: Number(result.rows[0]!.m) };
  }

  /**
   * Runs `select` and hands its rows (as arrays) to `each`, in one read-only transaction in UTC (`to_char` of a
   * timestamp reads the transaction's TimeZone). With parameters, in one query; without, through a cursor in
   * storage order (a sequential scan), a page at a time, the next page fetched while one is handled.
   */
  async #rows(select: string, values: unknown[] | undefined, each: (row: unknown[]) => void): Promise<void> {
    await this.#begin('read');
    try {
      if (values) {
        const result = await this.#query({ text: select, values, rowMode: 'array' } as never);
        for (const row of result.rows as unknown as unknown[][]) each(row);
      } else {
        await this.#query(`DECLARE flux_verify NO SCROLL CURSOR FOR ${select}`);
        const fetch = () =>
          this.#query({ text: 'FETCH 1000 FROM flux_verify', rowMode: 'array' } as never) as Promise<
            pg.QueryResult<never>
          >;
        let pending = fetch();
        for (;;) {
          const rows = (await pending).rows as unknown as unknown[][];
          if (rows.length === 0) break;
          pending = fetch();
          for (const row of rows) each(row);
        }
      }
      await this.#query('COMMIT');
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async digests(sessionIds: readonly string[] | 'all'): Promise<DigestSet> {
    const set = new DigestSet();
    if (this.schemaVersion === null || sessionIds.length === 0) return set;
    const all = sessionIds === 'all';
    await this.#rows(
      `SELECT ${DIGEST_SESSION_SELECT}
       FROM ${this.#sessions}${all ? '' : ' WHERE id = ANY($1::text[])'}`,
      all ? undefined : [sessionIds],
      (r) =>
        set.addSession(
          {
            id: r[0] as string,
            title: r[1] as string | null,
            createdAt: (r[2] as string | null) ?? '',
            updatedAt: (r[3] as string | null) ?? '',
            metadata: decodeMetadataText(r[4] as string | null),
            ownerId: (r[7] as string | null) ?? null,
          },
          { count: Number(r[5]), lastMessageAt: (r[6] as string | null) ?? null },
        ),
    );
    // PostgreSQL hashes the contents itself: they never travel back.
    await this.#rows(
      `SELECT session_id, id, role, to_char(created_at, ${TS}), md5(content), metadata::text,
         md5(payload), format, digest
       FROM ${this.#messages}${all ? '' : ' WHERE session_id = ANY($1::text[])'}`,
      all ? undefined : [sessionIds],
      (r) =>
        set.addMessage({
          sessionId: r[0] as string,
          id: r[1] as string,
          role: r[2] as string,
          createdAt: (r[3] as string | null) ?? '',
          contentMd5: r[4] as string,
          metadata: r[5] === '{}' ? EMPTY_METADATA : decodeMetadataText((r[5] as string | null) ?? null),
          payloadMd5: (r[6] as string | null) ?? null,
          format: (r[7] as string | null) ?? null,
          digest: (r[8] as string | null) ?? null,
        }),
    );
    return set;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.end().catch(() => {});
    await this.#lock.release();
  }
}

function encodeSessions(rows: readonly SessionWithCounts[]): Buffer {
  return copyRows(
    rows.map((r) =>
      sessionCells<CopyValue>({
        id: r.id,
        title: r.title,
        created_at: r.createdAt,
        updated_at: r.updatedAt,
        metadata: r.metadataText,
        message_count: r.messageCount,
        last_message_at: r.lastMessageAt,
        owner_id: r.ownerId,
      }),
    ),
  );
}

function encodeMessages(rows: readonly MessageRow[]): Buffer {
  return copyRows(
    rows.map((r) =>
      messageCells<CopyValue>({
        seq: r.seq,
        id: r.id,
        session_id: r.sessionId,
        role: r.role,
        content: r.content,
        created_at: r.createdAt,
        metadata: r.metadataText,
        payload: r.payload,
        format: r.format,
        digest: r.digest,
      }),
    ),
  );
}
