import { ValidationError } from './errors.js';

/**
 * The walk behind `assertMetadata` and `assertPayload`: checks that a value survives `JSON.stringify` then
 * `JSON.parse` unchanged, within a size and a nesting limit, and measures its JSON text in UTF-8 bytes without
 * writing it.
 *
 * It runs for every message of every write (`upsertMessages` validates whole histories), so it allocates as
 * little as it can per value: the path of a value is kept as a stack of keys and indices and formatted only when
 * an error names it; a scalar returns its size as a number (the height of an object goes through the walk's
 * state, not a result object); a string's size is counted from its characters, not from its JSON text; the map of
 * objects already seen is made only once an object with members is met.
 */

/** What a JSON walk allows: the largest JSON text, the deepest nesting, and whether `undefined` properties pass. */
export interface JsonRules {
  maxBytes: number;
  maxDepth: number;
  /** Object properties whose value is `undefined` are skipped (they are not in the JSON text). */
  dropUndefined: boolean;
  /**
   * Strings and keys may hold U+0000 and lone surrogates: the value is stored as JSON text, where
   * `JSON.stringify` escapes them (`\u0000`), not as database text or JSONB, which cannot hold them.
   */
  anyText: boolean;
  /** True for a string or key that every backend stores unchanged (checked unless `anyText`). */
  isStorableText: (text: string) => boolean;
  /**
   * Throws the error for a string or key that `isStorableText` refused (`ValidationError(field, ...)`): called
   * only then, so that the path it names is formatted only then.
   */
  refuseText: (field: string, text: string) => never;
  /** How an error names a value that is not JSON (`a Date`, `a function`, ...). */
  describe: (value: unknown) => string;
}

/** What a validated object adds wherever it appears again: its JSON size in bytes and its nesting height. */
interface Measured {
  bytes: number;
  height: number;
}

/** Marks an object whose walk has begun and not ended: meeting it again is a cycle. */
const OPEN: Measured = Object.freeze({ bytes: -1, height: -1 });

/**
 * Validates `value` under `rules` and returns the UTF-8 length of its JSON text (shared references counted at
 * their expanded size). Errors name `field` and the path below it (`field.a.b[1].c`) exactly as the former
 * walk, which built every path up front, named them; a size error names `field` alone.
 *
 * The cost is linear in the number of distinct objects and values, whatever the value expands to: an object
 * reached by several references is checked once and counts at its expanded size each time, so a value that
 * would expand past the limits is refused without being expanded.
 */
export function walkJson(rules: JsonRules, field: string, value: unknown): number {
  // The usual metadata, `{}`: nothing to walk, nothing to allocate.
  if (isPlainObject(value) && isEmpty(value)) return 2;
  const walk = new JsonWalk(rules, field);
  walk.visit(value, 0);
  return walk.bytes;
}

/** The most values (objects, arrays and scalars) {@link treeJsonBound} looks at before leaving it to the walk. */
const TREE_VALUES = 4096;

/**
 * The common case without the walk's bookkeeping (no map of objects seen, no path, no count per character):
 * when `value` has at most 4,096 values and {@link walkJson} would accept it under `rules` except perhaps for its
 * size, returns an upper bound of its JSON text's UTF-8 length (every character counted at 6 bytes, as `\u0000`,
 * and every number at 25); otherwise -1, which says nothing: the caller then runs {@link walkJson}, which gives
 * the verdict and names the error. An object reached twice is looked at twice, as in a tree, which is how the
 * walk counts it too; a cycle meets the nesting limit and gives -1.
 *
 * It exists because `upsertMessages` validates every message of the history it is given, on every call: the
 * walk's map and path cost more than the JSON text and the digest of a short message together.
 */
export function treeJsonBound(rules: JsonRules, value: unknown): number {
  const state: TreeState = { rules, values: 0 };
  return treeBound(state, value, 0);
}

interface TreeState {
  readonly rules: JsonRules;
  values: number;
}

/** JSON text's UTF-8 bytes per UTF-16 code unit at most: `\u001f`, or a lone surrogate as `\udc00`. */
const MAX_BYTES_PER_UNIT = 6;
/** The longest number text: `-0.0000012345678901234567` (17 digits after five zeros, the sign and `0.`). */
const MAX_NUMBER_BYTES = 25;

