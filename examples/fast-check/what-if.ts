// Example 3 (docs/property-testing.md): a what-if. Which group_commit_timeout keeps the p99 commit
// latency under a bound, for every workload fast-check tries, while fsync fails now and then
// (fsyncgate) on a SATA SSD? Virtual time: the answer is the same on any machine.

import fc from 'fast-check';
import { crashRecoveryProperty, percentile, scenarioArbitrary, type FaultInjection } from 'motsim/fast-check';

export interface WhatIfRow {
  timeoutUs: number;
  /** The bound held in every run. */
  holds: boolean;
  /** The worst p99 seen, µs. */
  p99UsWorst: number;
}

export async function groupCommitTimeoutWhatIf(options: { timeoutsUs: readonly number[]; p99UsMax: number; fault: FaultInjection; numRuns: number; seed: number }): Promise<WhatIfRow[]> {
  const rows: WhatIfRow[] = [];
  for (const timeoutUs of options.timeoutsUs) {
    let p99UsWorst = 0;
    const scenarios = scenarioArbitrary({
      mode: 'group',
      workload: { stepsMax: 10, ddlShare: 0, abortShare: 0 },
      config: { group_commit_timeout: `${timeoutUs}us`, group_commit_size: 4 },
      machine: { sockets: 1, coresPerSocket: 4, disk: 'sata-ssd' },
      faults: [options.fault],
      crash: { kind: 'time', atUs: 500_000 },
    });
    const property = crashRecoveryProperty({
      check: (result) => {
        const p99 = percentile(result.commitLatenciesUs, 99);
        p99UsWorst = Math.max(p99UsWorst, p99);
        return p99 <= options.p99UsMax;
      },
    });
    // Only yes or no is wanted here, so no shrinking: stop at the first run over the bound.
    const details = await fc.check(fc.asyncProperty(scenarios, property), { numRuns: options.numRuns, seed: options.seed, endOnFailure: true });
    rows.push({ timeoutUs, holds: !details.failed, p99UsWorst });
  }
  return rows;
}
