import type { Kysely, Transaction } from 'kysely';
import {
  BaseConversationMemory,
  type BaseMemoryOptions,
  type MessageRecord,
  type SessionRecord,
} from '../base-memory.js';
import { ConflictError, SessionNotFoundError } from '../errors.js';
import type { ImportResult, PortableMessage, PortableSession } from '../portable.js';
import { dateToIsoMicros } from '../timestamp.js';
import type { Message, Session, SessionSummary } from '../types.js';
import type { SqlCodecs } from './codecs.js';
import type { Database } from './database.js';
import { toMessage, toPortableMessage, toPortableSession, toSession, toSessionSummary } from './rows.js';

/** Rows per multi-row INSERT: 1000 x 6 parameters stays under SQLite's 32,766 and PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 1000;

/** What a SQL backend hands to the shared query code. */
export interface SqlMemoryOptions extends BaseMemoryOptions {
  /** The dialect's timestamp and metadata codecs. */
  codecs: SqlCodecs;
}

/**
 * The contract written once for every SQL backend, against the shared {@link Database} type. A backend
 * supplies the Kysely instance, its codecs, its schema setup (`_init`), how a write transaction starts
 * (`writeTransaction`, e.g. `BEGIN IMMEDIATE` on SQLite), how its driver's errors map to contract errors
 * (`mapError`) and what closing releases (`_close`).
 */
export abstract class SqlConversationMemory extends BaseConversationMemory {
  /** The query builder every shared query runs on. */
  protected abstract readonly db: Kysely<Database>;
  /** The dialect's codecs. */
  protected readonly codecs: SqlCodecs;

  constructor(options: SqlMemoryOptions) {
    super(options);
    this.codecs = options.codecs;
  }

