// Example 2 (docs/property-testing.md): hunt a bug planted in a test build. `lib` is motsim/fast-check
// as loaded from a deliberately broken build (test/helpers/mutants.ts copies dist/ and splices one
// defect in; the engine has no switch to break itself), so every scenario runs on the broken engine.
// fast-check finds a failing scenario and shrinks it to the fewest steps, operations and faults.

import fc from 'fast-check';
import type * as FastCheckApi from 'motsim/fast-check';

export type Library = typeof FastCheckApi;

/** fc.check rather than fc.assert: the caller looks at the counterexample (and its seed and path). */
export function huntPlantedBug(lib: Library, params: { seed: number; numRuns: number; path?: string }): Promise<fc.RunDetails<[FastCheckApi.Scenario]>> {
  const scenarios = lib.scenarioArbitrary({
    mode: 'synchronous',
    workload: { stepsMax: 6, operationsMax: 4, ddlShare: 0 },
    config: {},
    // A late crash: the workload runs to its end, then the oracle judges every answer it got.
    crash: { kind: 'time', atUs: 100_000 },
  });
  return fc.check(fc.asyncProperty(scenarios, lib.crashRecoveryProperty()), params);
}
