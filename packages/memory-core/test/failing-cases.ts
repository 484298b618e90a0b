import type { ConformanceFactory, ConformanceMode, ConformanceOptions } from '../src/conformance/index.js';
import { conformanceCases, runConformanceCase, skipReasonOf } from '../src/conformance/index.js';

/**
 * Runs every case of the suite in `mode` against `factory`, one after another (some cases change
 * `process.env.TZ`), and returns the names of those that failed. Skipped cases (before or while running) are
 * neither counted as failed nor as passed.
 */
export async function failingCases(
  factory: ConformanceFactory,
  options: ConformanceOptions = {},
  mode: ConformanceMode = 'store',
): Promise<string[]> {
  const failed: string[] = [];
  for (const testCase of conformanceCases) {
    if (skipReasonOf(testCase, options, mode) !== undefined) continue;
    try {
      await runConformanceCase(testCase, factory, options, mode);
    } catch {
      failed.push(testCase.name);
    }
  }
  return failed;
}
