import type { ConformanceFactory, ConformanceOptions } from '../src/conformance/index.js';
import { conformanceCases, runConformanceCase, skipReasonOf } from '../src/conformance/index.js';

/**
 * Runs every case of the suite against `factory`, one after another (some cases change `process.env.TZ`), and
 * returns the names of those that failed. Skipped cases are neither run nor counted.
 */
export async function failingCases(
  factory: ConformanceFactory,
  options: ConformanceOptions = {},
): Promise<string[]> {
  const failed: string[] = [];
  for (const testCase of conformanceCases) {
    if (skipReasonOf(testCase, options) !== undefined) continue;
    try {
      await runConformanceCase(testCase, factory, options);
    } catch {
      failed.push(testCase.name);
    }
  }
  return failed;
}
