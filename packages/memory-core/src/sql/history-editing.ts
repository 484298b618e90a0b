import type {
  Compilable,
  ExpressionBuilder,
  Kysely,
  QueryCreator,
  QueryResult,
  RawBuilder,
  Selectable,
} from 'kysely';
import type {
  MessageRow,
  MessageWrite,
  OperationKey,
  RewriteRequest,
  Scope,
  UpsertRequest,
} from '../base-memory.js';
import { ConflictError, SessionNotFoundError } from '../errors.js';
import { replayOperation } from '../operations.js';
import { dateToIsoMicros, type IsoMicros } from '../timestamp.js';
import { LIMITS, type MessageDigest, type RewriteResult, type UpsertResult } from '../types.js';
import type { SqlCodecs } from './codecs.js';
import type { RunCompiled } from './compiled-statement.js';
import type { Database, SessionsTable, StoredTimestamp } from './database.js';
import { digestColumns, type EditStatements, type Replacement } from './edit-statements.js';
import { storedDigest, toMessage } from './rows.js';

/**
 * Contract 1.1's history editing on the shared tables, written once for every SQL backend: each function runs
 * inside the store's write transaction (`trx`, an {@link EditTransaction}), reads only the rows its call names
 * or removes (through the `(session_id, id)` key and the history index), and updates the session row once.
 */

/** What the editing statements need of the store. */
export interface EditContext {
  readonly codecs: SqlCodecs;
  /** The messages' order key (see `SqlConversationMemory.orderKey`). */
  readonly orderKey: RawBuilder<StoredTimestamp>;
  /** True when triggers keep `message_count` and `last_message_at` (SQLite), false when the write path does. */
  readonly countsByTriggers: boolean;
  /**
   * True when a session row must be locked with `FOR UPDATE` (PostgreSQL); false when the transaction already
   * holds the database's write lock (SQLite's `BEGIN IMMEDIATE`).
   */
  readonly rowLocks: boolean;
  /** The dialect's `writesInWith`: an upsert's last write may carry the session row's update. */
  readonly writesInWith: boolean;
  /** The hot statements, compiled once per store on its query builder. */
  readonly statements: EditStatements;
}

/**
 * The write transaction the editing functions run in: `run` executes a compiled statement in it, and `db`, the
 * store's query builder, builds the statements not compiled once (compiled on it, its plugins applied, and run
 * through `run`). The store runs them through its `writeCompiled`, which on PostgreSQL drives one pooled
 * connection itself instead of building a Kysely transaction, its executor and connection provider per call.
 */
export interface EditTransaction {
  readonly run: RunCompiled;
  readonly db: Kysely<Database>;
}

type Trx = EditTransaction;

/** Compiles `query` on the store's builder and runs it in `trx`. */
function exec<R>(trx: Trx, query: Compilable<R>): Promise<QueryResult<R>> {
  return trx.run(query.compile());
}

/** The rows of `query` run in `trx`. */
async function all<R>(trx: Trx, query: Compilable<R>): Promise<R[]> {
  return (await exec(trx, query)).rows;
}

/** The first row of `query` run in `trx`, or `undefined`. */
async function first<R>(trx: Trx, query: Compilable<R>): Promise<R | undefined> {
  return (await exec(trx, query)).rows[0];
}

/** Rows per `IN (...)` list and per multi-row INSERT: well under both databases' parameter limits. */
const CHUNK = 500;

/** The session row in scope, locked for the rest of the transaction, or `undefined`. */
export async function lockSession(
  run: RunCompiled,
  ctx: EditContext,
  sessionId: string,
  scope: Scope,
): Promise<Selectable<SessionsTable> | undefined> {
  const { rows } = await run(ctx.statements.lockSession(scope, { sessionId }));
  return rows[0];
}

/** The recorded result of `operation` on the session, when the call is a replay (see core's `replayOperation`). */
async function replay<T>(
  trx: Trx,
  sessionId: string,
  operation: OperationKey | undefined,
): Promise<T | undefined> {
  if (operation === undefined) return undefined;
  const row = await first(
    trx,
    trx.db
      .selectFrom('message_operations')
      .select(['request_digest', 'result'])
      .where('session_id', '=', sessionId)
      .where('operation_id', '=', operation.operationId),
  );
  const recorded =
    row === undefined
      ? undefined
      : { requestDigest: row.request_digest, result: JSON.parse(row.result) as T };
  return replayOperation(sessionId, operation, recorded);
}

