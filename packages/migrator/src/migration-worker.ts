import { parentPort, workerData } from 'node:worker_threads';
import type { ResolvedOptions } from './migration-options.js';
import { type Direction, runDirection } from './run-direction.js';
import { serializeError } from './run-isolated.js';

// The worker side of runIsolated: runs the migration, posts progress, then the report or the error.
const { direction, options, progress } = workerData as {
  direction: Direction;
  options: ResolvedOptions;
  progress: boolean;
};
try {
  const report = await runDirection(
    direction,
    options,
    progress ? (p) => parentPort!.postMessage({ type: 'progress', progress: p }) : undefined,
  );
  parentPort!.postMessage({ type: 'report', report });
} catch (error) {
  parentPort!.postMessage({ type: 'error', error: serializeError(error) });
}
