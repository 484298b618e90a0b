import type { Command } from 'commander';
import { CliError } from '../cli-error.js';

/**
 * Wiring point of `flux-memory migrate` (issue 5): the engineer building `@flux-rag/migrator` replaces the body
 * of this function. Until then the command is hidden from `--help` and fails with `NOT_IMPLEMENTED` (exit 1).
 *
 * For the implementor: take the connection flags with `addConnectionOptions` (./options.ts), open stores with
 * `connectionFrom` / `openStore` / `withStore` (../store.ts), report with `println` / `printJson` / `progress`
 * (../output.ts), and throw `CliError` (or let contract errors through) for the one-line error and exit code
 * that `run` (../program.ts) prints. Un-hide the command, document it in README.md, and cover it in
 * test/cli-*.test.ts like the other commands.
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate', { hidden: true })
    .description('(not available yet) migrate data with @flux-rag/migrator')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new CliError(
        'NOT_IMPLEMENTED',
        'flux-memory migrate is not available yet: it arrives with @flux-rag/migrator',
      );
    });
}