/** Records an operation's result and prunes the session's log to the latest `LIMITS.operationsKept`. */
async function record(trx: Trx, sessionId: string, operation: OperationKey | undefined, result: unknown) {
  if (operation === undefined) return;
  const last = await first(
    trx,
    trx.db
      .selectFrom('message_operations')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('session_id', '=', sessionId),
  );
  const seq = Number(last?.seq ?? 0) + 1;
  await exec(
    trx,
    trx.db.insertInto('message_operations').values({
      session_id: sessionId,
      operation_id: operation.operationId,
      request_digest: operation.requestDigest,
      result: JSON.stringify(result),
      seq,
    }),
  );
  if (seq > LIMITS.operationsKept) {
    await exec(
      trx,
      trx.db
        .deleteFrom('message_operations')
        .where('session_id', '=', sessionId)
        .where('seq', '<=', seq - LIMITS.operationsKept),
    );
  }
}

/** The later of `now` and a stored timestamp: appended rows never sort before the history they follow. */
function appendTime(ctx: EditContext, now: Date, latest: unknown): IsoMicros {
  const at = dateToIsoMicros(now);
  if (latest === null || latest === undefined) return at;
  const stored = ctx.codecs.decodeTimestamp(latest);
  return stored > at ? stored : at;
}

/** Inserts `messages` in order (their `seq` increases in call order), all with `createdAt` = `at`. */
async function append(
  trx: Trx,
  ctx: EditContext,
  sessionId: string,
  messages: MessageWrite[],
  at: IsoMicros,
) {
  for (let i = 0; i < messages.length; i += CHUNK) {
    await exec(trx, insertMessages(trx.db, ctx, sessionId, messages.slice(i, i + CHUNK), at));
  }
}

/** The INSERT of `messages` (at most {@link CHUNK}), all with `createdAt` = `at`. */
function insertMessages(
  qc: Kysely<Database> | QueryCreator<Database>,
  ctx: EditContext,
  sessionId: string,
  messages: MessageWrite[],
  at: IsoMicros,
) {
  const createdAt = ctx.codecs.encodeTimestamp(at);
  return qc.insertInto('messages').values(
    messages.map((m) => ({
      id: m.id,
      session_id: sessionId,
      role: m.role,
      content: m.content,
      created_at: createdAt,
      metadata: ctx.codecs.encodeMetadata(m.metadata),
      payload: m.payloadJson,
      format: m.format,
      digest: m.digest,
    })),
  );
}

/** The values {@link EditStatements.replaceMessage} binds for `m`. */
function replacement(ctx: EditContext, sessionId: string, m: MessageWrite): Replacement {
  return {
    sessionId,
    id: m.id,
    role: m.role,
    content: m.content,
    metadata: ctx.codecs.encodeMetadata(m.metadata),
    payload: m.payloadJson,
    format: m.format,
    digest: m.digest,
  };
}

/**
 * An upsert's writes, then the session row's one update: in place for `replaced` (seq, `created_at` and so the
 * order key are kept), appended at `at` for `appended`. Where the dialect has `writesInWith`, the last write
 * travels with the session's update in one statement. Only here, where no row is removed: the update's values
 * are known beforehand (the count grows by the appended rows, the last time is theirs), whereas recomputing
 * them would read the statement's snapshot, taken before its own writes.
 */
async function writeUpsert(
  trx: Trx,
  ctx: EditContext,
  sessionId: string,
  now: Date,
  replaced: MessageWrite[],
  appended: MessageWrite[],
  at: IsoMicros,
) {
  const change = { appended: appended.length, removed: 0, at: appended.length > 0 ? at : null };
  // The replacements that go alone: all of them, but the last when it carries the session's update.
  const carriesTouch = ctx.writesInWith && appended.length === 0;
  const alone = carriesTouch ? replaced.slice(0, -1) : replaced;
  for (const m of alone) await trx.run(ctx.statements.replaceMessage(replacement(ctx, sessionId, m)));
  if (!ctx.writesInWith) {
    if (appended.length > 0) await append(trx, ctx, sessionId, appended, at);
    await touchSession(trx, ctx, sessionId, now, change);
    return;
  }
  const updatedAt = ctx.codecs.encodeTimestamp(dateToIsoMicros(now));
  if (carriesTouch) {
    const last = replacement(ctx, sessionId, replaced[replaced.length - 1]!);
    await trx.run(ctx.statements.replaceAndTouch({ ...last, at: updatedAt }));
    return;
  }
  const lastChunk = Math.floor((appended.length - 1) / CHUNK) * CHUNK;
  if (lastChunk > 0) await append(trx, ctx, sessionId, appended.slice(0, lastChunk), at);
  await exec(
    trx,
    trx.db
      .with('appended', (qc) => insertMessages(qc, ctx, sessionId, appended.slice(lastChunk), at))
      .updateTable('sessions')
      .set((eb) => sessionActivity(ctx, eb, sessionId, updatedAt, change))
      .where('id', '=', sessionId),
  );
}

