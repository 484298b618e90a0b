import { expect } from 'vitest';
import type { ConversationMemory } from '../conversation-memory.js';
import type { PortableRecord } from '../portable.js';
import { LIMITS, type Message, type SessionSummary } from '../types.js';
import { FAKE_CLOCK_START } from './fake-clock.js';

/** The owner of the view every case runs on in `view` mode. */
export const VIEW_OWNER = 'owner-a';

/** The other owner whose sessions are present, unseen, while a case runs on the view. */
export const OTHER_OWNER = 'owner-b';

/** The seeded sessions: two of {@link OTHER_OWNER} (one with messages) and one of no owner. */
export const SEEDED_SESSION_IDS = ['other-owner-1', 'other-owner-2', 'no-owner-1'] as const;

/** The seeded messages' ids, which stay taken while the case runs. */
export const SEEDED_MESSAGE_IDS = ['other-owner-1-m1', 'other-owner-1-m2', 'no-owner-1-m1'] as const;

// Seeded at the fake clock's start, so they tie with the timestamps of clock-driven cases, and with metadata and
// words the cases filter and search for: a listing, filter or search that forgets the owner shows them.
const AT = new Date(FAKE_CLOCK_START).toISOString().replace('Z', '000Z');
const METADATA = {
  userId: 'u1',
  channel: 'web',
  topic: 'x',
  team: 'a',
  all: true,
  even: true,
  k: 1,
  n: 1,
  tags: ['billing', 'urgent', 3],
};
const WORDS = 'hello secret password reset Lisbon tomorrow sunny sunscreen needle quasar こんにちは Погода';

/**
 * What the unscoped store holds besides the view's data in `view` mode, as portable records (imported, so that
 * seeding reads no clock: a case that sets the clock back is not pushed forward by the seed).
 */
export const OTHER_OWNERS_RECORDS: readonly PortableRecord[] = Object.freeze([
  {
    type: 'session',
    id: 'other-owner-1',
    title: 'another owner',
    createdAt: AT,
    updatedAt: AT,
    metadata: METADATA,
    ownerId: OTHER_OWNER,
  },
  {
    type: 'message',
    id: 'other-owner-1-m1',
    sessionId: 'other-owner-1',
    role: 'user',
    content: WORDS,
    createdAt: AT,
    metadata: METADATA,
  },
  {
    type: 'message',
    id: 'other-owner-1-m2',
    sessionId: 'other-owner-1',
    role: 'assistant',
    content: `${WORDS} again`,
    createdAt: AT,
    metadata: {},
  },
  {
    type: 'session',
    id: 'other-owner-2',
    title: null,
    createdAt: AT,
    updatedAt: AT,
    metadata: {},
    ownerId: OTHER_OWNER,
  },
  {
    type: 'session',
    id: 'no-owner-1',
    title: 'nobody',
    createdAt: AT,
    updatedAt: AT,
    metadata: METADATA,
    ownerId: null,
  },
  {
    type: 'message',
    id: 'no-owner-1-m1',
    sessionId: 'no-owner-1',
    role: 'user',
    content: WORDS,
    createdAt: AT,
    metadata: {},
  },
]);

/** Every session and history the unscoped store shows outside the view's owner. */
export interface OtherOwnersSnapshot {
  sessions: SessionSummary[];
  histories: Record<string, Message[]>;
}

/** Reads, through the unscoped store, every session not of {@link VIEW_OWNER}, with its history. */
export async function snapshotOtherOwners(store: ConversationMemory): Promise<OtherOwnersSnapshot> {
  const sessions: SessionSummary[] = [];
  for (let offset = 0; ; offset += LIMITS.sessionsLimit) {
    const page = await store.getSessions({ limit: LIMITS.sessionsLimit, offset });
    sessions.push(...page.filter((session) => session.ownerId !== VIEW_OWNER));
    if (page.length < LIMITS.sessionsLimit) break;
  }
  const histories: Record<string, Message[]> = {};
  for (const session of sessions) histories[session.id] = await store.getHistory(session.id);
  return { sessions, histories };
}

/**
 * Writes {@link OTHER_OWNERS_RECORDS} through the unscoped `store`, checks they read back as seeded (so the
 * leak checks are meaningful), and returns their snapshot for {@link expectOtherOwnersUnchanged}.
 */
export async function seedOtherOwners(store: ConversationMemory): Promise<OtherOwnersSnapshot> {
  await store.importRecords(OTHER_OWNERS_RECORDS);
  const snapshot = await snapshotOtherOwners(store);
  expect(
    snapshot.sessions.map((s) => [s.id, s.ownerId, s.messageCount]).sort(),
    'the other owners were not seeded as given',
  ).toEqual([
    ['no-owner-1', null, 1],
    ['other-owner-1', OTHER_OWNER, 2],
    ['other-owner-2', OTHER_OWNER, 0],
  ]);
  return snapshot;
}

/** Expects the sessions and messages outside the view's owner to be exactly those seeded: none changed or added. */
export async function expectOtherOwnersUnchanged(
  store: ConversationMemory,
  seeded: OtherOwnersSnapshot,
): Promise<void> {
  expect(
    await snapshotOtherOwners(store),
    "the case changed another owner's (or no owner's) sessions or messages through the view",
  ).toEqual(seeded);
}
