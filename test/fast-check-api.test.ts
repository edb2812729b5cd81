// motsim/fast-check used as a user would: imported through the package's `exports` (self-reference:
// vitest resolves 'motsim/fast-check' to dist/, so `npm test` builds first; typechecking maps it back
// to src/), typed. Pins down: the arbitraries give values the engine accepts (every configuration
// within range, generated schemas); bad input is a MotError naming the parameter; the property and
// the commands pass on the real build; a user's own command extends the model; a planted bug (a
// mutant build) is found and shrunk to a handful of operations, by the property and by the commands;
// the printed seed and path (and replayPath) replay the same counterexample; the three worked examples of docs/property-testing.md run and are the ones shown.
// Every fast-check run here has a fixed seed (printed on failure by crashRecoveryReporter).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import { join, resolve } from 'node:path';
import { isMotError, resolveConfig, type ConfigInput } from 'motsim';
import {
  CRASH_TEST_MODES,
  FAULT_NAMES,
  configArbitrary,
  crashPointArbitrary,
  crashRecoveryCommands,
  crashRecoveryProperty,
  crashRecoveryReporter,
  faultPlanArbitrary,
  formatReplay,
  machineArbitrary,
  replayOf,
  runCommands,
  scenarioArbitrary,
  schemaArbitrary,
  workloadArbitrary,
  workloadSize,
  type CrashHarness,
  type HistoryCommand,
  type HistoryModel,
  type Scenario,
} from 'motsim/fast-check';
import { buildMutant, importFrom, occurrences, type Mutant } from './helpers/mutants.js';
import { testOwnWorkload } from '../examples/fast-check/own-workload.js';
import { huntPlantedBug, type Library } from '../examples/fast-check/planted-bug.js';
import { groupCommitTimeoutWhatIf } from '../examples/fast-check/what-if.js';

const ROOT = resolve(import.meta.dirname, '..');
const SEED = 1;

