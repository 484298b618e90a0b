import { existsSync, readdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type EmbeddedPostgresServer, freePort, startEmbeddedPostgres } from './embedded-server.js';
import { withClient } from './test-server.js';

/**
 * A primary and a streaming replica of it (or more, see {@link ReplicaPairOptions.replicas}), each on its own
 * loopback port, for replica tests.
 */
export interface ReplicaPair {
  /** The primary (read-write). */
  readonly primary: EmbeddedPostgresServer;
  /** The hot standby, streaming from the primary: the first of {@link replicas}, which the methods act on. */
  readonly replica: EmbeddedPostgresServer;
  /** Every hot standby, in the order made: `replica` first. */
  readonly replicas: readonly EmbeddedPostgresServer[];
  /** How the replica's base backup was taken: `pg_basebackup` (system tools) or a file copy. */
  readonly method: 'pg_basebackup' | 'file copy';
  /** The servers' `server_version`. */
  readonly serverVersion: string;
  /** Pauses WAL replay on the replica (`pg_wal_replay_pause()`); resolves once replay has stopped. */
  pauseReplay(): Promise<void>;
  /** Resumes WAL replay on the replica (`pg_wal_replay_resume()`). */
  resumeReplay(): Promise<void>;
  /**
   * Resolves once every replica has replayed everything the primary had written when called; rejects after
   * `timeoutMs` (default 10,000).
   */
  waitForReplay(timeoutMs?: number): Promise<void>;
  /** Stops the replica (fast shutdown); `replica.start()` or {@link startReplica} brings it back. */
  stopReplica(): Promise<void>;
  /** Starts the stopped replica again on the same port; it resumes streaming from where it stopped. */
  startReplica(): Promise<void>;
  /** Stops every server and deletes their data. Idempotent. */
  destroy(): Promise<void>;
}

/** Options of {@link startReplicaPair}. */
export interface ReplicaPairOptions {
  /**
   * Where `pg_basebackup`, `initdb` and `postgres` are: default the newest `/usr/lib/postgresql/<n>/bin` that
   * has `pg_basebackup`; `null` forces the embedded binaries and a file-copy base backup.
   */
  systemBinDir?: string | null;
  /**
   * Extra `postgres -c` settings of both servers. The test servers run with `synchronous_commit = off`, so a
   * commit reaches the replica only when the WAL writer flushes (every 200 ms by default); a benchmark of how
   * soon reads return to the replica sets it `on`.
   */
  settings?: Readonly<Record<string, string>>;
  /** How many hot standbys to make, each from its own base backup of the primary; default 1. */
  replicas?: number;
}

/**
 * Starts a primary and a hot standby streaming from it, on free 127.0.0.1 ports with trust authentication.
 * With system PostgreSQL tools (Debian's `/usr/lib/postgresql/<n>/bin`), both run from them and the replica
 * is made by `pg_basebackup -R`. Otherwise both run from the embedded binaries (which ship no
 * `pg_basebackup`): the base backup is a file copy of the primary's data directory between
 * `pg_backup_start()` and `pg_backup_stop()` (PostgreSQL 15+), with the `backup_label` that stop returns,
 * `standby.signal` and `primary_conninfo`. The primary keeps 256 MB of WAL so that a replica stopped for a
 * while can resume streaming. Rejects (after removing what it made) when a server cannot start.
 */
export async function startReplicaPair(options: ReplicaPairOptions = {}): Promise<ReplicaPair> {
  const systemBinDir = options.systemBinDir === undefined ? findSystemBinDir() : options.systemBinDir;
  const binOption = systemBinDir ? { binDir: systemBinDir } : {};
  const primary = await startEmbeddedPostgres({
    ...binOption,
    settings: { wal_level: 'replica', max_wal_senders: '10', wal_keep_size: '256MB', ...options.settings },
  });
  const replicas: EmbeddedPostgresServer[] = [];
  try {
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      replicas.push(
        await startStandby(primary, systemBinDir, i === 0 ? 'replica' : `replica${i + 1}`, options),
      );
    }
    const versions = await Promise.all(
      replicas.map((replica) =>
        withClient(replica.url, async (client) => {
          const { rows } = await client.query<{ v: string; standby: boolean }>(
            'SELECT current_setting($1) AS v, pg_is_in_recovery() AS standby',
            ['server_version'],
          );
          if (!rows[0]?.standby) throw new Error('the replica is not in recovery');
          return rows[0].v;
        }),
      ),
    );
    return pairOf(primary, replicas, systemBinDir ? 'pg_basebackup' : 'file copy', versions[0]!);
  } catch (error) {
    for (const replica of replicas) await replica.destroy();
    await primary.destroy();
    throw error;
  }
}

