import type { SessionUpdate } from './base-memory.js';
import { ConflictError } from './errors.js';
import { jsonContains } from './search/metadata-contains.js';
import type { JsonValue, Metadata } from './types.js';
import { assertMetadata } from './validation.js';

/**
 * JSON Merge Patch (RFC 7396) of `target` by `patch`: a patch that is not an object replaces the target; an object
 * patch removes the keys it sets to `null`, merges the objects it holds into the target's (recursively), and sets
 * every other value. Returns a new value; neither argument is changed.
 */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const result: Record<string, JsonValue> = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      // defineProperty, not assignment: a "__proto__" key must stay a key, as JSON.parse makes it.
      Object.defineProperty(result, key, {
        value: mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return result;
}

function isJsonObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What `updateSession` does to a session's metadata, for a backend to call inside its transaction with the row
 * locked: checks `ifMetadata` against `current` (`ConflictError` reason `'if-metadata'` naming `sessionId`),
 * then returns the new metadata (`metadata`, or `current` merge-patched by `metadataPatch`, or `current`), which
 * is validated like any metadata (a patch may make it too large: `ValidationError` on `metadataPatch`).
 */
export function applySessionUpdate(sessionId: string, current: Metadata, update: SessionUpdate): Metadata {
  if (update.ifMetadata !== undefined && !jsonContains(current, update.ifMetadata)) {
    throw new ConflictError('session', sessionId, undefined, { reason: 'if-metadata' });
  }
  if (update.metadata !== undefined) return update.metadata;
  if (update.metadataPatch === undefined) return current;
  const merged = mergePatch(current, update.metadataPatch) as Metadata;
  assertMetadata('metadataPatch', merged);
  return merged;
}
