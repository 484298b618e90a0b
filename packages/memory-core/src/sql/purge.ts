import { type Kysely, sql, type Transaction } from 'kysely';
import type { PurgeBatch, PurgeBatchResult, Scope } from '../base-memory.js';
import { dateToIsoMicros, parseTimestamp } from '../timestamp.js';
import type { Database } from './database.js';
import type { EditContext } from './history-editing.js';

/**
 * One batch of `purgeSessions`, as one short write transaction: up to `limit` sessions of the scope whose
 * `updated_at` is before the cutoff, found through the activity index (`updated_at`, `id`) and read inside the
 * transaction (locked on PostgreSQL), so a session that became active since is left; they are deleted with their
 * messages (and operations: cascade and trigger).
 *
 * A timestamp that cannot be read (legacy rows: `NULL`, or SQLite text that is no timestamp) is never purged.
 * `NULL` ones are counted once, in the first batch; SQLite text that sorts before the cutoff but does not parse
 * is counted when a batch meets it and passed by the cursor (`next`: the last key seen as stored, and its id, as
 * JSON). Unreadable text sorting at or after the cutoff (`yesterday`), which no batch meets, is counted by
 * {@link unreadableAfterCutoff} once per purge.
 */
export async function purgeBatch(
  trx: Transaction<Database>,
  ctx: EditContext,
  batch: PurgeBatch,
  scope: Scope,
): Promise<PurgeBatchResult> {
  const cutoffIso = dateToIsoMicros(batch.inactiveBefore);
  const cutoff = ctx.codecs.encodeTimestamp(cutoffIso);
  const owner = scope.ownerId;
  let unreadable = 0;
  if (batch.after === null) {
    let nulls = trx
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('updated_at', 'is', null);
    if (owner !== null) nulls = nulls.where('owner_id', '=', owner);
    unreadable += Number((await nulls.executeTakeFirstOrThrow()).n);
  }
  let query = trx.selectFrom('sessions').select(['id', 'updated_at']).where('updated_at', '<', cutoff);
  if (owner !== null) query = query.where('owner_id', '=', owner);
  if (batch.after !== null) {
    // The key exactly as stored (text of either dialect), so that the cursor moves past unreadable text too.
    const [stored, id] = JSON.parse(batch.after) as [string, string];
    query = query.where((eb) =>
      eb.or([eb('updated_at', '>', stored), eb.and([eb('updated_at', '=', stored), eb('id', '>', id)])]),
    );
  }
  query = query.orderBy('updated_at', 'asc').orderBy('id', 'asc').limit(batch.limit);
  if (ctx.rowLocks) query = query.forUpdate();
  const candidates = await query.execute();
  const doomed: string[] = [];
  for (const row of candidates) {
    const at = readable(row.updated_at);
    if (at === null) unreadable++;
    else if (at < cutoffIso) doomed.push(row.id);
  }
  let messages = 0;
  if (doomed.length > 0) {
    const counted = await trx
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('session_id', 'in', doomed)
      .executeTakeFirstOrThrow();
    messages = Number(counted.n);
    await trx.deleteFrom('sessions').where('id', 'in', doomed).execute();
    // Explicit, as in deleteSession: legacy SQLite files may not enforce the foreign key's cascade.
    await trx.deleteFrom('messages').where('session_id', 'in', doomed).execute();
  }
  const last = candidates[candidates.length - 1];
  const next =
    candidates.length < batch.limit || last === undefined
      ? null
      : JSON.stringify([
          typeof last.updated_at === 'string' ? last.updated_at : ctx.codecs.decodeTimestamp(last.updated_at),
          last.id,
        ]);
  return { sessions: doomed.length, messages, unreadable, next };
}

/** The instant a stored `updated_at` holds, or `null` when it cannot be read. */
function readable(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : dateToIsoMicros(value);
  if (typeof value !== 'string') return null;
  return parseTimestamp(value);
}

/**
 * The sessions of the scope whose `updated_at` is text at or after the cutoff (in text order) that cannot be read
 * as a timestamp (`yesterday`, `2025-02-30T...`, a BLOB): no batch meets them, since batches walk the text
 * before the cutoff, yet `purgeSessions` counts every unreadable session in `unreadable`. For dialects that store
 * timestamps as text (SQLite, see `SqlDialect.textTimestamps`); the purge runs it once, before its first batch.
 *
 * One read, outside the batches' write transactions so that it holds no write lock: through the activity index
 * over the range at or after the cutoff, it returns only the rows that are not surely readable, that is not the
 * canonical naive form this library writes with a possible date and time (a day after the 28th is checked with
 * SQLite's `date()`, which moves an impossible date to another day), and decides those with `parseTimestamp`, the
 * one definition of readable. Its cost grows with the sessions active since the cutoff, a few tenths of a
 * microsecond each, not with the idle ones the batches delete.
 */
export async function unreadableAfterCutoff(
  db: Kysely<Database>,
  ctx: EditContext,
  inactiveBefore: Date,
  scope: Scope,
): Promise<number> {
  const cutoff = ctx.codecs.encodeTimestamp(dateToIsoMicros(inactiveBefore));
  const text = sql.ref('updated_at');
  const surelyReadable = sql<boolean>`(typeof(${text}) = 'text'
    AND ${text} GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]'
    AND substr(${text}, 1, 4) >= '0100'
    AND substr(${text}, 6, 2) BETWEEN '01' AND '12'
    AND substr(${text}, 12, 2) < '24'
    AND (substr(${text}, 9, 2) BETWEEN '01' AND '28' OR date(substr(${text}, 1, 10)) = substr(${text}, 1, 10)))`;
  let query = db
    .selectFrom('sessions')
    .select(['id', 'updated_at'])
    .where('updated_at', '>=', cutoff)
    .where(sql<boolean>`NOT ${surelyReadable}`);
  if (scope.ownerId !== null) query = query.where('owner_id', '=', scope.ownerId);
  const suspects = await query.execute();
  let unreadable = 0;
  for (const row of suspects) if (readable(row.updated_at) === null) unreadable++;
  return unreadable;
}
