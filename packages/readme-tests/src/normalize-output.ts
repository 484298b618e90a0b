/**
 * What differs from run to run and so cannot be compared as written: each is replaced by a placeholder, in the
 * README's text and in the real output alike. Everything else (flags, wording, counts, column layout, JSON
 * keys, schema versions) must match exactly.
 */
const VOLATILE: ReadonlyArray<readonly [RegExp, string]> = [
  // Session ids are random UUIDs.
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>'],
  // Timestamps: ISO 8601 (exports, JSON) and the tables' `YYYY-MM-DD HH:MM:SS`.
  [/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?/g, '<time>'],
  [/\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b/g, '<time>'],
  // Durations.
  [/\bDone in \d+ ms\b/g, 'Done in <n> ms'],
  // Versions of the database engines the machine happens to have.
  [/\bSQLite \d+(?:\.\d+)*/g, 'SQLite <version>'],
  [/\bPostgreSQL \d+(?:\.\d+)*(?: \([^)]*\))?/g, 'PostgreSQL <version>'],
];

/** The text with every run-dependent part replaced by its placeholder, trailing spaces of lines dropped. */
export function normalizeOutput(text: string): string {
  let out = text.replace(/[ \t]+$/gm, '').replace(/\s+$/, '');
  for (const [pattern, placeholder] of VOLATILE) out = out.replace(pattern, placeholder);
  return out;
}
