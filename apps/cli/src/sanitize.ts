/**
 * Characters a terminal acts on instead of showing: C0 controls but tab and line feed (ESC starts clear-screen,
 * window-title and OSC 8 link sequences, `\r` overwrites the line, BEL rings), DEL, the C1 controls U+0080 to
 * U+009F (U+009B is a one-character CSI on many terminals), and the Unicode bidirectional overrides, embeddings
 * and isolates (U+202A–U+202E, U+2066–U+2069), which reorder what is shown ("Trojan Source") and so are
 * escaped too, as are the line and paragraph separators U+2028/U+2029.
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

const NAMED: Readonly<Record<string, string>> = {
  '\r': '\\r',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
  '\u0000': '\\0',
};

/**
 * `text` with every character a terminal would act on shown as a visible escape: `\x1b`, `\r`, `\x07`,
 * `\u009b`, `\u202e`. Tabs and line breaks are kept (the callers lay text out by line). Applied to everything
 * stored data or user input puts on a terminal in text mode; `--json` output is JSON-escaped already and is
 * not changed.
 */
export function visible(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
