import { describe, test } from 'vitest';
import { isStoreCapability, type StoreCapability } from './capabilities.js';
import { type ConformanceCase, type ConformanceMode, caseInMode } from './conformance-case.js';
import { conformanceAreas } from './conformance-cases.js';
import {
  CONFORMANCE_DEFAULTS,
  type ConformanceFactory,
  type ConformanceOptions,
} from './conformance-options.js';
import { OTHER_OWNER, VIEW_OWNER } from './owner-view-seed.js';
import { assertConformanceOptions, runConformanceCase, skipReasonOf } from './run-conformance-case.js';

/** How one case will be registered: in which mode, under which area, with which test name, skipped or not. */
export interface PlannedCase {
  /** The mode it runs in (the top `describe` block under the suite's). */
  mode: ConformanceMode;
  /** The area (`describe` block) it belongs to. */
  area: string;
  /**
   * The test name: the case's name (or its view variant's, in `view` mode), followed by `(skipped: reason)`
   * when skipped before it runs.
   */
  title: string;
  /** The case itself. */
  testCase: ConformanceCase;
  /** Why it is skipped before it runs, or `undefined` when it runs. */
  skipReason: string | undefined;
  /**
   * The store capabilities it needs, read from each store it opens: when one is `false` the case is reported
   * as skipped, with the reason, when it runs.
   */
  needsFromStore: StoreCapability[];
  /** Its timeout in milliseconds. */
  timeoutMs: number;
}

/** The `describe` title of each mode. */
export const CONFORMANCE_MODE_TITLES: Readonly<Record<ConformanceMode, string>> = {
  store: 'store',
  view: `owner view: forOwner('${VIEW_OWNER}'), with '${OTHER_OWNER}' and unowned data present`,
};

/**
 * What `runConformanceSuite` registers for these options, as data: every case of every area in every mode,
 * none left out, those skipped before running carrying their reason in their title.
 */
export function planConformanceSuite(options: ConformanceOptions = {}): PlannedCase[] {
  assertConformanceOptions(options);
  const timeout = options.timeoutMs ?? CONFORMANCE_DEFAULTS.timeoutMs;
  return (['store', 'view'] as const).flatMap((mode) =>
    conformanceAreas.flatMap((area) =>
      area.cases.map((testCase) => {
        const skipReason = skipReasonOf(testCase, options, mode);
        const { name } = caseInMode(testCase, mode);
        return {
          mode,
          area: area.name,
          title: skipReason === undefined ? name : `${name} (skipped: ${skipReason})`,
          testCase,
          skipReason,
          needsFromStore: (testCase.needs ?? []).filter(isStoreCapability),
          timeoutMs: timeout * (testCase.timeoutFactor ?? 1),
        };
      }),
    ),
  );
}

/**
 * Registers the whole conformance suite as vitest tests, twice: once on the factory's stores and once on an
 * owner view of each (`forOwner('owner-a')`) with another owner's and unowned sessions present, which must stay
 * unseen and unchanged. One `describe` per mode and per area, one test per case, named
 * `"<method> - <behaviour>"`. Call it at the top level of a test file:
 *
 * ```ts
 * import { runConformanceSuite } from '@flux-rag/memory-core/conformance';
 * runConformanceSuite('my-backend', ({ clock }) => new MyMemory({ clock }));
 * ```
 *
 * `factory` must return a fresh, empty, isolated store on every call; the suite closes it after each case.
 * Cases needing a trait listed in `options.skip` are registered as skipped, with the reason in the name; cases
 * needing a capability the store reports as `false` (`store.capabilities`) are skipped when they run, with the
 * reason as the skip note. Neither is ever counted as passed.
 */
export function runConformanceSuite(
  name: string,
  factory: ConformanceFactory,
  options: ConformanceOptions = {},
): void {
  const plan = planConformanceSuite(options);
  describe(`conformance: ${name}`, () => {
    for (const mode of ['store', 'view'] as const) {
      describe(CONFORMANCE_MODE_TITLES[mode], () => {
        const inMode = plan.filter((planned) => planned.mode === mode);
        for (const area of new Set(inMode.map((planned) => planned.area))) {
          describe(area, () => {
            for (const planned of inMode.filter((p) => p.area === area)) {
              if (planned.skipReason !== undefined) test.skip(planned.title, () => {});
              else
                test(
                  planned.title,
                  async (context) => {
                    const result = await runConformanceCase(planned.testCase, factory, options, mode);
                    if (result.status === 'skipped') context.skip(result.reason);
                  },
                  planned.timeoutMs,
                );
            }
          });
        }
      });
    }
  });
}
