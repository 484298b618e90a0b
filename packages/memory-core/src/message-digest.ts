import type { NewMessage } from './types.js';
import { validateNewMessage } from './validation.js';

/**
 * The digest the stores keep for a message, as `getHistoryDigests` returns it and `rewriteHistory`'s
 * `expectedDigests` expects it: SHA-256, as 64 lowercase hex characters, of
 * `JSON.stringify([role, content, metadata ?? {}, format ?? null, payload ?? null])` after validation (so payload
 * object properties set to `undefined` are left out, as in the stored payload). Two messages with equal digests
 * are stored identically; metadata or payload keys in another order give another digest. Throws a
 * `ValidationError` for a message `addMessage` would refuse. The id is not part of the digest.
 */
export function messageDigest(message: NewMessage): string {
  return validateNewMessage(message).digest;
}
