import { paint } from './output.js';

/** Exit codes of an interrupted run, by the shell convention 128 + signal number. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/** What an interrupted command says it left behind, and what it must undo before the process ends. */
export interface InterruptPlan {
  /** One sentence: what was left and how to resume (`no file written`, `re-run to resume`). */
  readonly outcome: string;
  /** Undoes what must not survive the process, synchronously (a temporary file); runs once. */
  readonly cleanup?: () => void;
}

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
