import { parse as parsePg } from 'pg-connection-string';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from './cli-error.js';
import { parseConnectionString } from './connection-string.js';

function refusal(input: string): CliError {
  try {
    parseConnectionString(input, '--url');
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error(`${input} was accepted`);
}

describe('parseConnectionString', () => {
  it.each([
    ['./data/memory.db', './data/memory.db'],
    ['memory.db', 'memory.db'],
    ['/var/lib/app/memory.db', '/var/lib/app/memory.db'],
    [':memory:', ':memory:'],
    ['sqlite:///var/lib/app.db', '/var/lib/app.db'],
    ['sqlite:///./rel.db', './rel.db'],
    ['sqlite:rel.db', 'rel.db'],
    ['SQLITE:rel.db', 'rel.db'],
    ['file:///var/lib/app.db', '/var/lib/app.db'],
    ['file:rel.db', 'rel.db'],
    ['notes:2024.db', 'notes:2024.db'],
    ['C:\\data\\memory.db', 'C:\\data\\memory.db'],
  ])('%s is the SQLite file %s', (input, filename) => {
    expect(parseConnectionString(input, '--url')).toEqual({ backend: 'sqlite', filename });
  });

  it.each([
    'postgresql://app@db/app',
    'postgres://app:secret@127.0.0.1:5432/app?sslmode=require',
    'postgresql://app:p%23ss@db/app',
    'postgresql:///app?host=/var/run/postgresql',
    'postgresql://[::1]:5432/app',
  ])('%s is a PostgreSQL URL, passed on unchanged', (input) => {
    expect(parseConnectionString(input, '--url')).toEqual({ backend: 'postgres', connectionString: input });
  });

  it.each([
    ['postgres:/postgres@127.0.0.1/x', /two slashes/],
    ['postgresql//postgres@127.0.0.1/x', /lacks the colon/],
    ['mysql://root@db/app', /unknown scheme "mysql:"/],
    ['http://example.com/db', /unknown scheme "http:"/],
    ['postgresql:postgres@db//x', /two slashes/],
    ['redis:/x', /unknown scheme/],
    ['postgresql://app:pa#ss@db/app', /raw "#"/],
    ['postgresql://app:pa ss@db/app', /space or a control character/],
    ['postgresql://db:notaport/app', /not a valid URL/],
    ['sqlite:', /names no file/],
    ['sqlite:///x.db?mode=ro', /no query/],
    ['file://otherhost/x.db', /host must be/i],
    ['', /empty/],
    ['host=db dbname=app colour=blue', /unknown keyword "colour"/],
    ["host=db password='unterminated", /unterminated/],
    ['host=db port=abc', /port abc is not a number/],
    ['host=db dbname=', /missing value of "dbname"/],
    ['host=db =x', /expected keyword=value/],
  ])('%s is refused: %s', (input, why) => {
    const error = refusal(input);
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.code).toBe('CONNECTION_STRING_INVALID');
    expect(error.message).toMatch(why);
    expect(error.message).toMatch(/Accepted: a SQLite file/);
  });

  it('echoes a refused input with its password masked', () => {
    const url = refusal('postgres:/app:hunter2@db/app');
    expect(url.message).not.toContain('hunter2');
    expect(url.message).toContain('postgres:/app');
    const libpq = refusal("host=db password='hunter2' colour=x");
    expect(libpq.message).not.toContain('hunter2');
    expect(libpq.message).toContain('password=***');
    expect(refusal('mysql://root:hunter2@db/x').message).toContain('mysql://root:***@db/x');
    expect(refusal('postgresql//app:hunter2@db/x').message).toContain('postgresql//app:***@db/x');
  });

  it.each([
    [
      'host=db.internal port=5433 dbname=app user=app password=secret',
      { host: 'db.internal', port: '5433', database: 'app', user: 'app', password: 'secret' },
    ],
    [
      "host = db  dbname = 'my app'  user=app password='it''s' sslmode=require",
      // libpq: '' inside quotes is not an escape; the quote ends the value and `s'` would start another.
      null,
    ],
    [
      "user=app password='p\\'a ss\\\\w#rd' dbname=app host=db",
      { host: 'db', database: 'app', user: 'app', password: "p'a ss\\w#rd" },
    ],
    [
      'host=/var/run/postgresql dbname=app user=app',
      { host: '/var/run/postgresql', database: 'app', user: 'app' },
    ],
    ['hostaddr=10.0.0.5 dbname=app', { host: '10.0.0.5', database: 'app' }],
    [
      'host=db dbname=app application_name=flux connect_timeout=5',
      { host: 'db', database: 'app', application_name: 'flux', connect_timeout: '5' },
    ],
    ['host=::1 dbname=app', { host: '::1', database: 'app' }],
  ])('libpq %s becomes the URL pg reads as %o', (input, expected) => {
    if (expected === null) {
      expect(() => parseConnectionString(input, '--url')).toThrow(CliError);
      return;
    }
    const target = parseConnectionString(input, '--url');
    expect(target.backend).toBe('postgres');
    if (target.backend !== 'postgres') return;
    expect(target.connectionString).toMatch(/^postgresql:\/\//);
    expect(parsePg(String(target.connectionString))).toMatchObject(expected);
  });
});
