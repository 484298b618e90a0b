import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describeError, describeErrorVerbose, EXIT, errorReport, exitCodeOf } from './cli-error.js';
import { registerCheckCommand } from './commands/check.js';
import { registerDeleteCommand } from './commands/delete.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerExportCommand } from './commands/export.js';
import { registerHistoryCommand } from './commands/history.js';
import { registerImportCommand } from './commands/import.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerSessionsCommand } from './commands/sessions.js';
import { registerUpgradeCommand } from './commands/upgrade.js';
import { installInterruptHandlers } from './interrupt.js';
import { paint } from './output.js';
import { visible } from './sanitize.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const EXAMPLES = `
Examples:
  $ flux-memory demo                              write and read a conversation in ./data/memory.db
  $ flux-memory check --url postgresql://app@db.internal/app
  $ flux-memory sessions --limit 10 --json
  $ flux-memory delete 3893c8ac-984d-41fa-b8ba-7d880e131578
  $ flux-memory export --out backup.jsonl
  $ flux-memory sessions --owner alice            only alice's sessions (also history, delete, export, import)
  $ flux-memory import backup.jsonl --url "host=db.internal dbname=app user=app"
  $ flux-memory migrate --from ./data/memory.db --to postgresql://app@db.internal/app

Configuration: flags, then environment, then ./.env. The backend is --backend, else the form of --url, else
DATABASE_BACKEND, else postgres when DATABASE_URL is a postgresql:// URL, else sqlite. SQLite file: --url,
else DATABASE_URL, else ./data/memory.db. PostgreSQL: --url, else POSTGRES_DSN (or a postgresql://
DATABASE_URL); there is no default server. Schema: --schema, else POSTGRES_SCHEMA, else public.
--json: results and errors as JSON. Ctrl-C says what was left behind and exits 130 (SIGTERM: 143).
Exit codes: 0 success, 1 failure (error or unhealthy database), 2 wrong usage (nothing opened).`;

/** Options of {@link createProgram}. */
export interface ProgramOptions {
  /** Commander's own usage errors are not printed (the caller reports them as JSON): `--json` was given. */
  jsonErrors?: boolean;
}

/** The `flux-memory` program, with every command registered; `run` parses and executes it. */
export function createProgram(options: ProgramOptions = {}): Command {
  const program = new Command('flux-memory')
    .description(
      'Conversation memory for LLM applications on SQLite or PostgreSQL: demo, check, browse (sessions, ' +
        'history), delete, export, import, migrate and upgrade.',
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
      outputError: (text, write) => {
        // One line, like every other error: commander puts its "(Did you mean --limit?)" on a line of its own.
        if (!options.jsonErrors)
          write(paint(process.stderr, 'red', `${text.trimEnd().replace(/\s*\n\s*/g, ' ')}\n`));
      },
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
  const json = wantsJson(argv);
  const program = createProgram({ jsonErrors: json });
  installInterruptHandlers({ json });
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; an empty command line shows help and ends with 2 like a usage error.
      if (error.exitCode === 0) return EXIT.ok;
      if (json && error.code !== 'commander.help' && error.code !== 'commander.helpDisplayed') {
        const message = visible(
          error.message
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim(),
        );
        process.stderr.write(`${JSON.stringify({ code: 'USAGE', message })}\n`);
      }
      return EXIT.usage;
    }
    if (json) process.stderr.write(`${JSON.stringify(errorReport(error))}\n`);
    else process.stderr.write(`${paint(process.stderr, 'red', 'error:')} ${describeError(error)}\n`);
    if (argv.includes('--verbose')) process.stderr.write(`${describeErrorVerbose(error)}\n`);
    return exitCodeOf(error);
  }
}

/** `--json` among the options (not after `--`): failures are then reported as JSON too. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
