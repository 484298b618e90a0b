import type { Transaction } from 'kysely';
import type { Scope, SessionUpdate } from '../base-memory.js';
import { applySessionUpdate } from '../session-update.js';
import { dateToIsoMicros } from '../timestamp.js';
import type { Session } from '../types.js';
import type { Database } from './database.js';
import { type EditContext, lockSession } from './history-editing.js';
import { toSession } from './rows.js';

/**
 * `updateSession` on the shared tables, inside the store's write transaction: the row is locked (`FOR UPDATE` on
 * PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the write lock), so the merge patch and the `ifMetadata`
 * check (core's `applySessionUpdate`, in JavaScript: the same semantics on every backend) see the metadata no
 * other writer can change before this one commits. `null` when the session is not in scope.
 */
export async function updateSession(
  trx: Transaction<Database>,
  ctx: EditContext,
  sessionId: string,
  update: SessionUpdate,
  scope: Scope,
): Promise<Session | null> {
  const row = await lockSession((query) => trx.executeQuery(query), ctx, sessionId, scope);
  if (row === undefined) return null;
  const metadata = applySessionUpdate(sessionId, ctx.codecs.decodeMetadata(row.metadata), update);
  const changes = {
    metadata: ctx.codecs.encodeMetadata(metadata),
    ...(update.title === undefined ? {} : { title: update.title }),
    ...(update.updatedAt === undefined
      ? {}
      : { updated_at: ctx.codecs.encodeTimestamp(dateToIsoMicros(update.updatedAt)) }),
  };
  await trx.updateTable('sessions').set(changes).where('id', '=', sessionId).execute();
  return toSession({ ...row, ...changes }, ctx.codecs);
}
