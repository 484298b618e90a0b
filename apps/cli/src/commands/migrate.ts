import { resolveMemoryConfig } from '@flux-rag/memory-core';
import {
  createProgressBar,
  formatReport,
  type MigrationOptions,
  migratePostgresToSqlite,
  migrateSqliteToPostgres,
} from '@flux-rag/migrator';
import { type Command, Option } from 'commander';
import { CliError, UsageError } from '../cli-error.js';
import { loadDotenv } from '../config.js';
import { printJson } from '../output.js';
import { integer, refuseOwnerOption } from './options.js';

interface MigrateFlags {
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
}

/**
 * `flux-memory migrate`: the original `migrate_sqlite_to_postgres.py` with its flags and environment defaults,
 * on `@flux-rag/migrator` (streaming, resumable, verified). Exit 0 when the target matches the source, 1 when
 * invalid rows blocked the run (`--on-invalid fail`) or verification found a difference, 2 on wrong usage.
 */
export function registerMigrateCommand(program: Command): void {
  const command = program
    .command('migrate')
    .description('copy a SQLite file into PostgreSQL (or back, with --reverse), verified session by session')
    .option('--sqlite-path <path>', 'the SQLite file (default: $DATABASE_URL, else ./data/memory.db)')
    .option('--postgres-dsn <dsn>', 'the PostgreSQL DSN (default: $POSTGRES_DSN)')
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
    .option('--reverse', 'PostgreSQL to SQLite (production data to a laptop)')
    .option('--source-timezone <tz>', 'zone of naive source timestamps: UTC (default), +02:00, Europe/Paris')
    .option('--json', 'print the report as JSON')
    .option('--dotenv <path>', 'dotenv file to read (default: ./.env when it exists)')
    .action(async (flags: MigrateFlags) => {
      if (flags.verifyOnly && flags.dryRun)
        throw new UsageError('--verify-only and --dry-run exclude each other');
      const env = { ...process.env };
      loadDotenv(flags, process.cwd(), env);
      const sqlite = resolveMemoryConfig({
        backend: 'sqlite',
        env,
        ...(flags.sqlitePath ? { databaseUrl: flags.sqlitePath } : {}),
      });
      const postgres = resolveMemoryConfig({
        backend: 'postgres',
        env,
        ...(flags.postgresDsn ? { postgresDsn: flags.postgresDsn } : {}),
        ...(flags.schema ? { schema: flags.schema } : {}),
      });
      if (sqlite.backend !== 'sqlite' || postgres.backend !== 'postgres') throw new Error('unreachable');
      const bar = flags.json ? { onProgress() {}, stop() {} } : createProgressBar(process.stderr);
      const options: MigrationOptions = {
        sqlitePath: sqlite.filename,
        postgresDsn: postgres.connectionString,
        schema: postgres.schema,
        onInvalid: flags.onInvalid,
        onProgress: bar.onProgress,
        ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
        ...(flags.rejects === undefined ? {} : { rejectsPath: flags.rejects }),
        ...(flags.verifyOnly ? { verifyOnly: true } : {}),
        ...(flags.dryRun ? { dryRun: true } : {}),
        ...(flags.sourceTimezone === undefined ? {} : { sourceTimezone: flags.sourceTimezone }),
      };
      let report: Awaited<ReturnType<typeof migrateSqliteToPostgres>>;
      try {
        report = await (flags.reverse ? migratePostgresToSqlite(options) : migrateSqliteToPostgres(options));
      } finally {
        bar.stop();
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
