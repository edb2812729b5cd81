// Model-based (fast-check commands, from src/fast-check/): several sessions keep transactions open at
// once and interleave their operations in any order fast-check draws (point reads of present and
// absent keys, scans with limits and composite prefixes, inserts with omitted columns, NULLs and
// boundary values of every type, unique-index collisions, updates of indexed columns, deletes),
// commit while others are open, roll back, let virtual time pass, take checkpoints, run DDL (tables,
// and unique and non-unique indexes created and dropped on tables with rows: a unique one over
// duplicates is refused), crash and recover. After each recovery, and at the end, the oracle
// re-executes every transaction in CSN order on its model (src/sim/serializability.ts) and compares
// the recovered tables with the state after a prefix of the log (src/sim/checker.ts).
// A failure shrinks to a minimal command list and prints fast-check's seed, path and replayPath; set
// MOTSIM_FC_SEED, MOTSIM_FC_PATH and MOTSIM_FC_COMMANDS to replay it.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CrashTestMode } from '../src/sim/crash-test.js';
import { TYPED_TABLE } from '../src/sim/default-workload.js';
import { CrashHarness, DEFAULT_SCHEMA, crashRecoveryCommands, crashRecoveryReporter, runCommands } from '../src/fast-check/index.js';

const MODES: readonly CrashTestMode[] = ['synchronous', 'group', 'asynchronous'];
const SESSIONS = 4;
const RUNS = Number(process.env.MOTSIM_FC_RUNS ?? 150);
const MACHINE = { sockets: 2, coresPerSocket: 2 };

describe('model-based (fast-check): interleaved transactions over every column type, indexes, scans, checkpoints and DDL are serializable in CSN order and recover as a log prefix', () => {
  for (const mode of MODES) {
    it(`${mode}: ${RUNS} command sequences, checked after every crash and at the end`, async () => {
      const seed = process.env.MOTSIM_FC_SEED !== undefined ? Number(process.env.MOTSIM_FC_SEED) : undefined;
      const path = process.env.MOTSIM_FC_PATH;
      const replayPath = process.env.MOTSIM_FC_COMMANDS;
      const commands = crashRecoveryCommands({ schema: DEFAULT_SCHEMA, sessions: SESSIONS, maxCommands: 100, ...(replayPath ? { replayPath } : {}) });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 0x7fff_ffff }), commands, async (worldSeed, cmds) => {
          await runCommands({ mode, seed: worldSeed, schema: DEFAULT_SCHEMA, sessions: SESSIONS, machine: MACHINE }, cmds);
        }),
        {
          numRuns: RUNS,
          ...(seed !== undefined ? { seed } : {}),
          ...(path !== undefined ? { path } : {}),
          reporter: crashRecoveryReporter({
            replayCommand: (r) => `MOTSIM_FC_SEED=${r.seed} MOTSIM_FC_PATH=${r.path} MOTSIM_FC_COMMANDS='${r.replayPath ?? ''}' npx vitest run test/serializability-model.test.ts -t ${mode}`,
          }),
        },
      );
    }, 600_000);
  }

  it('the oracle is not vacuous: transactions commit, and reads are re-executed', async () => {
    const h = await CrashHarness.start({ mode: 'group', seed: 5, schema: DEFAULT_SCHEMA, sessions: SESSIONS, machine: MACHINE });
    h.begin(0);
    h.operate(0, { kind: 'insert', table: TYPED_TABLE.name, row: { id: 1, w: 1n } });
    h.begin(1);
    h.operate(1, { kind: 'read', table: TYPED_TABLE.name, key: 2 });
    h.operate(1, { kind: 'scan', table: TYPED_TABLE.name, from: 2, to: 4 });
    await h.world.run('commits', Promise.all([h.commit(0), h.commit(1)]));
    const check = await h.recover();
    expect(h.violations).toEqual([]);
    // The schema's CREATE TABLEs are acknowledged entries of the ledger too (damage at the log's end may take them away).
    const creates = DEFAULT_SCHEMA.tables.length;
    expect(check!.serialized).toBe(2);
    expect(check!.acked).toBe(creates + 1);
  });
});
