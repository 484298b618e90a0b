import { Bench } from 'tinybench';

/** Each task runs this many rounds, the tasks alternating, and the medians are reported. */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
/** Time per task per round. */
export const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 400);

/** One line of a benchmark's table: the store (or the subject) against its baseline. */
export interface Row {
  operation: string;
  unit: string;
  store: number;
  raw: number;
  /** `store / raw` for latencies, `raw / store` for throughputs: above 1 means the store is slower. */
  ratio: number;
  /** The ratio the issue asks for, when there is one. */
  target?: number;
}

/**
 * Runs every task for TIME_MS per round, ROUNDS rounds, the tasks alternating within each round, and returns the
 * median over rounds of each task's latency statistic: load from elsewhere on the machine then weighs on the
 * store and on raw pg alike instead of on whichever ran during a burst.
 */
export async function medians(tasks: Record<string, () => Promise<unknown>>, statistic: 'mean' | 'p50') {
  const samples = new Map<string, number[]>(Object.keys(tasks).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TIME_MS, warmupTime: round === 0 ? 300 : 50 });
    for (const [name, task] of Object.entries(tasks)) bench.add(name, task);
    await bench.run();
    for (const name of Object.keys(tasks)) samples.get(name)!.push(latency(bench, name)[statistic]);
  }
  return (name: string) => {
    const sorted = [...samples.get(name)!].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
}

function latency(bench: Bench, name: string) {
  const result = bench.getTask(name)?.result;
  if (!result || !('latency' in result)) throw new Error(`benchmark task ${name} did not complete`);
  return result.latency;
}
