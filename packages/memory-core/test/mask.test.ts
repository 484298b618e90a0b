import { describe, expect, test } from 'vitest';
import { maskSecrets } from '../src/mask.js';

describe('maskSecrets', () => {
  test('masks the password of a connection URL and keeps everything else', () => {
    expect(maskSecrets('postgresql://flux_rag:s3cret@db.internal:5432/flux_rag')).toBe(
      'postgresql://flux_rag:***@db.internal:5432/flux_rag',
    );
    expect(maskSecrets('failed: postgres+ssl://u:pw@h/db (timeout)')).toBe(
      'failed: postgres+ssl://u:***@h/db (timeout)',
    );
  });

  test('masks every URL of a text, in any letter case', () => {
    expect(maskSecrets('a POSTGRESQL://u:one@h1/db b mysql://v:two@h2/db')).toBe(
      'a POSTGRESQL://u:***@h1/db b mysql://v:***@h2/db',
    );
  });

  test('masks the whole password when it holds an @, raw or percent-encoded', () => {
    // new URL() and drivers split user info at the last @, so "p@ss" is the password here.
    expect(maskSecrets('postgresql://u:p@ss@h:5432/db')).toBe('postgresql://u:***@h:5432/db');
    expect(maskSecrets('postgresql://u:p%40ss@h/db')).toBe('postgresql://u:***@h/db');
    expect(maskSecrets('postgresql://u:p@ss@h/db')).not.toContain('ss@h');
  });

  test('masks an empty password and leaves URLs without one alone', () => {
    expect(maskSecrets('postgresql://u:@h/db')).toBe('postgresql://u:***@h/db');
    expect(maskSecrets('postgresql://u@h/db')).toBe('postgresql://u@h/db');
    expect(maskSecrets('postgresql://h:5432/db')).toBe('postgresql://h:5432/db');
    expect(maskSecrets('see https://example.com/a:b for admin@example.com')).toBe(
      'see https://example.com/a:b for admin@example.com',
    );
  });

  test('masks password=value pairs: bare, quoted, in key/value DSNs and in query strings', () => {
    expect(maskSecrets('host=h password=secret user=u')).toBe('host=h password=*** user=u');
    expect(maskSecrets("PASSWORD = 'a b c' port=5432")).toBe('PASSWORD = *** port=5432');
    expect(maskSecrets('password="x y";host=h')).toBe('password=***;host=h');
    expect(maskSecrets('Server=h;Password=abc;Database=d')).toBe('Server=h;Password=***;Database=d');
    expect(maskSecrets('postgresql://h/db?sslmode=require&password=abc&x=1')).toBe(
      'postgresql://h/db?sslmode=require&password=***&x=1',
    );
  });

  test('is idempotent and leaves text without secrets unchanged', () => {
    const once = maskSecrets('postgresql://u:pw@h/db password=pw');
    expect(maskSecrets(once)).toBe(once);
    expect(once).not.toMatch(/pw@|=pw/);
    expect(maskSecrets('nothing to hide: 42 rows')).toBe('nothing to hide: 42 rows');
  });
});