/**
 * The session row's one update after an edit: `updated_at`, and, unless triggers keep them, the counters
 * (`removed` rows fewer, `appended` more; `last_message_at` the appended rows' time, or recomputed through the
 * history index when rows were removed).
 */
async function touchSession(
  trx: Trx,
  ctx: EditContext,
  sessionId: string,
  now: Date,
  change: { appended: number; removed: number; at: IsoMicros | null },
) {
  const updatedAt = ctx.codecs.encodeTimestamp(dateToIsoMicros(now));
  if (ctx.countsByTriggers || (change.appended === 0 && change.removed === 0)) {
    // Replacements keep the count and the last message's time: the activity time alone changes.
    await trx.run(ctx.statements.touchUpdatedAt({ sessionId, at: updatedAt }));
    return;
  }
  await exec(
    trx,
    trx.db
      .updateTable('sessions')
      .set((eb) => sessionActivity(ctx, eb, sessionId, updatedAt, change))
      .where('id', '=', sessionId),
  );
}

/** What {@link touchSession} sets on the session row. */
function sessionActivity(
  ctx: EditContext,
  eb: ExpressionBuilder<Database, 'sessions'>,
  sessionId: string,
  updatedAt: StoredTimestamp,
  change: { appended: number; removed: number; at: IsoMicros | null },
) {
  if (ctx.countsByTriggers) return { updated_at: updatedAt };
  return {
    updated_at: updatedAt,
    message_count: eb('message_count', '+', change.appended - change.removed),
    last_message_at:
      change.removed === 0 && change.at !== null
        ? ctx.codecs.encodeTimestamp(change.at)
        : eb
            .selectFrom('messages')
            .select((m) => m.fn.max('messages.created_at').as('t'))
            .where('messages.session_id', '=', sessionId),
  };
}

/** The latest message of the session in history order, or `undefined`. */
function latest(trx: Trx, ctx: EditContext, sessionId: string) {
  return first(
    trx,
    trx.db
      .selectFrom('messages')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy(ctx.orderKey, 'desc')
      .orderBy('seq', 'desc')
      .limit(1),
  );
}

/**
 * The stored digests of the session's messages among `ids`, by id (others may be included). Only ids and digests
 * are read, the columns a digest is computed from only for rows without one (other writers' rows): a message
 * whose digest is the stored one costs nothing more. When the call names most of the history (`count` is the
 * session's message count), the usual whole-history upsert, one statement compiled once reads the whole session
 * instead of lists of ids to build, send and look up.
 */
async function storedDigests(
  trx: Trx,
  ctx: EditContext,
  sessionId: string,
  ids: readonly string[],
  count: number,
): Promise<Map<string, string>> {
  const stored = new Map<string, string>();
  const missing: string[] = [];
  const keep = (rows: readonly { id: string; digest: string | null }[]) => {
    for (const row of rows) {
      if (row.digest === null || row.digest === undefined) missing.push(row.id);
      else stored.set(row.id, row.digest);
    }
  };
  if (ids.length * 2 >= count) {
    keep((await trx.run(ctx.statements.sessionDigests({ sessionId }))).rows);
  } else {
    for (let i = 0; i < ids.length; i += CHUNK) {
      keep(
        await all(
          trx,
          trx.db
            .selectFrom('messages')
            .select(['id', 'digest'])
            .where('session_id', '=', sessionId)
            .where('id', 'in', ids.slice(i, i + CHUNK)),
        ),
      );
    }
  }
  for (let i = 0; i < missing.length; i += CHUNK) {
    const rows = await all(
      trx,
      digestColumns(trx.db)
        .where('session_id', '=', sessionId)
        .where('id', 'in', missing.slice(i, i + CHUNK)),
    );
    for (const row of rows) stored.set(row.id, storedDigest(row, ctx.codecs));
  }
  return stored;
}

