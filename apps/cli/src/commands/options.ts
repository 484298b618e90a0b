import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ConnectionFlags } from '../config.js';

/** Options common to the data commands, as commander hands them to an action. */
export interface DataCommandOptions extends ConnectionFlags {
  json?: boolean;
}

/** Adds `--backend`, `--url`, `--schema` and `--dotenv`: every data command takes them. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--backend <name>', 'storage backend (default: $DATABASE_BACKEND, else sqlite)').choices([
        'sqlite',
        'postgres',
        'postgresql',
        'memory',
      ]),
    )
    .addOption(
      new Option(
        '--url <url>',
        'SQLite file (path or sqlite: URL) or PostgreSQL DSN; a postgres:// URL selects postgres ' +
          '(default: $DATABASE_URL or $POSTGRES_DSN, else ./data/memory.db)',
      ),
    )
    .addOption(new Option('--schema <name>', 'PostgreSQL schema (default: $POSTGRES_SCHEMA, else public)'))
    .addOption(new Option('--dotenv <path>', 'dotenv file to read (default: ./.env when it exists)'));
}

/** Adds `--json`. */
export function addJsonOption(command: Command): Command {
  return command.option('--json', 'print machine-readable JSON instead of text');
}

/** A commander parser for an integer option within `[min, max]`; anything else is a usage error (exit 2). */
export function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}