  /** Runs `work` in a transaction that writes; the default is Kysely's transaction. */
  protected writeTransaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  protected async _createSession(record: SessionRecord): Promise<void> {
    const at = this.codecs.encodeTimestamp(dateToIsoMicros(record.createdAt));
    const result = await this.db
      .insertInto('sessions')
      .values({
        id: record.id,
        title: record.title,
        created_at: at,
        updated_at: at,
        metadata: this.codecs.encodeMetadata(record.metadata),
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new ConflictError('session', record.id);
  }

  protected async _addMessage(record: MessageRecord): Promise<void> {
    const at = this.codecs.encodeTimestamp(dateToIsoMicros(record.createdAt));
    await this.writeTransaction(async (trx) => {
      // The session row is updated first: it proves the session exists and, on PostgreSQL, locks it so that
      // concurrent writers to one session commit in the order their sequence numbers were drawn.
      const updated = await trx
        .updateTable('sessions')
        .set((eb) => ({ updated_at: at, last_message_at: at, message_count: eb('message_count', '+', 1) }))
        .where('id', '=', record.sessionId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) throw new SessionNotFoundError(record.sessionId);
      const inserted = await trx
        .insertInto('messages')
        .values({
          id: record.id,
          session_id: record.sessionId,
          role: record.role,
          content: record.content,
          created_at: at,
          metadata: this.codecs.encodeMetadata(record.metadata),
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) throw new ConflictError('message', record.id);
    });
  }

  protected async _getHistory(sessionId: string, limit: number | undefined): Promise<Message[]> {
    const query = this.db.selectFrom('messages').selectAll().where('session_id', '=', sessionId);
    if (limit === undefined) {
      const rows = await query.orderBy('created_at', 'asc').orderBy('seq', 'asc').execute();
      return rows.map((row) => toMessage(row, this.codecs));
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(limit).execute();
    return rows.reverse().map((row) => toMessage(row, this.codecs));
  }

  protected async _getSessions(limit: number, offset: number): Promise<SessionSummary[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map((row) => toSessionSummary(row, this.codecs));
  }

  protected async _getSession(sessionId: string): Promise<Session | null> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return row ? toSession(row, this.codecs) : null;
  }

  protected async _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('sessions')
      .set({ title, updated_at: this.codecs.encodeTimestamp(dateToIsoMicros(updatedAt)) })
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  protected async _deleteSession(sessionId: string): Promise<boolean> {
    return this.writeTransaction(async (trx) => {
      // Explicit, not left to ON DELETE CASCADE: legacy SQLite files may not enforce the foreign key.
      await trx.deleteFrom('messages').where('session_id', '=', sessionId).execute();
      const result = await trx.deleteFrom('sessions').where('id', '=', sessionId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  protected async _clearAll(): Promise<void> {
    await this.writeTransaction(async (trx) => {
      await trx.deleteFrom('messages').execute();
      await trx.deleteFrom('sessions').execute();
    });
  }

  protected async _exportSessions(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
  ): Promise<PortableSession[]> {
    let query = this.db.selectFrom('sessions').selectAll().orderBy('id', 'asc').limit(limit);
    if (afterId !== null) query = query.where('id', '>', afterId);
    if (sessionIds) {
      if (sessionIds.length === 0) return [];
      query = query.where('id', 'in', sessionIds);
    }
    const rows = await query.execute();
    return rows.map((row) => toPortableSession(row, this.codecs));
  }

  protected async _exportMessages(
    sessionId: string,
    offset: number,
    limit: number,
  ): Promise<PortableMessage[]> {
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('created_at', 'asc')
      .orderBy('seq', 'asc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map((row) => toPortableMessage(row, this.codecs));
  }

  protected async _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
  ): Promise<ImportResult> {
    const { encodeTimestamp, encodeMetadata } = this.codecs;
    return this.writeTransaction(async (trx) => {
      const inBatch = new Set(sessions.map((s) => s.id));
      const needed = [...new Set(messages.map((m) => m.sessionId))].filter((id) => !inBatch.has(id));
      if (needed.length > 0) {
        const found = new Set<string>();
        for (const ids of chunks(needed, ROWS_PER_INSERT)) {
          const rows = await trx.selectFrom('sessions').select('id').where('id', 'in', ids).execute();
          for (const row of rows) found.add(row.id);
        }
        const missing = needed.find((id) => !found.has(id));
        if (missing !== undefined) throw new SessionNotFoundError(missing);
      }
      let sessionsWritten = 0;
      for (const part of chunks(sessions, ROWS_PER_INSERT)) {
        const result = await trx
          .insertInto('sessions')
          .values(
            part.map((s) => ({
              id: s.id,
              title: s.title,
              created_at: encodeTimestamp(s.createdAt),
              updated_at: encodeTimestamp(s.updatedAt),
              metadata: encodeMetadata(s.metadata),
            })),
          )
          .onConflict((conflict) => conflict.column('id').doNothing())
          .executeTakeFirst();
        sessionsWritten += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
      let messagesWritten = 0;
      for (const part of chunks(messages, ROWS_PER_INSERT)) {
        const result = await trx
          .insertInto('messages')
          .values(
            part.map((m) => ({
              id: m.id,
              session_id: m.sessionId,
              role: m.role,
              content: m.content,
              created_at: encodeTimestamp(m.createdAt),
              metadata: encodeMetadata(m.metadata),
            })),
          )
          .onConflict((conflict) => conflict.column('id').doNothing())
          .executeTakeFirst();
        messagesWritten += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
      if (messagesWritten > 0) {
        for (const ids of chunks([...new Set(messages.map((m) => m.sessionId))], ROWS_PER_INSERT)) {
          await recountSessions(trx, ids);
        }
      }
      return {
        sessions: { written: sessionsWritten, skipped: sessions.length - sessionsWritten },
        messages: { written: messagesWritten, skipped: messages.length - messagesWritten },
      };
    });
  }

  /** Counts every session and message; for `check()`. */
  protected async countRows(): Promise<{ sessions: number; messages: number }> {
    const [sessions, messages] = await Promise.all([
      this.db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { sessions: Number(sessions.n), messages: Number(messages.n) };
  }
}

/**
 * Recomputes `message_count` and `last_message_at` of the given sessions from their messages: after a bulk
 * import, and after upgrading a legacy file, whose sessions had no such columns.
 */
export async function recountSessions(
  db: Kysely<Database> | Transaction<Database>,
  sessionIds: readonly string[],
) {
  if (sessionIds.length === 0) return;
  await db
    .updateTable('sessions')
    .set((eb) => ({
      message_count: eb
        .selectFrom('messages')
        .select((m) => m.fn.countAll<number>().as('n'))
        .whereRef('messages.session_id', '=', 'sessions.id'),
      last_message_at: eb
        .selectFrom('messages')
        .select((m) => m.fn.max('messages.created_at').as('t'))
        .whereRef('messages.session_id', '=', 'sessions.id'),
    }))
    .where('id', 'in', sessionIds)
    .execute();
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
