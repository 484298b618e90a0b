import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describeError, describeErrorVerbose, EXIT, exitCodeOf } from './cli-error.js';
import { registerCheckCommand } from './commands/check.js';
import { registerDeleteCommand } from './commands/delete.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerExportCommand } from './commands/export.js';
import { registerHistoryCommand } from './commands/history.js';
import { registerImportCommand } from './commands/import.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerSessionsCommand } from './commands/sessions.js';
import { registerUpgradeCommand } from './commands/upgrade.js';
import { paint } from './output.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const EXAMPLES = `
Examples:
  $ flux-memory demo                              write and read a conversation in ./data/memory.db
  $ flux-memory check --url postgresql://app@db.internal/app
  $ flux-memory sessions --limit 10 --json
  $ flux-memory export --out backup.jsonl
  $ flux-memory sessions --owner alice            only alice's sessions (also history, delete, export, import)
  $ flux-memory import backup.jsonl --backend postgres

Configuration: flags, then environment (DATABASE_BACKEND, DATABASE_URL, POSTGRES_DSN, POSTGRES_SCHEMA),
then ./.env, then defaults (sqlite at ./data/memory.db).
Exit codes: 0 success, 1 failure (error or unhealthy database), 2 wrong usage.`;

/** The `flux-memory` program, with every command registered; `run` parses and executes it. */
export function createProgram(): Command {
  const program = new Command('flux-memory')
    .description(
      'Conversation memory for LLM applications on SQLite or PostgreSQL: demo, check, browse, export, import.',
    )
    .version(version, '-V, --version', 'print the version')
    .option('--verbose', 'print stack traces and error causes')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('after', EXAMPLES)
    // Set before the commands are added: commander copies these settings into every command created after.
    .exitOverride()
    .configureOutput({
      // Commander's own errors ("unknown option", "missing argument") arrive with their `error: ` prefix.
      outputError: (text, write) => write(paint(process.stderr, 'red', text)),
    });
  registerDemoCommand(program);
  registerCheckCommand(program);
  registerSessionsCommand(program);
  registerHistoryCommand(program);
  registerDeleteCommand(program);
  registerExportCommand(program);
  registerImportCommand(program);
  registerMigrateCommand(program);
  registerUpgradeCommand(program);
  return program;
}

/**
 * Runs `flux-memory` with `argv` (as `process.argv`) and returns the exit code: errors are printed as one line
 * on stderr (`error: CODE: message`, credentials masked), with the stack only under `--verbose`.
 */
export async function run(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; an empty command line shows help and ends with 2 like a usage error.
      if (error.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    process.stderr.write(`${paint(process.stderr, 'red', 'error:')} ${describeError(error)}\n`);
    if (argv.includes('--verbose')) process.stderr.write(`${describeErrorVerbose(error)}\n`);
    return exitCodeOf(error);
  }
}