/** One hot standby of `primary`, named `name` in its `application_name`, from a base backup of its own. */
async function startStandby(
  primary: EmbeddedPostgresServer,
  systemBinDir: string | undefined | null,
  name: string,
  options: ReplicaPairOptions,
): Promise<EmbeddedPostgresServer> {
  const binOption = systemBinDir ? { binDir: systemBinDir } : {};
  const conninfo = `host=127.0.0.1 port=${primary.port} user=postgres application_name=${name}`;
  return startEmbeddedPostgres({
    ...binOption,
    port: await freePort(),
    // A standby's settings; hot_standby_feedback keeps the primary from vacuuming rows a replica read uses.
    settings: {
      hot_standby: 'on',
      hot_standby_feedback: 'on',
      primary_conninfo: conninfo,
      ...options.settings,
    },
    createData: systemBinDir
      ? (dataDir, run) =>
          run(path.join(systemBinDir, 'pg_basebackup'), [
            '--host=127.0.0.1',
            `--port=${primary.port}`,
            '--username=postgres',
            `--pgdata=${dataDir}`,
            '--wal-method=stream',
            '--checkpoint=fast',
            '--write-recovery-conf',
            '--no-sync',
          ])
      : (dataDir, run) => copyBaseBackup(primary, dataDir, run),
  });
}

function pairOf(
  primary: EmbeddedPostgresServer,
  replicas: readonly EmbeddedPostgresServer[],
  method: ReplicaPair['method'],
  serverVersion: string,
): ReplicaPair {
  const replica = replicas[0]!;
  return {
    primary,
    replica,
    replicas,
    method,
    serverVersion,
    async pauseReplay() {
      await withClient(replica.url, async (client) => {
        await client.query('SELECT pg_wal_replay_pause()');
        // Pausing is requested, then takes effect between two records: wait for the state, not a time.
        for (;;) {
          const { rows } = await client.query<{ state: string }>(
            'SELECT pg_get_wal_replay_pause_state() AS state',
          );
          if (rows[0]?.state === 'paused') return;
          await delay(10);
        }
      });
    },
    async resumeReplay() {
      await withClient(replica.url, (client) => client.query('SELECT pg_wal_replay_resume()'));
    },
    async waitForReplay(timeoutMs = 10_000) {
      const target = await withClient(primary.url, async (client) => {
        const { rows } = await client.query<{ lsn: string }>(
          'SELECT pg_current_wal_insert_lsn()::text AS lsn',
        );
        return rows[0]!.lsn;
      });
      const deadline = Date.now() + timeoutMs;
      for (const standby of replicas)
        await withClient(standby.url, async (client) => {
          for (;;) {
            const { rows } = await client.query<{ done: boolean }>(
              'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done',
              [target],
            );
            if (rows[0]?.done) return;
            if (Date.now() > deadline)
              throw new Error(`the replica did not replay up to ${target} in ${timeoutMs} ms`);
            await delay(10);
          }
        });
    },
    stopReplica: () => replica.stop(),
    startReplica: () => replica.start(),
    async destroy() {
      for (const standby of replicas) await standby.destroy();
      await primary.destroy();
    },
  };
}

/**
 * A base backup without `pg_basebackup`: `pg_backup_start()`, a copy of the data directory (as the server
 * user, keeping modes), `pg_backup_stop()` on the same connection, then the `backup_label` it returns and
 * `standby.signal`. The WAL written during the copy is copied after the stop, so the replica reaches a
 * consistent state without the primary's archive.
 */
async function copyBaseBackup(
  primary: EmbeddedPostgresServer,
  dataDir: string,
  run: (file: string, args: readonly string[]) => Promise<void>,
): Promise<void> {
  await withClient(primary.url, async (client) => {
    await client.query("SELECT pg_backup_start('flux-rag replica', true)");
    let label: string;
    try {
      await run('cp', ['-a', '--', `${primary.dataDir}/.`, dataDir]);
    } finally {
      const { rows } = await client.query<{ labelfile: string }>(
        'SELECT labelfile FROM pg_backup_stop(false)',
      );
      label = rows[0]!.labelfile;
    }
    await run('cp', ['-a', '--', `${path.join(primary.dataDir, 'pg_wal')}/.`, path.join(dataDir, 'pg_wal')]);
    // The primary's lock file and slots are its own; a copied postmaster.pid would make the replica refuse to start.
    for (const name of ['postmaster.pid', 'postmaster.opts'])
      await rm(path.join(dataDir, name), { force: true });
    await run('sh', ['-c', `rm -rf -- "$1"/pg_replslot/*`, 'sh', dataDir]);
    await writeAs(run, path.join(dataDir, 'backup_label'), label);
    await writeAs(run, path.join(dataDir, 'standby.signal'), '');
  });
}

/** Writes a file as the server user, so that it owns it (as root, files this process writes are root's). */
async function writeAs(
  run: (file: string, args: readonly string[]) => Promise<void>,
  file: string,
  text: string,
): Promise<void> {
  const staged = `${file}.staged`;
  await writeFile(staged, text, { mode: 0o644 });
  await run('cp', ['--', staged, file]);
  await rm(staged, { force: true });
}

/** The newest `/usr/lib/postgresql/<major>/bin` holding `pg_basebackup`, if any. */
export function findSystemBinDir(root = '/usr/lib/postgresql'): string | undefined {
  let majors: number[];
  try {
    majors = readdirSync(root)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n >= 15);
  } catch {
    return undefined;
  }
  for (const major of majors.sort((a, b) => b - a)) {
    const bin = path.join(root, String(major), 'bin');
    if (existsSync(path.join(bin, 'pg_basebackup')) && existsSync(path.join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
