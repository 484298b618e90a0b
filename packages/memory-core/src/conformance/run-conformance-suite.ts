import { describe, test } from 'vitest';
import type { ConformanceCase } from './conformance-case.js';
import { conformanceAreas } from './conformance-cases.js';
import {
  CONFORMANCE_DEFAULTS,
  type ConformanceFactory,
  type ConformanceOptions,
} from './conformance-options.js';
import { runConformanceCase, skipReasonOf } from './run-conformance-case.js';

/** How one case will be registered: under which area, with which test name, skipped or with which timeout. */
export interface PlannedCase {
  /** The area (`describe` block) it belongs to. */
  area: string;
  /** The test name: the case's name, followed by `(skipped: reason)` when skipped. */
  title: string;
  /** The case itself. */
  testCase: ConformanceCase;
  /** Why it is skipped, or `undefined` when it runs. */
  skipReason: string | undefined;
  /** Its timeout in milliseconds. */
  timeoutMs: number;
}

/**
 * What `runConformanceSuite` registers for these options, as data: every case of every area, none left out,
 * skipped ones carrying their reason in their title.
 */
export function planConformanceSuite(options: ConformanceOptions = {}): PlannedCase[] {
  const timeout = options.timeoutMs ?? CONFORMANCE_DEFAULTS.timeoutMs;
  return conformanceAreas.flatMap((area) =>
    area.cases.map((testCase) => {
      const skipReason = skipReasonOf(testCase, options);
      return {
        area: area.name,
        title: skipReason === undefined ? testCase.name : `${testCase.name} (skipped: ${skipReason})`,
        testCase,
        skipReason,
        timeoutMs: timeout * (testCase.timeoutFactor ?? 1),
      };
    }),
  );
}

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
  const plan = planConformanceSuite(options);
  describe(`conformance: ${name}`, () => {
    for (const area of new Set(plan.map((planned) => planned.area))) {
      describe(area, () => {
        for (const planned of plan.filter((p) => p.area === area)) {
          if (planned.skipReason !== undefined) test.skip(planned.title, () => {});
          else
            test(
              planned.title,
              () => runConformanceCase(planned.testCase, factory, options),
              planned.timeoutMs,
            );
        }
      });
    }
  });
}
