import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, rmSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, serverUser } from './embedded-server.js';

/** Set to `1` (CI does) to make a missing PgBouncer fail the run instead of skipping the pooler tests. */
export const REQUIRE_PGBOUNCER_VARIABLE = 'MEMORY_TEST_REQUIRE_PGBOUNCER';

/** A PgBouncer started by this process in front of a test server. */
export interface TestPgBouncer {
  /** `postgresql://<user>:<password>@127.0.0.1:<port>/<database>`: the server's database, through the pooler. */
  readonly url: string;
  /** The TCP port, on 127.0.0.1 only. */
  readonly port: number;
  /** Stops PgBouncer (immediate shutdown: client connections are closed) and deletes its files. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startPgBouncer}. */
export interface PgBouncerOptions {
  /** Settings of the `[pgbouncer]` section beyond the defaults, for tests about one of them. */
  settings?: Readonly<Record<string, string>>;
}

/** Where PgBouncer's program is, or why the pooler tests cannot run here. */
export type PgBouncerAvailability = { readonly path: string } | { readonly missing: string };

/** Where PgBouncer's packages put the program, outside a non-root `PATH` (Debian's: `/usr/sbin`). */
export const PGBOUNCER_DIRECTORIES: readonly string[] = ['/usr/sbin', '/usr/local/sbin'];

/** Finds the `pgbouncer` program on the `PATH`, else in `directories`. */
export function findPgBouncer(
  env: Readonly<Record<string, string | undefined>> = process.env,
  directories: readonly string[] = PGBOUNCER_DIRECTORIES,
): PgBouncerAvailability {
  const searched = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...directories];
  for (const directory of searched) {
    const file = path.join(directory, 'pgbouncer');
    try {
      accessSync(file, constants.X_OK);
      return { path: file };
    } catch {
      // not here
    }
  }
  return { missing: 'pgbouncer is not installed (apt-get install pgbouncer, brew install pgbouncer)' };
}

/** True when {@link REQUIRE_PGBOUNCER_VARIABLE} asks for the pooler tests to run. */
export function pgBouncerRequired(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = env[REQUIRE_PGBOUNCER_VARIABLE]?.trim();
  return value !== undefined && value !== '' && value !== '0';
}

/**
 * Starts PgBouncer on a free port of 127.0.0.1 in front of the server `serverUrl` names, with PgBouncer's
 * default settings except `pool_mode = transaction`: in particular no `ignore_startup_parameters`, the default
 * `max_client_conn`, `default_pool_size` and `query_wait_timeout`, and md5 authentication of its clients
 * against an auth file holding one user (the server URL's) with a fresh random password. The server sees
 * the URL's user and password. As root it runs as the system user `postgres` (PgBouncer refuses root), as the
 * embedded server does. Rejects with PgBouncer's log when it cannot start.
 */
export async function startPgBouncer(
  serverUrl: string,
  options: PgBouncerOptions = {},
): Promise<TestPgBouncer> {
  const found = findPgBouncer();
  if ('missing' in found) throw new Error(found.missing);
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username) || 'postgres';
  const database = decodeURIComponent(server.pathname.slice(1)) || user;
  // PgBouncer's ini file takes a database key without quoting; test databases are plain identifiers.
  if (!/^\w+$/.test(database))
    throw new Error(`startPgBouncer: database name ${JSON.stringify(database)} is not plain`);
  const clientPassword = randomBytes(12).toString('hex');
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-rag-pgbouncer-'));
  const owner = await serverUser();
  const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;
  const target = [
    `host=${server.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1'}`,
    `port=${server.port || '5432'}`,
    `dbname=${quote(database)}`,
    `user=${quote(user)}`,
    ...(server.password ? [`password=${quote(decodeURIComponent(server.password))}`] : []),
  ].join(' ');
  const settings: Record<string, string> = {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    // No Unix socket: its default directory (/tmp) is shared, and the tests use TCP.
    unix_socket_dir: '',
    auth_file: path.join(dir, 'users.txt'),
    pool_mode: 'transaction',
    ...options.settings,
  };
  const ini = [
    '[databases]',
    `${database} = ${target}`,
    '[pgbouncer]',
    ...Object.entries(settings).map(([name, value]) => `${name} = ${value}`),
    '',
  ].join('\n');
  try {
    await chmod(dir, 0o755);
    await writeFile(path.join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
    await writeFile(
      path.join(dir, 'users.txt'),
      `${JSON.stringify(user)} ${JSON.stringify(clientPassword)}\n`,
      {
        mode: 0o644,
      },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let child: ChildProcess;
  try {
    child = await launch(found.path, path.join(dir, 'pgbouncer.ini'), owner, dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  running.set(child, dir);
  ensureExitListener();
  const url = new URL(`postgresql://127.0.0.1:${port}/`);
  url.username = encodeURIComponent(user);
  url.password = clientPassword;
  url.pathname = `/${encodeURIComponent(database)}`;
  return {
    url: url.toString(),
    port,
    async stop() {
      if (!running.has(child)) return;
      running.delete(child);
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `pgbouncer <ini>` in the foreground; resolves once it logs that it is up, rejects with its log if it exits. */
function launch(
  file: string,
  ini: string,
  owner: { uid?: number; gid?: number },
  cwd: string,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [ini], {
      ...(owner.uid !== undefined ? { uid: owner.uid, gid: owner.gid } : {}),
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const collect = (chunk: Buffer) => {
      log = `${log}${chunk.toString('utf8')}`.slice(-8_000);
      if (log.includes('process up')) resolve(child);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`pgbouncer exited (code ${code}, signal ${signal}) before it was up:\n${log}`)),
    );
  });
}

/** PgBouncers this process started and has not stopped, with their directories. */
const running = new Map<ChildProcess, string>();

/** Stops what is still running when the process exits (a test that never called stop()), as the server helper does. */
function ensureExitListener(): void {
  if (exitListenerAdded) return;
  exitListenerAdded = true;
  process.on('exit', () => {
    for (const [child, dir] of running) {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
let exitListenerAdded = false;

/**
 * For a test file with pooler tests: PgBouncer's program, or why those tests are skipped. Throws instead when
 * {@link REQUIRE_PGBOUNCER_VARIABLE} is set, so that CI fails rather than skipping them.
 */
export function pgBouncerForTests(
  env: Readonly<Record<string, string | undefined>> = process.env,
  directories: readonly string[] = PGBOUNCER_DIRECTORIES,
): PgBouncerAvailability {
  const found = findPgBouncer(env, directories);
  if ('missing' in found && pgBouncerRequired(env)) {
    throw new Error(`${REQUIRE_PGBOUNCER_VARIABLE} is set but ${found.missing}: the pooler tests cannot run`);
  }
  return found;
}
