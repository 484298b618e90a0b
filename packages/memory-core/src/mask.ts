/**
 * Removes credentials from text that may hold a connection string, in every form `pg` (and libpq, which wrote
 * the Python app's DSNs) accepts a password in; each password becomes `***`, the rest (scheme, user, host,
 * port, database, other settings, surrounding text) stays readable:
 *
 * - URL userinfo, `scheme://user:password@host`: the password is everything from the first `:` to the last
 *   `@` before the path, as URL parsers (and so drivers) read it: raw `@`, `:` and spaces included
 *   (`pg` percent-encodes raw spaces before parsing), percent-encoding kept as it is;
 * - a URL query parameter, `?password=...` or `&password=...`: up to the next `&`, `#` or line end (raw spaces
 *   are accepted there too, so trailing text on that line may be masked with it);
 * - a key/value pair, `password=...` (libpq `key=value` strings, `.env` lines, `;`-separated strings):
 *   a single- or double-quoted value with backslash escapes (an unclosed quote masks to the end), or an
 *   unquoted value up to whitespace (a backslash escapes the next character, a space included) or a `;` that
 *   starts the next `key=`.
 *
 * Any key ending in `password` counts (`sslpassword`, `PGPASSWORD`). Masking is idempotent. Used on every
 * error message, log line and report that could carry a DSN.
 */
export function maskSecrets(text: string): string {
  return text
    .replace(URL_AUTHORITY, (_match, scheme: string, authority: string) => scheme + maskAuthority(authority))
    .replace(QUERY_PASSWORD, '$1***')
    .replace(KEY_VALUE_PASSWORD, '$1***');
}

/**
 * `scheme://` (as RFC 3986 spells a scheme) and what may be its authority: up to the path, query, fragment or
 * line end, spaces included, since a password may hold raw spaces.
 */
const URL_AUTHORITY = /([a-z][a-z0-9+.-]*:\/\/)([^/?#\r\n]*)/gi;

/** A `password` parameter of a URL query: its value ends at `&`, `#` or the end of the line. */
const QUERY_PASSWORD = /([?&][a-z_]*password=)[^&#\r\n]*/gi;

/**
 * A `password` key of a libpq, `.env` or `;`-separated string (not a URL query parameter, masked above), and
 * its value in any of their quotings.
 */
const KEY_VALUE_PASSWORD =
  /(?<![?&\w])([a-z_]*password\s*=\s*)(?:'(?:[^'\\]|\\.)*(?:'|$)|"(?:[^"\\]|\\.)*(?:"|$)|(?:\\.|;(?!\s*[a-z_]\w*\s*=)|[^\s\\;])+)/gi;

/**
 * The authority candidate with the password of its userinfo masked. The userinfo normally ends at the last `@`
 * before the first whitespace; when there is no `@` there but a `user:` has begun, the password holds raw
 * spaces and the userinfo ends at the last `@` before the path. Without a `:` in the userinfo there is no
 * password, and the text is returned as it is.
 */
function maskAuthority(authority: string): string {
  const firstSpace = authority.search(/\s/);
  const narrow = firstSpace === -1 ? authority : authority.slice(0, firstSpace);
  let end = narrow.lastIndexOf('@');
  if (end === -1 && narrow.includes(':')) end = authority.lastIndexOf('@');
  if (end === -1) return authority;
  const colon = authority.indexOf(':');
  if (colon === -1 || colon > end) return authority;
  return `${authority.slice(0, colon)}:***${authority.slice(end)}`;
}
