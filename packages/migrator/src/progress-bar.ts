import cliProgress from 'cli-progress';
import type { MigrationProgress } from './migration-engine.js';

/** A progress display fed by `onProgress`; `stop()` erases it before the report is printed. */
export interface ProgressBar {
  onProgress: (progress: MigrationProgress) => void;
  stop(): void;
}

/**
 * A progress bar (cli-progress) on `stream` when it is a terminal; otherwise a no-op, so piped output and logs
 * stay clean. One bar per phase: rows for sessions and messages, sessions while verifying, steps while keys
 * and indexes are rebuilt.
 */
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { onProgress() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{phase} {step} |{bar}| {percentage}% {value}/{total} {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let current = '';
  let started = false;
  return {
    onProgress(p) {
      const key = `${p.phase} ${p.step}`;
      if (!started || key !== current) {
        if (started) bar.stop();
        bar.start(Math.max(p.total, p.done, 1), p.done, { phase: p.phase, step: p.step });
        started = true;
        current = key;
      } else {
        bar.update(p.done);
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
