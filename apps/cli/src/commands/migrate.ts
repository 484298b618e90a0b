import { ValidationError } from '@flux-rag/memory-core';
import { postgresBackend } from '@flux-rag/memory-postgres';
import { DEFAULT_SQLITE_PATH } from '@flux-rag/memory-sqlite';
import {
  formatReport,
  type MigrationOptions,
  migratePostgresToSqlite,
  migrateSqliteToPostgres,
} from '@flux-rag/migrator';
import { type Command, Option } from 'commander';
import { CliError, EXIT, UsageError } from '../cli-error.js';
import { checkSchema, loadDotenv, noLocationMessage } from '../config.js';
import { parseConnectionString } from '../connection-string.js';
import { whileRunning } from '../interrupt.js';
import { printJson } from '../output.js';
import { createProgress } from '../progress.js';
import { integer, refuseOwnerOption } from './options.js';

interface MigrateFlags {
  from?: string;
  to?: string;
  sqlitePath?: string;
  postgresDsn?: string;
  schema?: string;
  batchSize?: number;
  onInvalid: 'fail' | 'skip' | 'repair';
  rejects?: string;
  verifyOnly?: boolean;
  dryRun?: boolean;
  reverse?: boolean;
  sourceTimezone?: string;
  json?: boolean;
  dotenv?: string;
  url?: string;
  backend?: string;
}

/** The two ends of a migration, whichever spelling named them. */
interface Ends {
  sqlitePath: string;
  postgresDsn: string;
  reverse: boolean;
}

/** The usage error of a migration given no DSN: the CLI has no default server. */
const NO_DSN_MESSAGE = noLocationMessage(postgresBackend);

/**
 * Chooses the SQLite file, the PostgreSQL DSN and the direction, before anything is opened (usage errors,
 * exit 2). `--from`/`--to` are the CLI's one vocabulary (connection strings, as `--url` takes them; the
 * direction follows from their kinds); `--sqlite-path`, `--postgres-dsn` and `--reverse` are the original
 * script's spellings and still work, but not mixed with them. An end not given comes from the environment
 * (`DATABASE_URL` for the SQLite file, else `./data/memory.db`; `POSTGRES_DSN` or a PostgreSQL `DATABASE_URL`
 * for the server); a missing DSN is a usage error, never a default server.
 */
export function resolveEnds(flags: MigrateFlags, env: Readonly<Record<string, string | undefined>>): Ends {
  const vocabulary = flags.from !== undefined || flags.to !== undefined;
  const legacy = flags.sqlitePath !== undefined || flags.postgresDsn !== undefined || flags.reverse === true;
  if (vocabulary && legacy) {
    throw new UsageError(
      '--from/--to replace --sqlite-path, --postgres-dsn and --reverse: use one spelling, not both',
    );
  }
  const envUrl = env.DATABASE_URL?.trim()
    ? parseConnectionString(env.DATABASE_URL, 'DATABASE_URL')
    : undefined;
  const envSqlite = () => (envUrl?.backend === 'sqlite' ? String(envUrl.filename) : DEFAULT_SQLITE_PATH);
  const envPostgres = () => {
    if (env.POSTGRES_DSN?.trim()) {
      const target = parseConnectionString(env.POSTGRES_DSN, 'POSTGRES_DSN');
      if (target.backend === 'postgres') return String(target.connectionString);
    }
    if (envUrl?.backend === 'postgres') return String(envUrl.connectionString);
    throw new UsageError(NO_DSN_MESSAGE.replace('--url', '--to (or --from)'));
  };
  if (!vocabulary) {
    const sqlitePath =
      flags.sqlitePath === undefined ? envSqlite() : sqliteOnly(flags.sqlitePath, '--sqlite-path');
    const postgresDsn =
      flags.postgresDsn === undefined ? envPostgres() : postgresOnly(flags.postgresDsn, '--postgres-dsn');
    return { sqlitePath, postgresDsn, reverse: flags.reverse === true };
  }
  const from = flags.from === undefined ? undefined : parseConnectionString(flags.from, '--from');
  const to = flags.to === undefined ? undefined : parseConnectionString(flags.to, '--to');
  if (from && to && from.backend === to.backend) {
    throw new UsageError(
      from.backend === 'sqlite'
        ? 'migrate copies between SQLite and PostgreSQL, and --from and --to are both SQLite files: copy the ' +
            'file, or use export and import'
        : 'migrate copies between SQLite and PostgreSQL, and --from and --to are both PostgreSQL: use pg_dump, ' +
            'or export and import (with --schema for another schema)',
    );
  }
  const reverse = (from ?? to)!.backend === (from ? 'postgres' : 'sqlite');
  const sqlite = [from, to].find((t) => t?.backend === 'sqlite');
  const postgres = [from, to].find((t) => t?.backend === 'postgres');
  return {
    sqlitePath: sqlite?.backend === 'sqlite' ? String(sqlite.filename) : envSqlite(),
    postgresDsn: postgres?.backend === 'postgres' ? String(postgres.connectionString) : envPostgres(),
    reverse,
  };
}

function sqliteOnly(value: string, flag: string): string {
  const target = parseConnectionString(value, flag);
  if (target.backend !== 'sqlite')
    throw new UsageError(`${flag} is a PostgreSQL DSN; it takes a SQLite file`);
  return String(target.filename);
}

function postgresOnly(value: string, flag: string): string {
  const target = parseConnectionString(value, flag);
  if (target.backend !== 'postgres') {
    throw new UsageError(`${flag} reads as a SQLite path; it takes a postgresql:// URL or libpq DSN`);
  }
  return String(target.connectionString);
}

