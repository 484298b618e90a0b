import type { StoreHealth } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { describeConnection, descriptorOf, locationOf } from '../config.js';
import { paint, printJson, println, table } from '../output.js';
import { connectionFrom, isMissingStore, openStore, usingStore } from '../store.js';
import {
  addConnectionOptions,
  addJsonOption,
  type DataCommandOptions,
  refuseOwnerOption,
} from './options.js';

/** What `check --json` prints: the store's report plus the verdict. */
export type CheckReport = StoreHealth & { healthy: boolean };

/** `flux-memory check`: is the configured database reachable, and what is in it. */
export function registerCheckCommand(program: Command): void {
  const command = program
    .command('check')
    .description('check the configured database: reachable, versions, row counts (exit 1 when unhealthy)');
  refuseOwnerOption(command, 'its health and row counts are those of the whole database, every owner');
  addJsonOption(addConnectionOptions(command)).action(async (options: DataCommandOptions) => {
    const config = connectionFrom(options);
    const backend = descriptorOf(config);
    let health: StoreHealth;
    if (isMissingStore(config)) {
      // Checking must not create the database it checks.
      health = {
        backend: backend.name,
        location: backend.locationText(locationOf(config)),
        reachable: false,
        error: 'no database file (the first write creates it: flux-memory demo or import)',
      };
    } else {
      health = await usingStore(await openStore(config, 'read'), (store) => store.check());
    }
    const report: CheckReport = {
      ...health,
      location: maskSecrets(health.location),
      ...(health.error === undefined ? {} : { error: maskSecrets(health.error) }),
      healthy: health.reachable && health.error === undefined,
    };
    if (options.json) printJson(report);
    // Unhealthy on a terminal is one line on stderr, nothing else: the reason is what matters.
    else if (report.healthy) printReport(report);
    if (!report.healthy) {
      const why = report.error ?? 'not reachable';
      // Backends name their location in the error already; say it once.
      const target = backend.connectionStrings ? backend.locationText(locationOf(config)) : '\0';
      const where = why.includes(target) ? '' : `${describeConnection(config)}: `;
      throw new CliError('UNHEALTHY', `${where}${why}`);
    }
  });
}

function printReport(report: CheckReport): void {
  const out = process.stdout;
  const rows: [string, string][] = [
    ['backend', report.backend],
    ['location', report.location],
    ['reachable', paint(out, 'green', 'yes')],
  ];
  if (report.serverVersion !== undefined) rows.push(['server version', report.serverVersion]);
  if (report.schemaVersion !== undefined) rows.push(['schema version', String(report.schemaVersion)]);
  if (report.sessions !== undefined) rows.push(['sessions', report.sessions.toLocaleString('en-US')]);
  if (report.messages !== undefined) rows.push(['messages', report.messages.toLocaleString('en-US')]);
  // Only the SQL backends report it (legacy SQLite files can hold orphans); counted in `messages` too.
  if (report.orphanMessages !== undefined)
    rows.push(['orphan messages', report.orphanMessages.toLocaleString('en-US')]);
  for (const row of table(rows)) println(row);
  println(paint(out, ['bold', 'green'], 'healthy'));
}
