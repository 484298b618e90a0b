import cliProgress from 'cli-progress';

/** A progress display on stderr for one long command; every method is a no-op when it is off. */
export interface Progress {
  /**
   * Shows `label` at `done` units; `total` > 0 draws a bar with a percentage, `total` unknown (`undefined`
   * or 0) a spinner with the count and the elapsed time. A new `label` starts a new line of progress.
   */
  update(label: string, done: number, total?: number): void;
  /** Erases the display so that the report that follows starts on a clean line. */
  stop(): void;
}

/** Counts for people, the same in every command: `1,500`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Progress of `migrate`, `export` and `import`, one rule for all: shown when stderr is a terminal (and, when
 * `stdoutIsData`, stdout is not one, since the records themselves are then being drawn there), drawn by
 * cli-progress at most five times a second, numbers formatted by {@link formatCount}.
 */
export function createProgress(
  options: { stdoutIsData?: boolean; stream?: NodeJS.WriteStream } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  const on = Boolean(stream.isTTY) && !(options.stdoutIsData && process.stdout.isTTY);
  if (!on) return { update() {}, stop() {} };
  let bar: cliProgress.SingleBar | undefined;
  let key = '';
  let started = 0;
  let frame = 0;
  const format: cliProgress.GenericFormatter = (opts, params, payload) => {
    const elapsed = formatElapsed(Date.now() - started);
    const value = formatCount(params.value);
    if (payload.determinate) {
      const width = opts.barsize ?? 30;
      const filled = Math.round(params.progress * width);
      const percent = Math.floor(params.progress * 100);
      return `${payload.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}% ${value}/${formatCount(params.total)} ${elapsed}`;
    }
    frame = (frame + 1) % SPINNER.length;
    // No count yet (an index being built): the spinner and the time say it is alive; a "0" would not.
    return `${SPINNER[frame]} ${payload.label}${params.value > 0 ? ` ${value}` : ''} ${elapsed}`;
  };
  return {
    update(label, done, total) {
      const determinate = total !== undefined && total > 0;
      const next = `${label}|${determinate}`;
      if (bar === undefined || next !== key) {
        bar?.stop();
        bar = new cliProgress.SingleBar({
          stream,
          format,
          hideCursor: true,
          clearOnComplete: true,
          fps: 5,
          barsize: 30,
          // Redraw on the clock too, so a spinner and its elapsed time move while no count arrives.
          synchronousUpdate: false,
          noTTYOutput: false,
        });
        key = next;
        started = Date.now();
        bar.start(determinate ? Math.max(total!, done) : 1, done, { label, determinate });
        return;
      }
      if (determinate && total! > bar.getTotal()) bar.setTotal(total!);
      bar.update(done);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** `3.2s`, `1m05s`. */
export function formatElapsed(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
}