/**
 * `flux-memory migrate`: the original `migrate_sqlite_to_postgres.py` on `@flux-rag/migrator` (streaming,
 * resumable, verified), with `--from`/`--to` besides the original flags. Exit 0 when the target matches the
 * source, 1 when invalid rows blocked the run (`--on-invalid fail`) or verification found a difference, 2 on
 * wrong usage (bad option values included, before anything is opened).
 */
export function registerMigrateCommand(program: Command): void {
  const command = program
    .command('migrate')
    .description(
      'copy a SQLite file into PostgreSQL or back (--from, --to), resumable, verified session by session',
    )
    .option('--from <url>', 'source: a SQLite file or sqlite: URL, or a PostgreSQL DSN (URL or libpq)')
    .option('--to <url>', 'target: the other kind; the direction follows from the two')
    .option(
      '--sqlite-path <path>',
      'the SQLite file, original spelling (default: $DATABASE_URL when a SQLite location, else ./data/memory.db)',
    )
    .option(
      '--postgres-dsn <dsn>',
      'the PostgreSQL DSN, original spelling (default: $POSTGRES_DSN, else a postgresql:// $DATABASE_URL; no default server)',
    )
    .option('--schema <name>', 'PostgreSQL schema (default: $POSTGRES_SCHEMA, else public)')
    .addOption(
      new Option(
        '--batch-size <n>',
        'rows per batch (default 5000, measured: see the migrator README)',
      ).argParser(integer(1, 50_000)),
    )
    .addOption(
      new Option('--on-invalid <rule>', 'invalid rows: fail (write nothing), skip, or repair')
        .choices(['fail', 'skip', 'repair'])
        .default('fail'),
    )
    .option(
      '--rejects <file>',
      'JSON Lines file for every invalid row (default under skip/repair: <sqlite-path>.rejects.jsonl)',
    )
    .option('--verify-only', 'compare the target with the source, write nothing')
    .option('--dry-run', 'scan and count what would be written, write nothing')
    .option('--reverse', 'original spelling: PostgreSQL to SQLite (with --sqlite-path/--postgres-dsn)')
    .option('--source-timezone <tz>', 'zone of naive source timestamps: UTC (default), +02:00, Europe/Paris')
    .option('--json', 'print the report as JSON')
    .option('--dotenv <path>', 'dotenv file to read (default: ./.env when it exists)')
    // Not migrate's options: named so that the error says what to use instead of "unknown option".
    .addOption(new Option('--url <url>').hideHelp())
    .addOption(new Option('--backend <name>').hideHelp())
    .action(async (flags: MigrateFlags) => {
      if (flags.url !== undefined || flags.backend !== undefined) {
        throw new UsageError(
          `migrate does not take ${flags.url !== undefined ? '--url' : '--backend'}: name both ends with ` +
            '--from <url> --to <url> (a SQLite file and a PostgreSQL DSN)',
        );
      }
      if (flags.verifyOnly && flags.dryRun)
        throw new UsageError('--verify-only and --dry-run exclude each other');
      const env = { ...process.env };
      loadDotenv(flags, process.cwd(), env);
      const ends = resolveEnds(flags, env);
      const schema = flags.schema ?? (env.POSTGRES_SCHEMA || 'public');
      checkSchema(schema, flags.schema === undefined ? 'POSTGRES_SCHEMA' : '--schema');
      const progress = flags.json ? createProgress({ stream: nullStream() }) : createProgress();
      const options: MigrationOptions = {
        sqlitePath: ends.sqlitePath,
        postgresDsn: ends.postgresDsn,
        schema,
        onInvalid: flags.onInvalid,
        onProgress: (p) =>
          // A step of 0 or 1 unit (an index being built) has no meaningful percentage: a spinner with time.
          progress.update(`${p.phase} ${p.step}`, p.done, p.total > 1 ? p.total : undefined),
        ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
        ...(flags.rejects === undefined ? {} : { rejectsPath: flags.rejects }),
        ...(flags.verifyOnly ? { verifyOnly: true } : {}),
        ...(flags.dryRun ? { dryRun: true } : {}),
        ...(flags.sourceTimezone === undefined ? {} : { sourceTimezone: flags.sourceTimezone }),
      };
      let report: Awaited<ReturnType<typeof migrateSqliteToPostgres>>;
      const unregister = whileRunning({
        outcome:
          'what was committed stays (a load into an empty target is one transaction and was rolled back); ' +
          'run the same migrate again to resume',
      });
      try {
        report = await (ends.reverse ? migratePostgresToSqlite(options) : migrateSqliteToPostgres(options));
      } catch (error) {
        // The migrator checks its options (time zone, batch size, ...) before it opens anything: a usage error.
        if (ValidationError.isInstance(error)) {
          throw new CliError(error.code, error.message, { exitCode: EXIT.usage, cause: error });
        }
        throw error;
      } finally {
        progress.stop();
        unregister();
      }
      if (flags.json) printJson(report);
      else process.stdout.write(formatReport(report));
      if (!report.ok) {
        throw new CliError(
          report.verification.status === 'failed' ? 'VERIFY_FAILED' : 'INVALID_ROWS',
          report.summary,
        );
      }
    });
  refuseOwnerOption(command, 'it copies the whole database, every owner, and verifies it row for row');
}

/** A stream that is not a terminal: progress stays off under `--json`. */
function nullStream(): NodeJS.WriteStream {
  return { isTTY: false } as NodeJS.WriteStream;
}
