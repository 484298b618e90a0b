import {
  planSqliteUpgrade,
  type SqliteUpgradePlan,
  type SqliteUpgradeResult,
  sqliteBackend,
  upgradeSqliteFile,
} from '@flux-rag/memory-sqlite';
import { type Command, Option } from 'commander';
import { CliError, UsageError } from '../cli-error.js';
import { SIGNAL_EXIT, whileRunning } from '../interrupt.js';
import { printJson, println, table } from '../output.js';
import { connectionFrom, isMissingStore } from '../store.js';
import {
  addConnectionOptions,
  addJsonOption,
  type DataCommandOptions,
  refuseOwnerOption,
} from './options.js';

interface UpgradeOptions extends DataCommandOptions {
  /** `--no-backup` sets it false; `--backup <path>` names the file. */
  backup: boolean | string;
  dryRun?: boolean;
}

/** What `upgrade --json` prints. */
export type UpgradeReport = SqliteUpgradePlan & {
  upgraded: boolean;
  upgradedBytes?: number;
  durationMs?: number;
};

/**
 * `flux-memory upgrade`: the explicit upgrade of a SQLite file to the latest schema version. It says what will
 * change, the size to expect, the free disk it needs (and refuses without it), which SQLite other writers then
 * need; it takes an online backup first unless `--no-backup`; Ctrl-C leaves the file as it was.
 */
export function registerUpgradeCommand(program: Command): void {
  const command = program
    .command('upgrade')
    .description(
      'upgrade a SQLite file (e.g. one the Python app wrote) to the latest schema, after a backup; ' +
        'read commands never upgrade',
    )
    .addOption(new Option('--backup <path>', 'write the backup here (default: next to the file, .bak)'))
    .addOption(new Option('--no-backup', 'upgrade without taking a backup first'))
    .option('--dry-run', 'say what the upgrade would do, and stop');
  refuseOwnerOption(command, 'an upgrade changes the whole file, every owner');
  addJsonOption(addConnectionOptions(command)).action(async (options: UpgradeOptions) => {
    const config = connectionFrom(options);
    // The SQLite upgrade tool is this command's subject: it names its backend, as migrate names both.
    if (config.backend !== sqliteBackend.name || config.filename === ':memory:') {
      throw new UsageError(
        'upgrade works on SQLite files only; PostgreSQL schemas are upgraded by the store when it opens them',
      );
    }
    if (isMissingStore(config)) {
      throw new CliError('DATABASE_NOT_FOUND', `no SQLite database at ${String(config.filename)}`);
    }
    const file = String(config.filename);
    const backup = options.backup === false ? false : options.backup === true ? undefined : options.backup;
    const plan = await planSqliteUpgrade(file, { backup });
    const text = !options.json;
    if (text) printPlan(plan);
    if (!plan.needed || options.dryRun) {
      if (options.json) printJson({ ...plan, upgraded: false } satisfies UpgradeReport);
      else if (!plan.needed) println(`${file} is at schema version ${plan.schemaVersion.to}: nothing to do.`);
      else println('Dry run: nothing was written.');
      return;
    }
    const controller = new AbortController();
    // The upgrade stops itself and rolls back; the process must not end mid-transaction.
    const stopWatching = whileRunning({
      outcome: `the upgrade was rolled back; ${file} is as it was`,
      abort: (signal) =>
        controller.abort(
          new CliError(
            'INTERRUPTED',
            `interrupted (${signal}): the upgrade was rolled back; ${file} is as it was`,
            {
              exitCode: SIGNAL_EXIT[signal],
            },
          ),
        ),
    });
    let result: SqliteUpgradeResult;
    try {
      let announced = false;
      result = await upgradeSqliteFile(file, {
        backup,
        signal: controller.signal,
        onProgress: (step) => {
          if (!text) return;
          if (step === 'backup' && !announced) {
            announced = true;
            println(`Backing up to ${plan.backupPath} (SQLite online backup)...`);
          } else if (step !== 'backup') {
            println(`Upgrading: ${step} (Ctrl-C leaves the file as it was)`);
          }
        },
      });
    } finally {
      stopWatching();
    }
    if (options.json) {
      printJson({ ...result, upgraded: true } satisfies UpgradeReport);
      return;
    }
    const seconds = (result.durationMs / 1000).toFixed(1);
    println(
      `Upgraded ${file} to schema version ${result.schemaVersion.to} in ${seconds} s; it is now ` +
        `${bytes(result.upgradedBytes)}, in WAL mode.`,
    );
    if (result.backupPath !== null) println(`Backup: ${result.backupPath}`);
  });
}

function printPlan(plan: SqliteUpgradePlan): void {
  const rows: [string, string][] = [
    ['file', plan.location],
    ['schema version', `${plan.schemaVersion.from} -> ${plan.schemaVersion.to}`],
    ['journal mode', `${plan.journalMode.from} -> ${plan.journalMode.to}`],
    ['file size', `${bytes(plan.fileBytes.before)} now, about ${bytes(plan.fileBytes.after)} after`],
    ['free disk', `needs ${bytes(plan.requiredFreeBytes)}, ${bytes(plan.freeBytes)} free`],
    ['backup', plan.backupPath ?? 'none (--no-backup)'],
    [
      'other writers',
      `need SQLite ${plan.writerSqliteVersion} or later (Python: python3 -c "import sqlite3; ` +
        `print(sqlite3.sqlite_version)"); this upgrade runs SQLite ${plan.sqliteVersion}`,
    ],
  ];
  // What each version applied changes, right under the versions (none when there is nothing to do).
  rows.splice(2, 0, ...plan.migrations.map((m): [string, string] => ['applies', `${m.name}: ${m.summary}`]));
  if (!plan.needed) rows.splice(1, 6, ['schema version', `${plan.schemaVersion.to} (the latest)`]);
  for (const row of table(rows)) println(row);
}

/** Bytes for people: 1,024-based, one decimal. */
function bytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