function treeBound(state: TreeState, value: unknown, depth: number): number {
  if (++state.values > TREE_VALUES) return -1;
  switch (typeof value) {
    case 'string':
      return state.rules.anyText || state.rules.isStorableText(value)
        ? value.length * MAX_BYTES_PER_UNIT + 2
        : -1;
    case 'boolean':
      return 5;
    case 'number':
      return Number.isFinite(value) ? MAX_NUMBER_BYTES : -1;
    case 'object': {
      if (value === null) return 4;
      if (depth >= state.rules.maxDepth) return -1;
      let bytes = 2;
      if (Array.isArray(value)) {
        const length = value.length;
        for (let i = 0; i < length; i++) {
          const item = i in value ? treeBound(state, value[i], depth + 1) : -1;
          if (item < 0) return -1;
          bytes += item + 1;
        }
        return bytes;
      }
      if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) return -1;
      const { anyText, dropUndefined, isStorableText } = state.rules;
      for (const key in value) {
        // An inherited enumerable key: JSON leaves it out; the walk decides.
        if (!Object.hasOwn(value, key)) return -1;
        const item = value[key];
        if (item === undefined && dropUndefined) continue;
        if (!anyText && !isStorableText(key)) return -1;
        const itemBytes = treeBound(state, item, depth + 1);
        if (itemBytes < 0) return -1;
        bytes += key.length * MAX_BYTES_PER_UNIT + 4 + itemBytes;
      }
      return bytes;
    }
    default:
      return -1;
  }
}

/** State of one walk. A class, so that every walk has the same shape (one hidden class, no dictionary mode). */
class JsonWalk {
  /** Bytes of JSON text counted so far, shared references at their expanded size. */
  bytes = 0;
  /** The nesting height of the value the last `visit` measured (0 for a scalar). */
  height = 0;
  /** Objects already validated, with their expanded size and height; `OPEN` while on the current path. */
  done: Map<object, Measured> | undefined = undefined;
  /** The keys (object members) and indices (array items) from `field` down to the value being visited. */
  readonly path: (string | number)[] = [];

  constructor(
    readonly rules: JsonRules,
    /** The top-level field, which a size error names and every path starts from. */
    readonly field: string,
  ) {}

  /** The path of the value being visited, as errors name it: `field.key[index]...`. */
  at(): string {
    let text = this.field;
    for (const step of this.path) text += typeof step === 'number' ? `[${step}]` : `.${step}`;
    return text;
  }

