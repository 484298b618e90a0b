/**
 * Runs each task `iterations` times, the tasks taking turns call by call (in reverse order every other turn, so
 * that none always follows the same one), and returns each one's median latency in ms: load from elsewhere on
 * the (shared) machine, and its speed, which drifts by a third within minutes here, then weigh on every side of
 * a comparison alike. For the hot reads, whose 1.1x targets time-boxed rounds (`bench-rounds.ts`) could not
 * decide, and for tasks too long for such rounds, such as whole-history edits.
 */
export async function alternate<K extends string>(
  iterations: number,
  tasks: Record<K, (i: number) => Promise<unknown>>,
): Promise<Record<K, number>> {
  const names = Object.keys(tasks) as K[];
  const samples = new Map<K, number[]>(names.map((name) => [name, []]));
  const reversed = [...names].reverse();
  for (let i = 0; i < iterations; i++) {
    for (const name of i % 2 === 0 ? names : reversed) {
      const started = performance.now();
      await tasks[name](i);
      samples.get(name)!.push(performance.now() - started);
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(samples.get(name)!)])) as Record<K, number>;
}

/** The median of `values` (NaN for none). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
