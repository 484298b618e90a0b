/** A stored message as saveChat compares it: its id and the store's digest (`getHistoryDigests`). */
export interface StoredDigest {
  readonly id: string;
  readonly digest: string;
}

/** An incoming message as saveChat compares it: id, role and the digest of its stored form. */
export interface ComparedMessage extends StoredDigest {
  readonly role: string;
}

/** What the request says it is (the `DefaultChatTransport` body's `trigger` and `messageId`), when known. */
export interface SaveHints {
  readonly trigger?: 'submit-message' | 'regenerate-message' | undefined;
  readonly messageId?: string | undefined;
}

/** How one save changes the stored history (indices are into the incoming messages). */
export type SavePlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'upsert'; readonly indices: readonly number[]; readonly ifLastId: string | null }
  | {
      readonly kind: 'rewrite';
      /** The first incoming index written; every stored message from this index on is replaced. */
      readonly from: number;
      readonly after: string | null;
      readonly expectedIds: readonly string[];
    }
  | { readonly kind: 'conflict'; readonly why: string };

/**
 * Decides how to bring the stored history to the incoming one, writing only what changed:
 * - the stored ids are a prefix of the incoming ids: upsert the new messages and the changed ones (a continued
 *   assistant message keeps its id), guarded by the id of the latest stored message;
 * - otherwise the incoming history must be what `regenerate` or an edit makes of the stored one: the stored
 *   history cut short (the request before the reply), or cut short and followed by one new assistant message
 *   after a user message (the reply). The stored tail from the first difference is then replaced in one
 *   compare-and-swap against its ids;
 * - anything else means another writer (a second tab) added what this request does not know: a conflict.
 *
 * `rekeyed` lists the incoming indices whose id differs from the stored one only because the store made the
 * stored id up (the SDK gave the empty id) while the client made up its own: the same message, stored again
 * under the client's id.
 */
export function planSave(
  stored: readonly StoredDigest[],
  incoming: readonly ComparedMessage[],
  hints: SaveHints = {},
  rekeyed: ReadonlySet<number> = new Set(),
): SavePlan {
  const common = Math.min(stored.length, incoming.length);
  let prefix = 0;
  while (prefix < common && (stored[prefix]!.id === incoming[prefix]!.id || rekeyed.has(prefix))) prefix++;
  let firstChanged = -1;
  for (let i = 0; i < prefix; i++) {
    if (stored[i]!.id !== incoming[i]!.id || stored[i]!.digest !== incoming[i]!.digest) {
      firstChanged = i;
      break;
    }
  }
  const rekeyedAt = [...rekeyed].filter((i) => i < prefix);

  if (prefix === stored.length && rekeyedAt.length === 0) {
    const indices: number[] = [];
    for (let i = 0; i < incoming.length; i++) {
      if (i >= prefix || incoming[i]!.digest !== stored[i]!.digest) indices.push(i);
    }
    if (indices.length === 0) return { kind: 'none' };
    return { kind: 'upsert', indices, ifLastId: stored.at(-1)?.id ?? null };
  }

  if (prefix < stored.length) {
    const tail = incoming.slice(prefix);
    const storedIds = new Set(stored.map((message) => message.id));
    const cutShort = tail.length === 0;
    const newReply =
      tail.length === 1 &&
      tail[0]!.role === 'assistant' &&
      !storedIds.has(tail[0]!.id) &&
      incoming[prefix - 1]?.role === 'user';
    if (incoming.length === 0) {
      // No SDK request sends an empty history; dropping every message needs deleteChat.
      return { kind: 'conflict', why: 'has messages, which an empty history would all drop' };
    }
    if (!cutShort && !newReply) {
      return {
        kind: 'conflict',
        why: 'has messages this request does not have (another writer, e.g. a second tab, changed it)',
      };
    }
    if (cutShort && hints.trigger === 'submit-message' && hints.messageId === undefined) {
      return { kind: 'conflict', why: 'has messages after this history, which a plain send cannot drop' };
    }
    if (
      cutShort &&
      hints.trigger === 'regenerate-message' &&
      hints.messageId !== undefined &&
      stored[prefix]!.id !== hints.messageId
    ) {
      return { kind: 'conflict', why: 'does not continue this history with the message to regenerate' };
    }
  }
  const from = Math.min(prefix, ...(firstChanged >= 0 ? [firstChanged] : []));
  return {
    kind: 'rewrite',
    from,
    after: from === 0 ? null : stored[from - 1]!.id,
    expectedIds: stored.slice(from).map((message) => message.id),
  };
}