  /** Adds `bytes` to the total and refuses the value as soon as the total passes the limit. */
  count(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.rules.maxBytes) {
      throw new ValidationError(
        this.field,
        `is larger than ${this.rules.maxBytes} bytes as JSON (shared references count at their expanded size)`,
      );
    }
  }

  /** Validates `value` at `depth`; returns its JSON size in bytes and leaves its height in `this.height`. */
  visit(value: unknown, depth: number): number {
    switch (typeof value) {
      case 'string': {
        if (!this.rules.anyText && !this.rules.isStorableText(value)) this.rules.refuseText(this.at(), value);
        const bytes = jsonStringBytes(value);
        this.count(bytes);
        this.height = 0;
        return bytes;
      }
      case 'boolean': {
        const bytes = value ? 4 : 5;
        this.count(bytes);
        this.height = 0;
        return bytes;
      }
      case 'number': {
        if (!Number.isFinite(value))
          throw new ValidationError(this.at(), `${value} is not representable in JSON`);
        // Number to text is what JSON.stringify does too; it allocates only for non-integers.
        const bytes = Number.isSafeInteger(value) ? integerLength(value) : String(value).length;
        this.count(bytes);
        this.height = 0;
        return bytes;
      }
      case 'object': {
        if (value === null) {
          this.count(4);
          this.height = 0;
          return 4;
        }
        return this.visitObject(value, depth);
      }
      default:
        throw new ValidationError(this.at(), `expected a JSON value, got ${this.rules.describe(value)}`);
    }
  }

  visitObject(value: object, depth: number): number {
    const { maxDepth } = this.rules;
    if (depth >= maxDepth) throw new ValidationError(this.at(), `nesting deeper than ${maxDepth} levels`);
    const known = this.done?.get(value);
    if (known === OPEN) throw new ValidationError(this.at(), 'contains a cycle');
    if (known !== undefined) {
      // Seen through another reference: valid, but it counts again at its full size and height.
      if (depth + known.height > maxDepth) {
        throw new ValidationError(this.at(), `nesting deeper than ${maxDepth} levels`);
      }
      this.count(known.bytes);
      this.height = known.height;
      return known.bytes;
    }
    let bytes: number;
    let height = 0;
    if (Array.isArray(value)) {
      const length = value.length;
      const commas = Math.max(0, length - 1);
      this.count(2 + commas);
      bytes = 2 + commas;
      if (length > 0) this.open(value);
      const { path } = this;
      for (let i = 0; i < length; i++) {
        path.push(i);
        if (!(i in value)) throw new ValidationError(this.at(), 'sparse array holes are not JSON');
        bytes += this.visit(value[i], depth + 1);
        if (this.height > height) height = this.height;
        path.pop();
      }
    } else if (isPlainObject(value)) {
      if (Object.getOwnPropertySymbols(value).length > 0)
        throw new ValidationError(this.at(), 'has symbol keys');
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      let members = keys.length;
      if (this.rules.dropUndefined) {
        // Counted before any member is visited, as JSON.stringify's commas are.
        for (const key of keys) if (record[key] === undefined) members--;
      }
      const commas = Math.max(0, members - 1);
      this.count(2 + commas);
      bytes = 2 + commas;
      if (members > 0) this.open(value);
      const { path } = this;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined && this.rules.dropUndefined) continue;
        if (!this.rules.anyText && !this.rules.isStorableText(key)) {
          this.rules.refuseText(`${this.at()} key ${JSON.stringify(key.slice(0, 40))}`, key);
        }
        const keyBytes = jsonStringBytes(key) + 1;
        this.count(keyBytes);
        path.push(key);
        bytes += keyBytes + this.visit(item, depth + 1);
        if (this.height > height) height = this.height;
        path.pop();
      }
    } else {
      throw new ValidationError(this.at(), `expected a JSON value, got ${this.rules.describe(value)}`);
    }
    height += 1;
    // An empty object or array is never opened: nothing below it can lead back to it, and meeting it again
    // costs no more than remembering it.
    this.done?.set(value, { bytes, height });
    this.height = height;
    return bytes;
  }

  /** Marks `value` as on the current path (and so remembered once done), making the map on first use. */
  open(value: object): void {
    this.done ??= new Map();
    this.done.set(value, OPEN);
  }
}

/** Decimal digits of a safe integer, with its minus sign: its JSON text's length. */
function integerLength(value: number): number {
  let n = value < 0 ? -value : value;
  let digits = value < 0 ? 2 : 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/**
 * The UTF-8 length of `JSON.stringify(text)`, counted without writing it: two quotes; `"` and `\` and the
 * control characters JSON names (`\b \t \n \f \r`) as 2 bytes, the other controls below U+0020 as `\u00XX`
 * (6); a lone surrogate as `\uXXXX` (6: well-formed `JSON.stringify` escapes it); a surrogate pair as 4; other
 * characters as their UTF-8 length (1 to 3).
 */
export function jsonStringBytes(text: string): number {
  const length = text.length;
  let bytes = length + 2;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x80) {
      if (c === 0x22 || c === 0x5c) bytes += 1;
    } else if (c < 0x20) {
      bytes += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 1 : 5;
    } else if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A pair: two code units, four bytes.
        bytes += 2;
        i++;
      } else {
        bytes += 5;
      }
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * No enumerable string key (what `Object.keys` and JSON see; `for...in` also sees inherited ones, which only makes
 * the answer "not empty" and sends the value through the whole walk) and no symbol key (which the walk refuses).
 */
export function isEmpty(value: object): boolean {
  for (const _ in value) return false;
  return Object.getOwnPropertySymbols(value).length === 0;
}

/** A plain object: its prototype is `Object.prototype` or `null` (no class instance, no array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
