/**
 * PostgreSQL `COPY ... FROM STDIN` text format: one line per row, columns separated by tabs, `\N` for NULL;
 * backslash, tab, newline and carriage return inside a value are written as `\\`, `\t`, `\n`, `\r`.
 * Every other character, control characters included, is taken literally by the server.
 */
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value as a COPY text field; `null` is `\N`. */
export function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => ESCAPES[c]!) : value;
}

/** One row as a COPY text line, newline included. */
export function copyLine(values: readonly (string | number | null)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : '\t') + copyField(values[i]!);
  return `${line}\n`;
}
