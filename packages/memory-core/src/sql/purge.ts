import type { Transaction } from 'kysely';
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
 * JSON). Unreadable
 * text sorting after the cutoff (`yesterday`) is not seen at all, hence not counted.
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
