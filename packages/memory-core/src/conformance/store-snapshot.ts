import type { ConversationMemory } from '../conversation-memory.js';
import { LIMITS, type Message, type SessionSummary } from '../types.js';

/** Everything a store shows through its read methods: every summary, in order, and every history. */
export interface StoreSnapshot {
  sessions: SessionSummary[];
  histories: Record<string, Message[]>;
}

/**
 * Reads the whole store through the contract, page by page, to compare before and after a call that must
 * write nothing, or one store with another.
 */
export async function snapshotStore(store: ConversationMemory): Promise<StoreSnapshot> {
  const sessions: SessionSummary[] = [];
  for (;;) {
    const page = await store.getSessions({ limit: LIMITS.sessionsLimit, offset: sessions.length });
    sessions.push(...page);
    if (page.length < LIMITS.sessionsLimit) break;
  }
  const histories: Record<string, Message[]> = {};
  for (const session of sessions) histories[session.id] = await store.getHistory(session.id);
  return { sessions, histories };
}

/** Every message of the store, whatever its session, in snapshot order. */
export function allMessages(snapshot: StoreSnapshot): Message[] {
  return Object.values(snapshot.histories).flat();
}
