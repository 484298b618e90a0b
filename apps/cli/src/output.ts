import { styleText } from 'node:util';

type Format = Parameters<typeof styleText>[0];

/** A stream the CLI writes to; `isTTY` decides colours and progress. */
export interface OutStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  hasColors?: () => boolean;
}

/**
 * Whether `stream` takes colours: a terminal whose `hasColors()` says so (Node reads `NO_COLOR`,
 * `NODE_DISABLE_COLORS`, `FORCE_COLOR` and `TERM` there; an empty `NO_COLOR` counts as unset, by the
 * convention), or any stream when `FORCE_COLOR` asks for it. Node 20's
 * `styleText` checks the stream for a single format but not for a list of them, so the check is made here.
 */
export function colours(stream: OutStream): boolean {
  if (stream.isTTY && typeof stream.hasColors === 'function') {
    // The NO_COLOR convention is "set and non-empty"; Node also honours an empty one, which it should not.
    const env = process.env.NO_COLOR === '' ? { ...process.env, NO_COLOR: undefined } : process.env;
    if (env.NO_COLOR === undefined) delete env.NO_COLOR;
    return (stream.hasColors as (count?: number, env?: object) => boolean)(16, env);
  }
  const force = process.env.FORCE_COLOR;
  return force !== undefined && force !== '' && force !== '0' && force !== 'false';
}

/** `text` in `format` when `stream` takes colours, else unchanged: piped output never carries escape codes. */
export function paint(stream: OutStream, format: Format, text: string): string {
  return colours(stream) ? styleText(format, text, { validateStream: false }) : text;
}

/** Writes `text` and a line break to stdout. */
export function println(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Writes machine-readable output: pretty on a terminal, one compact line when piped. */
export function printJson(value: unknown): void {
  const text = process.stdout.isTTY ? JSON.stringify(value, null, 2) : JSON.stringify(value);
  process.stdout.write(`${text}\n`);
}

/**
 * `value` with the keys of every plain object sorted, so JSON output is byte-identical whichever backend stored
 * it (PostgreSQL's `jsonb` reorders keys, SQLite keeps them as written). `Object.fromEntries` defines keys as own
 * data properties, so a `"__proto__"` key stays data.
 */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)])) as T;
  }
  return value;
}

/** `1 session`, `2 sessions`, `1,500 messages`. */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}

/** A `Date` as `2025-03-01 14:32:01` (UTC), for people; JSON output keeps full ISO text. */
export function formatTime(date: Date | null): string {
  return date ? date.toISOString().slice(0, 19).replace('T', ' ') : '-';
}

/** Cuts `text` to one line of at most `width` characters. */
export function truncate(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** Left-aligned columns; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
