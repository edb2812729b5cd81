// Example 1 (docs/property-testing.md): property-test crash recovery of your own workload in each
// logging mode. The schema is yours; fast-check generates transactions over it (NULLs, the unique
// index, scans, DDL), a configuration, a fault plan and a crash point, and shrinks any failure.

import fc from 'fast-check';
import type { TableDef } from 'motsim';
import { CRASH_TEST_MODES, crashRecoveryProperty, crashRecoveryReporter, faultPlanArbitrary, scenarioArbitrary, type WorkloadSchema } from 'motsim/fast-check';

const accounts: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32', nullable: false },
    { name: 'owner', type: 'varchar', size: 16 },
    { name: 'balance', type: 'int64', nullable: false },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'accounts_owner', columns: ['owner'], unique: true }],
};

export const schema: WorkloadSchema = {
  tables: [accounts],
  // Few owners, so the unique index refuses some inserts and updates; balances from a short list.
  values: { 'accounts.owner': ['ann', 'bob', 'cy'], 'accounts.balance': [0n, 10n, 100n] },
};

/** One fc.assert per mode; a failure throws with the shrunk scenario, the oracle's findings and the replay line. */
export async function testOwnWorkload(options: { numRuns: number; seed?: number }): Promise<void> {
  for (const mode of CRASH_TEST_MODES) {
    const scenarios = scenarioArbitrary({
      mode,
      workload: { schema, stepsMax: 8 },
      faults: faultPlanArbitrary({ faults: ['torn', 'lost-tail', 'bitflip', 'wal-truncate'] }),
    });
    await fc.assert(fc.asyncProperty(scenarios, crashRecoveryProperty()), {
      numRuns: options.numRuns,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      reporter: crashRecoveryReporter(),
    });
  }
}