/** `upsertMessages`: see `UpsertRequest`. */
export async function upsertMessages(
  trx: Trx,
  ctx: EditContext,
  request: UpsertRequest,
  scope: Scope,
): Promise<UpsertResult> {
  const { sessionId, messages, now } = request;
  const session = await lockSession(trx.run, ctx, sessionId, scope);
  if (session === undefined) throw new SessionNotFoundError(sessionId);
  const replayed = await replay<UpsertResult>(trx, sessionId, request.operation);
  if (replayed !== undefined) return replayed;
  if (request.ifLastId !== undefined) {
    const last = await latest(trx, ctx, sessionId);
    if ((last?.id ?? null) !== request.ifLastId) {
      throw new ConflictError('history', sessionId, undefined, { reason: 'last-id' });
    }
  }
  const ids = messages.map((m) => m.id);
  const stored = await storedDigests(trx, ctx, sessionId, ids, Number(session.message_count ?? 0));
  const appended: MessageWrite[] = [];
  const replaced: MessageWrite[] = [];
  let unchanged = 0;
  for (const m of messages) {
    const digest = stored.get(m.id);
    if (digest === undefined) appended.push(m);
    else if (digest === m.digest) unchanged++;
    else replaced.push(m);
  }
  if (appended.length + replaced.length > 0) {
    const at = appendTime(ctx, now, session.last_message_at);
    await writeUpsert(trx, ctx, sessionId, now, replaced, appended, at);
  }
  const result: UpsertResult = {
    ids,
    appended: appended.length,
    replaced: replaced.length,
    unchanged,
  };
  await record(trx, sessionId, request.operation, result);
  return result;
}

/** `rewriteHistory`: see `RewriteRequest`. Reads and deletes the suffix only, through the history index. */
export async function rewriteHistory(
  trx: Trx,
  ctx: EditContext,
  request: RewriteRequest,
  scope: Scope,
): Promise<RewriteResult> {
  const { sessionId, after, messages, now } = request;
  const session = await lockSession(trx.run, ctx, sessionId, scope);
  if (session === undefined) throw new SessionNotFoundError(sessionId);
  const replayed = await replay<RewriteResult>(trx, sessionId, request.operation);
  if (replayed !== undefined) return replayed;
  const key = ctx.orderKey;
  let from: { at: StoredTimestamp; seq: number; createdAt: unknown } | null = null;
  if (after !== null) {
    const row = await first(
      trx,
      trx.db
        .selectFrom('messages')
        .select(['seq', 'created_at'])
        .select(key.as('order_at'))
        .where('session_id', '=', sessionId)
        .where('id', '=', after),
    );
    if (row === undefined)
      throw new ConflictError('history', sessionId, undefined, { reason: 'after-missing' });
    // Decoded and encoded again, as history cursors are: the key as a parameter of the dialect's own form.
    from = {
      at: ctx.codecs.encodeTimestamp(ctx.codecs.decodeTimestamp(row.order_at)),
      seq: Number(row.seq),
      createdAt: row.created_at,
    };
  }
  let removedQuery = digestColumns(trx.db).where('session_id', '=', sessionId);
  if (from !== null) {
    const { at, seq } = from;
    // `(key, seq) > (at, seq)` as a row comparison, which PostgreSQL seeks in the history index: the expanded OR
    // form walked every row sharing the key (a whole-history upsert gives all its messages one createdAt), so a
    // rewrite after the last of 10,000 such messages read them all. `key >= at` is for SQLite, whose key is an
    // expression: it seeks its expression index on a plain comparison, not on a row comparison holding it.
    removedQuery = removedQuery.where((eb) =>
      eb.and([eb(key, '>=', at), eb(eb.tuple(key, eb.ref('seq')), '>', eb.tuple(at, seq))]),
    );
  }
  const removedRows = await all(trx, removedQuery.orderBy(key, 'asc').orderBy('seq', 'asc'));
  const removed = removedRows.map((row) => row.id);
  const differs = (expected: readonly string[] | undefined, actual: () => string[]) =>
    expected !== undefined &&
    (expected.length !== removed.length || actual().some((value, i) => value !== expected[i]));
  if (
    differs(request.expectedIds, () => removed) ||
    differs(request.expectedDigests, () => removedRows.map((row) => storedDigest(row, ctx.codecs)))
  ) {
    throw new ConflictError('history', sessionId, undefined, { reason: 'expected-ids' });
  }
  // By (session_id, id), the key both databases index: PostgreSQL has no index on seq alone, and a delete by seq
  // walked the session's whole history index (a rewrite of 10 messages cost 5x more at 10,000 than at 100).
  for (let i = 0; i < removed.length; i += CHUNK) {
    await exec(
      trx,
      trx.db
        .deleteFrom('messages')
        .where('session_id', '=', sessionId)
        .where('id', 'in', removed.slice(i, i + CHUNK)),
    );
  }
  // An id the kept history still holds cannot be appended again.
  const newIds = messages.map((m) => m.id);
  for (let i = 0; i < newIds.length; i += CHUNK) {
    const taken = await first(
      trx,
      trx.db
        .selectFrom('messages')
        .select('id')
        .where('session_id', '=', sessionId)
        .where('id', 'in', newIds.slice(i, i + CHUNK)),
    );
    if (taken !== undefined) throw new ConflictError('message', taken.id);
  }
  const at = appendTime(ctx, now, from?.createdAt ?? null);
  if (messages.length > 0) await append(trx, ctx, sessionId, messages, at);
  if (removed.length + messages.length > 0) {
    await touchSession(trx, ctx, sessionId, now, {
      appended: messages.length,
      removed: removed.length,
      at: messages.length > 0 ? at : null,
    });
  }
  const result: RewriteResult = { removed, ids: newIds };
  await record(trx, sessionId, request.operation, result);
  return result;
}

