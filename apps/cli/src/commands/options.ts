import { DEFAULT_BACKENDS } from '@flux-rag/memory';
import { ValidationError } from '@flux-rag/memory-core';
import { assertId, backendNames } from '@flux-rag/memory-core/backend';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT, UsageError } from '../cli-error.js';
import { BACKEND_CHOICES, type ConnectionFlags } from '../config.js';
import { ACCEPTED_FORMS } from '../connection-string.js';

/** Options common to the data commands, as commander hands them to an action. */
export interface DataCommandOptions extends ConnectionFlags {
  json?: boolean;
  /** `--owner`: the owner whose sessions the command works on; see {@link addOwnerOption}. */
  owner?: string;
}

/** Adds `--backend`, `--url`, `--schema` and `--dotenv`: every data command takes them. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--backend <name>',
        `storage backend: ${backendNames(DEFAULT_BACKENDS)} (default: the form of --url, else ` +
          `$DATABASE_BACKEND, else the backend $DATABASE_URL names, else ${DEFAULT_BACKENDS[0]!.name})`,
      ).choices([...BACKEND_CHOICES]),
    )
    .addOption(
      new Option(
        '--url <url>',
        `where the store is: ${ACCEPTED_FORMS}; its form selects the backend. Default: ` +
          DEFAULT_BACKENDS.flatMap((backend) =>
            backend.settings.map((setting) => `$${setting.name} (${backend.title}: ${setting.meaning})`),
          ).join(', ') +
          '; a server backend has no default server',
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

/**
 * Parses `--owner` by the contract's rules for an owner id (what `forOwner` checks), so that a bad value is
 * the contract's `VALIDATION_FAILED` on `ownerId`, reported before any database is opened or created. It is
 * a bad option value, hence exit 2 like the other usage errors.
 */
function ownerId(value: string): string {
  try {
    assertId('ownerId', value);
  } catch (error) {
    if (ValidationError.isInstance(error)) {
      throw new CliError(error.code, error.message, { exitCode: EXIT.usage, cause: error });
    }
    throw error;
  }
  return value;
}

/**
 * Adds `--owner <id>`: the command then works on the store's `forOwner(id)` view (see `withStore`), which
 * sees only that owner's sessions and treats everyone else's as not there.
 */
export function addOwnerOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--owner <id>',
      "only this owner's sessions (a user or tenant id, 1 to 36 characters)",
    ).argParser(ownerId),
  );
}

/**
 * For a command that cannot be scoped to an owner: `--owner` is refused with `reason` (exit 2) rather than
 * rejected as an unknown option without a word of why, or, worse, accepted and ignored.
 */
export function refuseOwnerOption(command: Command, reason: string): Command {
  return command.addOption(new Option('--owner <id>').hideHelp()).hook('preAction', (self) => {
    if (self.opts().owner !== undefined)
      throw new UsageError(`${self.name()} does not take --owner: ${reason}`);
  });
}
