import { fileURLToPath } from 'node:url';
import { maskSecrets } from '@flux-rag/memory-core/backend';
import { parse as parsePgConnectionString } from 'pg-connection-string';
import { UsageError } from './cli-error.js';
import { visible } from './sanitize.js';

/** Where a connection string points: a SQLite file, or a PostgreSQL server as a URL `pg` takes. */
export type ConnectionTarget =
  | { readonly backend: 'sqlite'; readonly filename: string }
  | { readonly backend: 'postgres'; readonly connectionString: string };

/** The forms {@link parseConnectionString} accepts, for error messages and help. */
export const ACCEPTED_FORMS =
  'a SQLite file as a path (./data/memory.db), sqlite:///abs/path, sqlite:rel/path or file:///abs/path; ' +
  'a PostgreSQL DSN as postgresql://user@host:5432/db (or postgres://) or as libpq key=value pairs ' +
  '(host=db port=5432 dbname=app user=app)';

/** The libpq keywords accepted in a key=value string; others are refused rather than dropped. */
export const LIBPQ_KEYWORDS = [
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'sslmode',
  'application_name',
  'connect_timeout',
] as const;

const KNOWN_SCHEMES = new Set(['sqlite', 'file', 'postgres', 'postgresql']);
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const SCHEME_WITHOUT_COLON = /^[A-Za-z][A-Za-z0-9+.-]*\/\//;
const LIBPQ_START = /^\s*[A-Za-z_]+\s*=/;
// C0 controls, DEL and whitespace: a URL never holds them raw, and a pasted one that does is broken.
const URL_FORBIDDEN = /[\u0000-\u0020\u007f]/;

/**
 * Parses a connection string strictly, so that a typo is a usage error (exit 2) instead of a SQLite file
 * created at a path that was meant as a URL:
 * - `:memory:`, or a string with no scheme, is a SQLite path;
 * - a string that has a scheme or looks like it has one (`word:/…`, `word//…`, `word:…//…`, or one of
 *   `sqlite:`, `file:`, `postgres:`, `postgresql:`) is a URL: `sqlite:`/`file:` name a SQLite file,
 *   `postgres://`/`postgresql://` a PostgreSQL server; any other scheme, or a malformed URL, is refused;
 * - a string starting with `keyword=` is a libpq key=value DSN ({@link LIBPQ_KEYWORDS}, libpq's quoting:
 *   single quotes, backslash escapes), converted into the URL `pg` takes (`pg` itself does not read this form).
 * `source` names where the string came from (`--url`, `DATABASE_URL`, …) in the error, which echoes the
 * input with its password masked.
 */
export function parseConnectionString(input: string, source: string): ConnectionTarget {
  const text = input.trim();
  if (text === '') throw invalid(source, input, 'it is empty');
  if (text === ':memory:') return { backend: 'sqlite', filename: ':memory:' };
  const scheme = schemeOf(text);
  if (scheme !== null) return parseUrl(text, scheme, source, input);
  if (LIBPQ_START.test(text))
    return { backend: 'postgres', connectionString: libpqToUrl(text, source, input) };
  return { backend: 'sqlite', filename: input };
}

/** The scheme of a string that is, or looks like, a URL; `null` for a plain path. */
function schemeOf(text: string): string | null {
  const match = SCHEME.exec(text);
  // One letter before `:` is a Windows drive (C:\data), not a scheme.
  if (match && match[1]!.length > 1) {
    const scheme = match[1]!.toLowerCase();
    const rest = text.slice(match[0].length);
    if (KNOWN_SCHEMES.has(scheme) || rest.startsWith('/') || rest.includes('//')) return scheme;
  }
  if (SCHEME_WITHOUT_COLON.test(text)) return text.slice(0, text.indexOf('/')).toLowerCase();
  return null;
}

function parseUrl(text: string, scheme: string, source: string, input: string): ConnectionTarget {
  const afterScheme = text.slice(scheme.length);
  if (!afterScheme.startsWith(':')) {
    throw invalid(source, input, `"${scheme}//" lacks the colon of a URL scheme ("${scheme}://")`);
  }
  const rest = afterScheme.slice(1);
  switch (scheme) {
    case 'sqlite':
    case 'file':
      return { backend: 'sqlite', filename: sqliteFilename(scheme, rest, source, input) };
    case 'postgres':
    case 'postgresql':
      return { backend: 'postgres', connectionString: checkPostgresUrl(text, rest, source, input) };
    default:
      throw invalid(source, input, `unknown scheme "${scheme}:"`);
  }
}

