/**
 * Removes credentials from text that may hold a connection string: the password of every `scheme://user:pass@`
 * and every `password=...` key/value pair becomes `***`. Used on every error message, log line and report that
 * could carry a DSN.
 */
export function maskSecrets(text: string): string {
  return (
    text
      // Up to the last `@` of the URL: URL parsers (and so drivers) accept a raw `@` inside the password.
      .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):(\S*)@/gi, '$1:***@')
      .replace(/(password\s*=\s*)('[^']*'|"[^"]*"|[^\s&;]+)/gi, '$1***')
  );
}
