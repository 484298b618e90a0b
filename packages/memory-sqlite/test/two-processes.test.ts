import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { openPlain, tempDir, tempFile } from './support.js';

const WRITER = fileURLToPath(new URL('./two-process-writer.mjs', import.meta.url));
const COUNT = 300;

interface Written {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runWriter(file: string, name: string, startAt: number): Promise<Written> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file, name, String(COUNT), String(startAt)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('two processes writing one file', () => {
  it('both succeed and lose nothing: every message stored, counts exact, each writer in its own order', async () => {
    const file = tempFile(tempDir(), 'two-processes');
    const startAt = Date.now() + 1000;
    const results = await Promise.all([runWriter(file, 'alpha', startAt), runWriter(file, 'beta', startAt)]);
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
    expect(plain.prepare('SELECT count(*) FROM kysely_migration').pluck().get()).toBe(3);
    expect(plain.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(4 * COUNT);
    plain.close();
  });
});
