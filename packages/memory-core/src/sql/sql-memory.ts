import type { Kysely, Transaction } from 'kysely';
import {
  BaseConversationMemory,
  type BaseMemoryOptions,
  type MessageRecord,
  type SessionRecord,
} from '../base-memory.js';
import { ConflictError, SessionNotFoundError } from '../errors.js';
import type { Message, Session, SessionSummary } from '../types.js';
import type { SqlCodecs } from './codecs.js';
import type { Database } from './database.js';
import { toMessage, toSession, toSessionSummary } from './rows.js';

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
    const at = this.codecs.encodeTimestamp(record.createdAt);
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
    const at = this.codecs.encodeTimestamp(record.createdAt);
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
      .set({ title, updated_at: this.codecs.encodeTimestamp(updatedAt) })
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
}
