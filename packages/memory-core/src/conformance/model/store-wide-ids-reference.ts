import type { EncodedMessage, MessageRecord, Scope } from '../../base-memory.js';
import { ConflictError } from '../../errors.js';
import { InMemoryConversationMemory } from '../../in-memory/in-memory-memory.js';

const UNSCOPED: Scope = Object.freeze({ ownerId: null });

/**
 * The reference for a backend without `historyEditing` (contract 1.0 ids): a message id is unique across the whole
 * store, and an id already stored is a conflict even for an equal message (once the session is known to exist). Small stores only: it looks at every
 * session on each append.
 */
export class StoreWideIdsReference extends InMemoryConversationMemory {
  protected override async _addMessage(record: MessageRecord, scope: Scope, encoded?: EncodedMessage) {
    // The session is checked first, as every backend does: a message to a missing session is
    // SessionNotFoundError even when its id is taken elsewhere.
    if (!(await this._getSession(record.sessionId, scope))) return super._addMessage(record, scope, encoded);
    const sessions = await this._listSessions(
      { order: 'id', limit: 10_000, after: null, ids: undefined },
      UNSCOPED,
    );
    for (const session of sessions) {
      const digests = await this._readDigests(session.id, UNSCOPED);
      if (digests.some((d) => d.id === record.id)) throw new ConflictError('message', record.id);
    }
    return super._addMessage(record, scope, encoded);
  }
}
