import { paint } from './output.js';

/** Exit codes of an interrupted run, by the shell convention 128 + signal number. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/** What an interrupted command says it left behind, and what it must undo before the process ends. */
export interface InterruptPlan {
  /** One sentence: what was left and how to resume (`no file written`, `re-run to resume`). */
  readonly outcome: string;
  /** Undoes what must not survive the process, synchronously (a temporary file); runs once. */
  readonly cleanup?: () => void;
  /**
   * For a step that must stop itself (a SQLite upgrade rolls its transaction back: exiting mid-transaction
   * would leave a hot journal and a file that differs until the next open): called with the signal instead of
   * ending the process; the step then fails with `INTERRUPTED` through the usual error path.
   */
  readonly abort?: (signal: InterruptSignal) => void;
}

/** The signals an interrupt handler answers. */
export type InterruptSignal = keyof typeof SIGNAL_EXIT;

const plans: InterruptPlan[] = [];
let installed = false;
let jsonErrors = false;
const defaultOutcome =
  'stopped before finishing; what a command commits is whole, so running it again is safe';

/**
 * Registers what an interrupt of the running step means; the returned function unregisters it once the step is
 * over. The latest plan's `outcome` is the one printed; every registered `cleanup` runs.
 */
export function whileRunning(plan: InterruptPlan): () => void {
  plans.push(plan);
  return () => {
    const index = plans.indexOf(plan);
    if (index >= 0) plans.splice(index, 1);
  };
}

/**
 * Installs the SIGINT/SIGTERM handlers: each runs the cleanups, prints one line on stderr (`interrupted
 * (SIGINT): <outcome>`, or `{"code":"INTERRUPTED",...}` under `--json`) and ends the process with 130 or 143.
 * Without them Node would end silently, leaving an export's temporary file behind.
 */
export function installInterruptHandlers(options: { json: boolean }): void {
  jsonErrors = options.json;
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      const latest = plans.at(-1);
      if (latest?.abort !== undefined) {
        latest.abort(signal);
        return;
      }
      const outcome = plans.at(-1)?.outcome ?? defaultOutcome;
      for (const plan of plans.splice(0).reverse()) {
        try {
          plan.cleanup?.();
        } catch {
          // Best effort: the line below still says what happened.
        }
      }
      // Written here rather than through cli-error.ts: this module is loaded first (bin.ts), before the heavy
      // ones, so that a signal during start-up is handled too.
      const message = `interrupted (${signal}): ${outcome}`;
      process.stderr.write(
        jsonErrors
          ? `${JSON.stringify({ code: 'INTERRUPTED', message })}\n`
          : `${paint(process.stderr, 'red', 'error:')} INTERRUPTED: ${message}\n`,
      );
      process.exit(SIGNAL_EXIT[signal]);
    });
  }
}
