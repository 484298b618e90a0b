/**
 * Canonical JSON text of a parsed JSON value (RFC 8785, JSON Canonicalization Scheme, for the values
 * `JSON.parse` returns): object keys sorted by UTF-16 code units, no whitespace, strings and numbers
 * serialised as ECMAScript's `JSON.stringify` does. Two values that are equal as JSON data have the same
 * canonical text whatever their key order, which is what verification needs: PostgreSQL's JSONB reorders
 * keys, SQLite keeps the text as written.
 */
export function canonicalJson(value: unknown): string {
  // Fast path: rebuild objects with their keys inserted in sorted order and let the engine's JSON.stringify
  // write them. Objects that already have sorted keys are reused as they are.
  const sorted = sortKeys(value);
  return sorted === INTEGER_KEYS ? slowCanonicalJson(value) : JSON.stringify(sorted);
}

/** Marks a value holding an array-index-like key, which JavaScript objects always list first. */
const INTEGER_KEYS = Symbol('integer keys');
const INDEX_LIKE = /^(?:0|[1-9]\d{0,9})$/;

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = sortKeys(value[i]);
      if (item === INTEGER_KEYS) return INTEGER_KEYS;
      if (item !== value[i]) {
        out ??= value.slice();
        out[i] = item;
      }
    }
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // Index-like keys come first in any object, in numeric order: only the slow path orders them as text.
  if (keys.length > 0 && INDEX_LIKE.test(keys[0]!)) return INTEGER_KEYS;
  let ordered = true;
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      ordered = false;
      break;
    }
  }
  if (!ordered) keys.sort();
  const items = new Array<unknown>(keys.length);
  let changed = !ordered;
  for (let i = 0; i < keys.length; i++) {
    const item = sortKeys(record[keys[i]!]);
    if (item === INTEGER_KEYS) return INTEGER_KEYS;
    items[i] = item;
    if (item !== record[keys[i]!]) changed = true;
  }
  if (!changed) return value;
  // No prototype: a "__proto__" key stays an ordinary key.
  const out: Record<string, unknown> = Object.create(null);
  for (let i = 0; i < keys.length; i++) out[keys[i]!] = items[i];
  return out;
}

function slowCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(slowCanonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${slowCanonicalJson(record[key])}`)
    .join(',')}}`;
}