/** `deleteMessages`: the given ids of the session (unknown ones ignored); 0 for a session not in scope. */
export async function deleteMessages(
  trx: Trx,
  ctx: EditContext,
  sessionId: string,
  ids: readonly string[],
  now: Date,
  scope: Scope,
): Promise<number> {
  if ((await lockSession(trx.run, ctx, sessionId, scope)) === undefined) return 0;
  let deleted = 0;
  for (let i = 0; i < ids.length; i += CHUNK) {
    const result = await exec(
      trx,
      trx.db
        .deleteFrom('messages')
        .where('session_id', '=', sessionId)
        .where('id', 'in', ids.slice(i, i + CHUNK)),
    );
    deleted += Number(result.numAffectedRows ?? 0);
  }
  if (deleted > 0) await touchSession(trx, ctx, sessionId, now, { appended: 0, removed: deleted, at: null });
  return deleted;
}

/** `popMessage`: removes and returns the latest message in history order; `null` when none or not in scope. */
export async function popMessage(
  trx: Trx,
  ctx: EditContext,
  sessionId: string,
  now: Date,
  scope: Scope,
): Promise<MessageRow | null> {
  if ((await lockSession(trx.run, ctx, sessionId, scope)) === undefined) return null;
  const row = await latest(trx, ctx, sessionId);
  if (row === undefined) return null;
  await exec(
    trx,
    trx.db.deleteFrom('messages').where('session_id', '=', sessionId).where('seq', '=', row.seq),
  );
  await touchSession(trx, ctx, sessionId, now, { appended: 0, removed: 1, at: null });
  return toMessage(row, ctx.codecs);
}

/** `getHistoryDigests`: ids and digests oldest first; payloads read only for rows without a stored digest. */
export async function readDigests(
  db: Kysely<Database>,
  ctx: EditContext,
  sessionId: string,
  scope: Scope,
): Promise<MessageDigest[]> {
  let query = digestColumns(db).where('session_id', '=', sessionId);
  const owner = scope.ownerId;
  if (owner !== null) {
    query = query.where('session_id', 'in', (eb) =>
      eb.selectFrom('sessions').select('id').where('id', '=', sessionId).where('owner_id', '=', owner),
    );
  }
  const rows = await query.orderBy(ctx.orderKey, 'asc').orderBy('seq', 'asc').execute();
  return rows.map((row) => ({ id: row.id, digest: storedDigest(row, ctx.codecs) }));
}
