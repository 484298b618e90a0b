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

/** A value of a COPY row: text, a number, `null`, or text already as UTF-8 bytes. */
export type CopyValue = string | number | null | Buffer;

const BACKSLASH = 0x5c;
const SPECIAL_BYTES: Record<number, number> = { 92: 0x5c, 9: 0x74, 10: 0x6e, 13: 0x72 };

/**
 * Rows as one buffer of COPY text, written in place: strings are encoded once, byte values are copied as they
 * are (escaped byte by byte only when they hold a backslash, tab, newline or carriage return, which in UTF-8
 * are always those characters and never part of another).
 */
export function copyRows(rows: readonly (readonly CopyValue[])[]): Buffer {
  let size = 0;
  for (const row of rows) {
    for (const v of row) {
      // UTF-8 needs at most 3 bytes per UTF-16 unit, escaping at most doubles it.
      size +=
        1 +
        (v === null ? 2 : typeof v === 'number' ? 24 : typeof v === 'string' ? v.length * 6 : v.length * 2);
    }
  }
  const out = Buffer.allocUnsafe(size + 1);
  let o = 0;
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) out[o++] = 0x09;
      const v = row[i]!;
      if (v === null) o += out.write('\\N', o, 'latin1');
      else if (typeof v === 'number') o += out.write(String(v), o, 'latin1');
      else if (typeof v === 'string') o += out.write(copyField(v), o, 'utf8');
      else if (
        v.indexOf(0x5c) === -1 &&
        v.indexOf(0x09) === -1 &&
        v.indexOf(0x0a) === -1 &&
        v.indexOf(0x0d) === -1
      ) {
        o += v.copy(out, o);
      } else {
        for (const byte of v) {
          const escaped = SPECIAL_BYTES[byte];
          if (escaped === undefined) out[o++] = byte;
          else {
            out[o++] = BACKSLASH;
            out[o++] = escaped;
          }
        }
      }
    }
    out[o++] = 0x0a;
  }
  return out.subarray(0, o);
}