/** The MotError `f` throws (the test fails if it throws anything else or nothing). */
function motErrorOf(f: () => unknown): { message: string; sqlstate: string } {
  try {
    f();
  } catch (e) {
    if (isMotError(e)) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('motsim/fast-check arbitraries', () => {
  it('every configuration drawn is accepted by resolveConfig without a warning (each parameter within its range)', () => {
    fc.assert(
      fc.property(configArbitrary(), (config: ConfigInput) => {
        expect(resolveConfig(config).warnings).toEqual([]);
      }),
      { seed: SEED, numRuns: 300, reporter: crashRecoveryReporter() },
    );
  });

  it('machines, fault plans and crash points stay within what they were asked for', () => {
    fc.assert(
      fc.property(machineArbitrary({ socketsMax: 3, coresPerSocketMax: 2, disks: ['hdd'] }), faultPlanArbitrary({ faults: ['torn', 'enospc'], faultsMax: 2 }), crashPointArbitrary({ atUsMax: 10, operationMax: 5 }), (m, plan, crash) => {
        expect(m.sockets).toBeLessThanOrEqual(3);
        expect(m.disk).toBe('hdd');
        expect(new Set(plan.map((f) => f.fault)).size).toBe(plan.length);
        expect(plan.every((f) => ['torn', 'enospc'].includes(f.fault))).toBe(true);
        expect(crash.kind === 'time' ? crash.atUs <= 10 : crash.index <= 5).toBe(true);
      }),
      { seed: SEED, numRuns: 200, reporter: crashRecoveryReporter() },
    );
  });

  it('bad input is a MotError (22023) naming the parameter', () => {
    const cases: [() => unknown, string][] = [
      [() => workloadArbitrary({ stepsMax: 0 }), 'stepsMax'],
      [() => workloadArbitrary({ abortShare: 2 }), 'abortShare'],
      [() => configArbitrary({ parameters: ['no_such_parameter'] }), 'parameters'],
      [() => configArbitrary({ ranges: { group_commit_timeout: [1, 50] } }), 'ranges.group_commit_timeout'],
      [() => machineArbitrary({ disks: ['floppy' as 'hdd'] }), 'disks'],
      [() => faultPlanArbitrary({ faults: ['gremlins' as 'torn'] }), 'faults'],
      [() => scenarioArbitrary({ mode: 'eventual' as 'group' }), 'mode'],
      [() => workloadArbitrary({ schema: { tables: [] } }), 'schema.tables'],
      [() => crashRecoveryCommands({ weights: { begin: -1 } }), 'weights.begin'],
    ];
    for (const [f, parameter] of cases) {
      const e = motErrorOf(f);
      expect(e.sqlstate, parameter).toBe('22023');
      expect(e.message, parameter).toContain(parameter);
    }
  });
});

describe('motsim/fast-check on the real build', () => {
  for (const mode of CRASH_TEST_MODES) {
    it(`${mode}: generated schemas, workloads, configurations, faults and crash points recover as the oracle says`, async () => {
      const scenarios = scenarioArbitrary({ mode, workload: { schema: schemaArbitrary({ tablesMax: 2 }), stepsMax: 8 }, faults: faultPlanArbitrary({ faults: FAULT_NAMES }) });
      await fc.assert(fc.asyncProperty(scenarios, crashRecoveryProperty()), { seed: SEED, numRuns: 100, reporter: crashRecoveryReporter() });
    }, 300_000);
  }

  it('commands: a command of your own extends the model (typed: a counter of checkpoints in model.user) and runs between the built-in ones', async () => {
    interface Counted {
      checkpoints: number;
    }
    let ran = 0;
    let counted = 0;
    class CountedCheckpoint implements HistoryCommand<Counted> {
      check = (m: Readonly<HistoryModel<Counted>>): boolean => !m.down && !m.ended;
      async run(m: HistoryModel<Counted>, r: CrashHarness): Promise<void> {
        m.user.checkpoints++;
        counted = Math.max(counted, m.user.checkpoints);
        ran++;
        await r.settle(r.checkpoint()); // a promise of the simulated world settles only while the world runs
      }
      toString = (): string => 'counted-checkpoint';
    }
    const commands = crashRecoveryCommands<Counted>({ faults: ['torn', 'fsyncgate'], maxCommands: 40, extraCommands: [{ arbitrary: fc.constant(new CountedCheckpoint()), weight: 3 }] });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), commands, async (seed, cmds) => {
        await runCommands<Counted>({ mode: 'group', seed, user: () => ({ checkpoints: 0 }) }, cmds);
      }),
      { seed: SEED, numRuns: 60, reporter: crashRecoveryReporter() },
    );
    expect(ran).toBeGreaterThan(0);
    expect(counted).toBeGreaterThan(1); // the model's user part lives through a run
  }, 300_000);
});

/** Defect 7 of test/broken-builds.test.ts: commit-time validation skips scanned ranges, so phantoms go unseen. */
const PHANTOMS: Mutant = {
  name: 'fast-check api: scanned ranges not validated (phantoms)',
  edits: [{ file: 'src/transaction/transaction.js', find: 's.table.countRange(s.range) !== s.rows', replace: 'false' }],
};
/** "A handful of operations": the shrunk counterexample may hold at most this many (and this many transactions). */
const SHRUNK_OPERATIONS_MAX = 6;

