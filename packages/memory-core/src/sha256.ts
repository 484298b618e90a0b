import * as crypto from 'node:crypto';

/**
 * SHA-256 of `text` (as UTF-8), in lowercase hex. Node's one-shot `crypto.hash` (Node 20.12 and later) is about
 * four times faster than `createHash(...).update(...).digest(...)` for the short texts message digests are
 * made of, which a whole-history `upsertMessages` hashes once per message; older Node versions take the long way,
 * with the same result.
 */
export const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');