function sqliteFilename(scheme: string, rest: string, source: string, input: string): string {
  if (/[?#]/.test(rest)) throw invalid(source, input, `a ${scheme}: URL takes no query or fragment`);
  if (scheme === 'file' && rest.startsWith('//')) {
    try {
      return fileURLToPath(`file:${rest}`);
    } catch (error) {
      throw invalid(source, input, (error as Error).message);
    }
  }
  // sqlite:///abs/path, sqlite:///./rel, sqlite://rel and sqlite:rel, as memory-core's createMemory reads them.
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  const filename = path.startsWith('/./') || path.startsWith('/../') ? path.slice(1) : path;
  if (filename === '') throw invalid(source, input, `the ${scheme}: URL names no file`);
  return filename;
}

function checkPostgresUrl(text: string, rest: string, source: string, input: string): string {
  if (!rest.startsWith('//')) {
    throw invalid(source, input, 'a PostgreSQL URL starts with postgresql:// (two slashes)');
  }
  if (text.includes('#')) {
    throw invalid(source, input, 'a raw "#" starts a URL fragment: write it as %23 (e.g. in the password)');
  }
  if (URL_FORBIDDEN.test(text)) {
    throw invalid(source, input, 'it holds a space or a control character: percent-encode it (%20)');
  }
  try {
    new URL(text);
    parsePgConnectionString(text);
  } catch (error) {
    throw invalid(source, input, `not a valid URL (${(error as Error).message})`);
  }
  return text;
}

/** libpq key=value pairs to the URL `pg` takes; see {@link parseConnectionString}. */
function libpqToUrl(text: string, source: string, input: string): string {
  const pairs = parseLibpq(text, source, input);
  const host = pairs.get('hostaddr') ?? pairs.get('host');
  const port = pairs.get('port');
  if (port !== undefined && !/^\d{1,5}$/.test(port))
    throw invalid(source, input, `port ${port} is not a number`);
  const timeout = pairs.get('connect_timeout');
  if (timeout !== undefined && !/^\d+$/.test(timeout)) {
    throw invalid(source, input, `connect_timeout ${timeout} is not a number of seconds`);
  }
  const user = pairs.get('user');
  const password = pairs.get('password');
  const socket = host?.startsWith('/') === true;
  let url = 'postgresql://';
  if (user !== undefined || password !== undefined) {
    url += encodeURIComponent(user ?? '');
    if (password !== undefined) url += `:${encodeURIComponent(password)}`;
    url += '@';
  }
  if (host !== undefined && !socket) url += host.includes(':') ? `[${host}]` : encodeURIComponent(host);
  if (port !== undefined && !socket) url += `:${port}`;
  url += `/${encodeURIComponent(pairs.get('dbname') ?? '')}`;
  const query = new URLSearchParams();
  if (socket) query.set('host', host!);
  if (socket && port !== undefined) query.set('port', port);
  for (const key of ['sslmode', 'application_name', 'connect_timeout'] as const) {
    const value = pairs.get(key);
    if (value !== undefined) query.set(key, value);
  }
  const search = query.toString();
  return search === '' ? url : `${url}?${search}`;
}

/** libpq's conninfo grammar: `key = value` pairs separated by spaces; values single-quoted or bare. */
function parseLibpq(text: string, source: string, input: string): Map<string, string> {
  const pairs = new Map<string, string>();
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= text.length) return pairs;
    const keyStart = i;
    while (i < text.length && /[A-Za-z_]/.test(text[i]!)) i++;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (key === '' || text[i] !== '=') {
      throw invalid(source, input, `expected keyword=value at character ${keyStart + 1}`);
    }
    if (!(LIBPQ_KEYWORDS as readonly string[]).includes(key)) {
      throw invalid(source, input, `unknown keyword "${key}"; accepted: ${LIBPQ_KEYWORDS.join(', ')}`);
    }
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= text.length) throw invalid(source, input, `unterminated quoted value of "${key}"`);
        const c = text[i++]!;
        if (c === "'") break;
        if (c === '\\') {
          if (i >= text.length) throw invalid(source, input, `a backslash ends the value of "${key}"`);
          value += text[i++];
        } else value += c;
      }
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) {
        const c = text[i++]!;
        if (c === '\\' && i < text.length) value += text[i++];
        else value += c;
      }
      if (value === '') throw invalid(source, input, `missing value of "${key}" (quote an empty one: '')`);
    }
    pairs.set(key, value);
  }
}

/**
 * `input` masked for an error: `maskSecrets`, and also the password of a malformed URL it does not recognise
 * (`postgres:/user:secret@host`, `postgresql//user:secret@host`): whatever sits between the first `:` after
 * the user name and the last `@`.
 */
function masked(input: string): string {
  return maskSecrets(input).replace(
    /^([A-Za-z][A-Za-z0-9+.-]*(?::\/*|\/\/)[^:/@\s]*):(\S*)@/,
    (all, head, pass) => (pass === '***' ? all : `${head}:***@`),
  );
}

function invalid(source: string, input: string, why: string): UsageError {
  return new UsageError(
    `${source} ${JSON.stringify(visible(masked(input)))} is not a connection string: ${why}. ` +
      `Accepted: ${ACCEPTED_FORMS}`,
    'CONNECTION_STRING_INVALID',
  );
}
