import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { SQLITE_SCHEMA_VERSION } from '../src/sqlite-migrations.js';
import { TEST_BUILD_DIR } from './build-once.js';
import { openPlain, tempDir, tempFile } from './support.js';

const WRITER = fileURLToPath(new URL('./two-process-writer.mjs', import.meta.url));
const COUNT = 300;

interface Written {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Writer {
  ready: Promise<void>;
  go(): void;
  done: Promise<Written>;
}

function startWriter(file: string, name: string): Writer {
  const child = spawn(
    process.execPath,
    [WRITER, join(TEST_BUILD_DIR, 'index.js'), file, name, String(COUNT)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let signalReady: () => void;
  const ready = new Promise<void>((resolve) => {
    signalReady = resolve;
  });
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (stdout.startsWith('ready\n')) signalReady();
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<Written>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      signalReady();
      resolve({ code, stdout: stdout.replace(/^ready\n/, ''), stderr });
    });
  });
  return { ready, go: () => child.stdin.end('go\n'), done };
}

describe('two processes writing one file', () => {
  it('both succeed and lose nothing: every message stored, counts exact, each writer in its own order', async () => {
    const file = tempFile(tempDir(), 'two-processes');
    const writers = [startWriter(file, 'alpha'), startWriter(file, 'beta')];
    await Promise.all(writers.map((w) => w.ready));
    for (const writer of writers) writer.go();
    const results = await Promise.all(writers.map((w) => w.done));
    for (const result of results) expect(result.stderr).toBe('');
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const [alpha, beta] = results.map((r) => JSON.parse(r.stdout) as { shared: string[]; own: string[] });

    const store = new SqliteConversationMemory({ filename: file });
    try {
      const shared = await store.getHistory('shared');
      expect(shared).toHaveLength(2 * COUNT);
      expect(new Set(shared.map((m) => m.id))).toEqual(new Set([...alpha!.shared, ...beta!.shared]));
      for (const [name, ids] of [
        ['alpha', alpha!],
        ['beta', beta!],
      ] as const) {
        expect(shared.filter((m) => m.content.startsWith(`${name} `)).map((m) => m.id)).toEqual(ids.shared);
        expect((await store.getHistory(name)).map((m) => m.id)).toEqual(ids.own);
      }
      const counts = Object.fromEntries((await store.getSessions()).map((s) => [s.id, s.messageCount]));
      expect(counts).toEqual({ shared: 2 * COUNT, alpha: COUNT, beta: COUNT });
    } finally {
      await store.close();
    }
    const plain = openPlain(file);
    expect(plain.prepare('SELECT count(*) FROM kysely_migration').pluck().get()).toBe(SQLITE_SCHEMA_VERSION);
    expect(plain.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(4 * COUNT);
    plain.close();
  });
});
