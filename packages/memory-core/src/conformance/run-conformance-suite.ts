import { describe, test } from 'vitest';
import { conformanceAreas } from './conformance-cases.js';
import {
  CONFORMANCE_DEFAULTS,
  type ConformanceFactory,
  type ConformanceOptions,
} from './conformance-options.js';
import { runConformanceCase, skipReasonOf } from './run-conformance-case.js';

/**
 * Registers the whole conformance suite as vitest tests: one `describe` per area, one test per case, named
 * `"<method> - <behaviour>"`. Call it at the top level of a test file:
 *
 * ```ts
 * import { runConformanceSuite } from '@flux-rag/memory-core/conformance';
 * runConformanceSuite('my-backend', ({ clock }) => new MyMemory({ clock }));
 * ```
 *
 * `factory` must return a fresh, empty, isolated store on every call; the suite closes it after each case.
 * Cases needing a capability listed in `options.skip` are registered as skipped, with the reason in the name.
 */
export function runConformanceSuite(
  name: string,
  factory: ConformanceFactory,
  options: ConformanceOptions = {},
): void {
  const timeout = options.timeoutMs ?? CONFORMANCE_DEFAULTS.timeoutMs;
  describe(`conformance: ${name}`, () => {
    for (const area of conformanceAreas) {
      describe(area.name, () => {
        for (const testCase of area.cases) {
          const reason = skipReasonOf(testCase, options);
          if (reason !== undefined) {
            test.skip(`${testCase.name} (skipped: ${reason})`, () => {});
          } else {
            test(
              testCase.name,
              () => runConformanceCase(testCase, factory, options),
              timeout * (testCase.timeoutFactor ?? 1),
            );
          }
        }
      });
    }
  });
}
