import { inspect } from 'node:util';
import { type ConversationMemory, MemoryError } from '@flux-rag/memory-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PostgresConversationMemory } from '../src/index.js';
import { usePostgres } from './support.js';

const pg = usePostgres();
const SECRET = 'Pa55-w0rd-that-must-never-show';

/** The run's URL with SECRET as its password (test servers trust local connections, so any is accepted). */
function withSecret(url: string, port?: string): string {
  const target = new URL(url);
  target.password = SECRET;
  if (port) target.port = port;
  return target.toString();
}

/** Everything a user could print about an error: message, stack, cause chain, own properties. */
const printed = (value: unknown) => `${String(value)}\n${inspect(value, { depth: 20, showHidden: true })}`;

/** Runs every method and collects what each rejected with. */
async function errorsOf(store: ConversationMemory): Promise<unknown[]> {
  const results = await Promise.allSettled([
    store.createSession({ id: 'dup' }),
    store.addMessage('missing', { role: 'user', content: 'x' }),
    store.getHistory('missing', { limit: 0 }),
    store.getSessions(),
    store.getSession('x'),
    store.updateSessionTitle('missing', 't'),
    store.deleteSession('x'),
    store.clearAll(),
    store.importRecords([{ type: 'message' } as never]),
  ]);
  await Promise.allSettled([store.createSession({ id: 'dup' })]);
  const again = await Promise.allSettled([store.createSession({ id: 'dup' })]);
  return [...results, ...again].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
}

const logged: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  logged.length = 0;
});
function captureLogs() {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(printed).join(' '));
    });
  }
}

describe('no password in output', () => {
  it('reachable - errors, check() and the store itself never show the DSN password', async () => {
    captureLogs();
    const store = await pg.store({ connectionString: withSecret(pg.url) });
    const errors = await errorsOf(store);
    expect(errors.length).toBeGreaterThanOrEqual(4);
    for (const error of errors) {
      expect(MemoryError.isInstance(error)).toBe(true);
      expect(printed(error)).not.toContain(SECRET);
    }
    const health = await store.check();
    expect(health.reachable).toBe(true);
    expect(JSON.stringify(health)).not.toContain(SECRET);
    expect(printed(store)).not.toContain(SECRET);
    expect(logged.join('\n')).not.toContain(SECRET);
  });

  it('unreachable - a wrong port: every error and check() are masked, causes included', async () => {
    captureLogs();
    for (const connectionString of [
      withSecret(pg.url, '1'),
      `postgresql://postgres@127.0.0.1:1/postgres?password=${SECRET}`,
    ]) {
      const store = await pg.store({ connectionString });
      const errors = await errorsOf(store);
      expect(errors.length).toBeGreaterThanOrEqual(8);
      for (const error of errors) expect(printed(error)).not.toContain(SECRET);
      const health = await store.check();
      expect(health.reachable).toBe(false);
      expect(printed(health)).not.toContain(SECRET);
    }
    expect(logged.join('\n')).not.toContain(SECRET);
  });

  it('unreachable - a PoolConfig password is masked in the location as well', async () => {
    const store = new PostgresConversationMemory({
      pool: { host: '127.0.0.1', port: 1, user: 'app', password: SECRET, database: 'db' },
    });
    try {
      const health = await store.check();
      expect(health.location).toBe('postgresql://app:***@127.0.0.1:1/db (schema public)');
      expect(printed(health)).not.toContain(SECRET);
      for (const error of await errorsOf(store)) expect(printed(error)).not.toContain(SECRET);
    } finally {
      await store.close();
    }
  });

  it('invalid - a malformed DSN is refused without echoing its password', () => {
    for (const connectionString of [`postgresql://u:${SECRET}@[bad`, `mysql://u:${SECRET}@h/db`]) {
      expect(() => new PostgresConversationMemory({ connectionString })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
      try {
        new PostgresConversationMemory({ connectionString });
      } catch (error) {
        expect(printed(error)).not.toContain(SECRET);
      }
    }
  });
});
