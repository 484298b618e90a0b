import { describe, expect, test } from 'vitest';
import { maskSecrets } from '../src/mask.js';

/**
 * Every form in which `pg` (and libpq, for the Python app's DSNs) accepts a password. Each case: the input, the
 * fragments of the secret that must not survive, and the parts (host, database, other settings) that must stay
 * readable.
 */
const CASES: ReadonlyArray<{ form: string; input: string; secret: string[]; readable: string[] }> = [
  {
    form: 'URL, raw spaces in the password',
    input: 'postgresql://app:my secret@db/app',
    secret: ['my secret', 'secret', ':my'],
    readable: ['postgresql://app:', '@db/app'],
  },
  {
    form: 'URL, raw spaces, inside an error message',
    input: 'could not connect to postgresql://app:correct horse battery@db.internal:5432/app: ECONNREFUSED',
    secret: ['correct', 'horse', 'battery'],
    readable: ['could not connect to', '@db.internal:5432/app: ECONNREFUSED'],
  },
  {
    form: 'URL, raw spaces, no path',
    input: 'postgres://app:two words@db',
    secret: ['two', 'words'],
    readable: ['@db'],
  },
  {
    form: 'URL, raw @ and : in the password',
    input: 'postgresql://app:p@ss:w0rd@db.internal:5432/app',
    secret: ['p@ss', 'w0rd', 'ss:w'],
    readable: ['app:', '@db.internal:5432/app'],
  },
  {
    form: 'URL, percent-encoded password',
    input: 'postgresql://app:p%40ss%3Aw0rd%20x@db/app',
    secret: ['p%40ss', 'w0rd', '%20x'],
    readable: ['@db/app'],
  },
  {
    form: 'URL, empty user name',
    input: 'postgresql://:hunter2@db/app',
    secret: ['hunter2'],
    readable: ['@db/app'],
  },
  {
    form: 'URL, ?password= query parameter',
    input: 'postgresql://app@db:5432/app?password=s3cr3t&sslmode=require',
    secret: ['s3cr3t'],
    readable: ['postgresql://app@db:5432/app?', 'sslmode=require'],
  },
  {
    form: 'URL, ?password= with a raw space, last parameter',
    input: 'postgresql://db/app?sslmode=disable&password=my secret',
    secret: ['my secret', 'secret'],
    readable: ['postgresql://db/app?sslmode=disable&'],
  },
  {
    form: 'URL, percent-encoded ?password=',
    input: 'postgresql://db/app?password=a%20b%26c#frag',
    secret: ['a%20b', '%26c'],
    readable: ['postgresql://db/app?', '#frag'],
  },
  {
    form: 'key=value, plain',
    input: 'host=db port=5432 dbname=app user=app password=s3cr3t sslmode=require',
    secret: ['s3cr3t'],
    readable: ['host=db port=5432 dbname=app user=app', 'sslmode=require'],
  },
  {
    form: 'key=value, single-quoted with spaces',
    input: "host=db password='my secret' dbname=app",
    secret: ['my secret', 'secret'],
    readable: ['host=db', 'dbname=app'],
  },
  {
    form: 'key=value, single-quoted with escaped quote and backslash',
    input: "password='it\\'s a \\\\ secret' host=db dbname=app",
    secret: ["it\\'s", 'secret', '\\\\'],
    readable: ['host=db dbname=app'],
  },
  {
    form: 'key=value, unquoted with an escaped space',
    input: 'password=my\\ secret host=db dbname=app',
    secret: ['my\\', 'secret'],
    readable: ['host=db dbname=app'],
  },
  {
    form: 'key=value, spaces around = and a ; in the value',
    input: 'dbname=app password = abc;def host=db',
    secret: ['abc', 'def'],
    readable: ['dbname=app', 'host=db'],
  },
  {
    form: 'key=value, PASSWORD in capitals',
    input: "HOST=db PASSWORD='x y'",
    secret: ['x y'],
    readable: ['HOST=db'],
  },
  {
    form: 'two DSNs on one line',
    input: 'from postgresql://a:one two@h1/db1 to postgresql://b:three@h2/db2',
    secret: ['one', 'two', 'three'],
    readable: ['@h1/db1 to postgresql://b:', '@h2/db2'],
  },
  {
    form: 'DSN inside JSON',
    input: '{"url":"postgresql://app:my secret@db/app","rows":3}',
    secret: ['my secret', 'secret'],
    readable: ['@db/app","rows":3}'],
  },
];

describe('maskSecrets - every password form pg and libpq accept', () => {
  test.each(CASES)('$form', ({ input, secret, readable }) => {
    const masked = maskSecrets(input);
    for (const fragment of secret) expect(masked).not.toContain(fragment);
    for (const part of readable) expect(masked).toContain(part);
    expect(masked).toContain('***');
    // Masking what is already masked changes nothing.
    expect(maskSecrets(masked)).toBe(masked);
  });

  test('text with no credentials is left alone, even with @ and : after a URL', () => {
    for (const text of [
      'see https://example.com/a:b for admin@example.com',
      'postgresql://app@db/app has 3 sessions',
      'postgresql://db:5432/app',
      'nothing to hide: 42 rows at 12:30',
    ]) {
      expect(maskSecrets(text)).toBe(text);
    }
  });
});