describe('motsim/fast-check against a planted bug (a mutant build)', () => {
  it('finds it, shrinks it to a handful of operations, and the printed seed and path replay the same counterexample', async () => {
    expect(occurrences(PHANTOMS.edits[0]!)).toBe(1);
    const lib = await importFrom<Library>(buildMutant(PHANTOMS), 'src/fast-check/index.js');
    const t0 = performance.now();
    const first = await huntPlantedBug(lib, { seed: SEED, numRuns: 300 });
    const huntMs = performance.now() - t0;
    expect(first.failed, 'the property found no failing scenario on the broken build').toBe(true);
    const replay = replayOf(first)!;
    const shrunk: Scenario = first.counterexample![0];
    const size = workloadSize(shrunk.workload);
    console.log(`planted bug found after ${first.numRuns} runs, shrunk ${first.numShrinks} times in ${Math.round(huntMs)} ms to ${size.transactions} transactions, ${size.operations} operations, ${shrunk.faults.length} faults; ${formatReplay(replay)}\n${fc.stringify(shrunk)}\n${String(first.errorInstance)}`);
    expect(first.errorInstance instanceof Error ? first.errorInstance.message : String(first.errorInstance)).toContain('not-serializable');
    expect(size.operations).toBeLessThanOrEqual(SHRUNK_OPERATIONS_MAX);
    expect(size.transactions).toBeLessThanOrEqual(SHRUNK_OPERATIONS_MAX);
    expect(shrunk.faults).toEqual([]);
    // What a user sees: fc.assert with the reporter names the seed and path.
    const message = await new Promise<string>((done) => {
      try {
        crashRecoveryReporter<[Scenario]>()(first);
        done('(no error)');
      } catch (e) {
        done(String(e));
      }
    });
    expect(message).toContain(`seed: ${replay.seed}, path: "${replay.path}"`);
    // Replaying the seed and path gives the same shrunk counterexample.
    const again = await huntPlantedBug(lib, { seed: replay.seed, path: replay.path, numRuns: 300 });
    expect(again.failed).toBe(true);
    expect(fc.stringify(again.counterexample)).toBe(fc.stringify(first.counterexample));
  }, 600_000);
});

describe('motsim/fast-check commands against the same planted bug', () => {
  it('find it, shrink the command list, and seed, path and replayPath replay the same counterexample', async () => {
    const lib = await importFrom<Library>(buildMutant(PHANTOMS), 'src/fast-check/index.js');
    // 100 commands a run, as test/serializability-model.test.ts draws: with 40, 300 runs missed this bug.
    const property = (replayPath?: string) =>
      fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), lib.crashRecoveryCommands({ maxCommands: 100, weights: { ddl: 0 }, ...(replayPath !== undefined ? { replayPath } : {}) }), async (seed, cmds) => {
        await lib.runCommands({ mode: 'synchronous', seed }, cmds);
      });
    const first = await fc.check(property(), { seed: SEED, numRuns: 300 });
    expect(first.failed, 'the commands found no failing history on the broken build').toBe(true);
    const replay = replayOf(first)!;
    const commands = [...first.counterexample![1]].map(String);
    console.log(`commands: planted bug found after ${first.numRuns} runs, shrunk ${first.numShrinks} times to ${commands.length} commands; ${formatReplay(replay)}\n  ${commands.join('\n  ')}`);
    expect(replay.replayPath, 'the counterexample carries its replayPath').toBeDefined();
    // Measured: 8 commands (two transactions, a commit between them, time for it to finish).
    expect(commands.length).toBeLessThanOrEqual(12);
    const again = await fc.check(property(replay.replayPath), { seed: replay.seed, path: replay.path, numRuns: 300 });
    expect(again.failed).toBe(true);
    expect([...again.counterexample![1]].map(String)).toEqual(commands);
  }, 600_000);
});

describe('docs/property-testing.md: the three worked examples run, and are the files shown', () => {
  it('the docs page shows each example file verbatim', () => {
    const doc = fs.readFileSync(join(ROOT, 'docs', 'property-testing.md'), 'utf8');
    for (const file of ['own-workload.ts', 'planted-bug.ts', 'what-if.ts']) {
      expect(doc, file).toContain(fs.readFileSync(join(ROOT, 'examples', 'fast-check', file), 'utf8').trim());
    }
  });

  it('example 1: your own schema, in each mode, passes on the real build', async () => {
    await testOwnWorkload({ numRuns: 15, seed: SEED });
  }, 300_000);

  it('example 3: the what-if answers with a bound that shorter timeouts meet and longer ones do not', async () => {
    const rows = await groupCommitTimeoutWhatIf({ timeoutsUs: [200, 1000, 5000], p99UsMax: 4000, fault: { fault: 'fsyncgate', probability: 0.1 }, numRuns: 10, seed: SEED });
    console.log(rows.map((r) => `group_commit_timeout ${r.timeoutUs}us: p99 worst ${Math.round(r.p99UsWorst)}us, ${r.holds ? 'holds' : 'exceeds'} 4000us`).join('\n'));
    expect(rows.map((r) => r.holds)).toEqual([true, true, false]);
  }, 300_000);
});
