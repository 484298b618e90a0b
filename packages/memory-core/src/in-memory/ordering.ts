import type { Session } from '../types.js';

/**
 * The order of `getSessions`: latest `updatedAt` first, then id descending. SQL backends sort by the same two
 * columns (ids compared byte-wise, which equals this code-unit comparison for the ASCII of UUIDs).
 */
export function compareSessionsByActivity(a: Session, b: Session): number {
  const byTime = b.updatedAt.getTime() - a.updatedAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The order of `getSessionsPage`: newest `createdAt` first, then id descending; positive when `a` comes after `b`.
 */
export function compareSessionsByCreation(
  a: Pick<Session, 'createdAt' | 'id'>,
  b: Pick<Session, 'createdAt' | 'id'>,
): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
