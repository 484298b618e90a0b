import { maskSecrets } from '@flux-rag/memory-core/backend';
import {
  type ColumnSpec,
  dataSelectList,
  MESSAGES_TABLE,
  readSchemaVersion,
} from '@flux-rag/memory-core/sql';
import pg from 'pg';
import { describeError, MigrationError } from './migration-errors.js';
import type { MigrationSource, PageLimits } from './migration-source.js';
import { clientSchemaCatalog, connectMigrationClient, UTC_TRANSACTION } from './postgres-connection.js';
import type { RawMessage, RawSession } from './row-rules.js';
import { sessionSelectList } from './table-columns.js';

/** Options of {@link openPostgresSource}. */
export interface PostgresSourceOptions {
  connectionString: string;
  schema?: string;
}

/** Timestamps as text with microseconds: naive columns (schema version 1) without a zone, others in UTC. */
const timestamp = (column: string, zoned: boolean) =>
  `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US${zoned ? '"Z"' : ''}')`;

/**
 * Opens a PostgreSQL store as a migration source, read-only: one `REPEATABLE READ READ ONLY` transaction for
 * the whole run, so every pass sees the same snapshot; rows are streamed through server-side cursors, a page
 * at a time, in storage order. Works on any schema version: `seq` is read when present, `owner_id` too.
 */
export async function openPostgresSource(options: PostgresSourceOptions): Promise<MigrationSource> {
  const schema = options.schema ?? 'public';
  const location = `${maskSecrets(options.connectionString)} (schema ${schema})`;
  let client: pg.Client | undefined;
  try {
    client = await connectMigrationClient(options.connectionString);
    // The whole run is this one transaction: behind a transaction-mode pooler it keeps one server connection,
    // and so does its TimeZone.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(UTC_TRANSACTION);
    const columns = await client.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = $1 AND table_name IN ('sessions', 'messages')`,
      [schema],
    );
    const has = (table: string, column: string) =>
      columns.rows.find((c) => c.table_name === table && c.column_name === column);
    if (!has('sessions', 'id') || !has('messages', 'id')) {
      throw new MigrationError('SOURCE_UNSUPPORTED', `${location} has no sessions and messages tables`);
    }
    const zoned = has('messages', 'created_at')?.data_type === 'timestamp with time zone';
    const schemaVersion = await readSchemaVersion(clientSchemaCatalog(client, schema));
    return new PostgresSource(client, schema, location, schemaVersion, {
      zoned,
      seq: Boolean(has('messages', 'seq')),
      structured: Boolean(has('messages', 'payload')),
      sessionColumns: new Set(
        columns.rows.filter((c) => c.table_name === 'sessions').map((c) => c.column_name),
      ),
    });
  } catch (error) {
    await client?.end().catch(() => {});
    if (MigrationError.isInstance(error)) throw error;
    throw new MigrationError(
      'SOURCE_FAILED',
      `cannot read PostgreSQL source ${location}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
}

class PostgresSource implements MigrationSource {
  readonly backend = 'postgres';
  readonly location: string;
  readonly schemaVersion: number;
  readonly #client: pg.Client;
  readonly #sessions: string;
  readonly #messages: string;
  readonly #shape: { zoned: boolean; seq: boolean; structured: boolean; sessionColumns: ReadonlySet<string> };
  #cursors = 0;
  #closed = false;

  constructor(
    client: pg.Client,
    schema: string,
    location: string,
    schemaVersion: number,
    shape: { zoned: boolean; seq: boolean; structured: boolean; sessionColumns: ReadonlySet<string> },
  ) {
    this.#client = client;
    this.location = location;
    this.schemaVersion = schemaVersion;
    this.#shape = shape;
    this.#sessions = `${pg.escapeIdentifier(schema)}.sessions`;
    this.#messages = `${pg.escapeIdentifier(schema)}.messages`;
  }

  async count() {
    const result = await this.#run<{ s: string; m: string }>(
      `SELECT (SELECT count(*) FROM ${this.#sessions}) AS s, (SELECT count(*) FROM ${this.#messages}) AS m`,
    );
    return { sessions: Number(result.rows[0]!.s), messages: Number(result.rows[0]!.m) };
  }

  async #run<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
    try {
      return await this.#client.query<R>(text, values);
    } catch (error) {
      throw new MigrationError('SOURCE_FAILED', `reading ${this.location}: ${describeError(error)}`, {
        cause: error,
      });
    }
  }

  async *#cursor(select: string, limits: PageLimits): AsyncIterable<unknown[][]> {
    const name = `flux_source_${++this.#cursors}`;
    await this.#run(`DECLARE ${name} NO SCROLL CURSOR FOR ${select}`);
    try {
      for (;;) {
        const result = await this.#client
          .query<unknown[]>({ text: `FETCH ${limits.rows} FROM ${name}`, rowMode: 'array' } as never)
          .catch((error: unknown) => {
            throw new MigrationError('SOURCE_FAILED', `reading ${this.location}: ${describeError(error)}`, {
              cause: error,
            });
          });
        const rows = result.rows as unknown as unknown[][];
        if (rows.length === 0) return;
        yield rows;
      }
    } finally {
      await this.#client.query(`CLOSE ${name}`).catch(() => {});
    }
  }

  /** How a column of `spec`'s kind is read: timestamps as text with microseconds, JSON as its text. */
  #read(column: string, spec: ColumnSpec): string {
    if (spec.kind === 'timestamp') return timestamp(column, this.#shape.zoned);
    return spec.kind === 'json' ? `${column}::text` : column;
  }

  async *sessions(limits: PageLimits): AsyncIterable<RawSession[]> {
    let key = 0;
    const columns = sessionSelectList(
      (column) => this.#shape.sessionColumns.has(column),
      (column, spec) => this.#read(column, spec),
    );
    const select = `SELECT ${columns} FROM ${this.#sessions}`;
    for await (const rows of this.#cursor(select, limits)) {
      yield rows.map((r) => ({
        key: ++key,
        id: r[0],
        title: r[1],
        createdAt: r[2],
        updatedAt: r[3],
        metadata: r[4],
        ownerId: r[5],
      }));
    }
  }

  async *messages(limits: PageLimits): AsyncIterable<RawMessage[]> {
    // Schema version 1 had no seq: the order of the upgrade to version 2 (timestamps, then ids).
    const seq = this.#shape.seq ? 'm.seq' : 'row_number() OVER (ORDER BY m.created_at, m.id)';
    // The columns of schema version 7 read as NULL from an older schema.
    const columns = dataSelectList(
      MESSAGES_TABLE,
      (column, spec) => this.#read(`m.${column}`, spec),
      (column) => MESSAGES_TABLE[column].since < 7 || this.#shape.structured,
    );
    const select = `SELECT ${seq}, ${columns},
      EXISTS (SELECT 1 FROM ${this.#sessions} s WHERE s.id = m.session_id) FROM ${this.#messages} m`;
    for await (const rows of this.#cursor(select, limits)) {
      yield rows.map((r) => ({
        key: Number(r[0]),
        id: r[1],
        sessionId: r[2],
        role: r[3],
        content: r[4],
        createdAt: r[5],
        metadata: r[6],
        payload: r[7],
        format: r[8],
        digest: r[9],
        sessionFound: r[10] === true,
      }));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.query('COMMIT').catch(() => {});
    await this.#client.end().catch(() => {});
  }
}
