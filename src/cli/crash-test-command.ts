// `motsim crash-test`: property-test crash recovery in the deterministic simulator and print a summary
// (scenarios planned and run, crashes, faults by kind, commits acknowledged and lost, violations with
// replay commands), as text or as JSON (docs/schemas/crash-test-summary.schema.json), and with --html
// one timeline page per violation. Exit status 3 on any violation, 2 on a contradictory command line;
// the seed is always printed.

import fs from 'node:fs';
import { join } from 'node:path';
import { decimal, int } from './cli-options.js';
import { DataCheckFailed, UsageError } from './cli-errors.js';
import { Errors } from '../errors.js';
import { violationTimelineFileName, violationTimelineHtml } from '../report/violation-timeline.js';
import { Command, InvalidArgumentError } from 'commander';
import { CRASH_MODELS, type CrashModel } from '../sim/faults.js';
import type { ConfigInput } from '../config/config.js';
import type { LatencyPresetName } from '../sim/latency.js';
import {
  CRASH_TEST_MODES,
  FAULT_DESCRIPTIONS,
  FAULT_NAMES,
  VIOLATIONS_MAX_DEFAULT,
  VIOLATIONS_MAX_LIMIT,
  crashTest,
  formatCrashTestSummary,
  modeConflict,
  type CrashTestMode,
  type CrashTestSummary,
  type FaultName,
} from '../sim/crash-test.js';
import { freshSeed } from '../io/random.js';

export const DISKS: readonly LatencyPresetName[] = ['nvme', 'sata-ssd', 'hdd', 'this-machine', 'instant'];

/** A commander parser for an integer option in [min, max]. */
function faultList(v: string): FaultName[] {
  if (v === 'all') return [...FAULT_NAMES];
  if (v === '' || v === 'none') return [];
  const parts = v.split(',').map((s) => s.trim()) as FaultName[];
  for (const p of parts) if (!FAULT_NAMES.includes(p)) throw new InvalidArgumentError(`--faults: "${p}" is not one of ${FAULT_NAMES.join(', ')}, all, none`);
  return parts;
}

/** `--set name=value`, repeatable: engine parameters by their mot.conf names. */
function setting(v: string, previous: ConfigInput = {}): ConfigInput {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`--set expects name=value (a mot.conf parameter), got "${v}"`);
  const value = v.slice(i + 1);
  const parsed: string | number | boolean = value === 'true' ? true : value === 'false' ? false : /^-?\d+$/.test(value) ? Number(value) : value;
  return { ...previous, [v.slice(0, i)]: parsed };
}

export function addCrashTestCommand(program: Command): void {
  program
    .command('crash-test')
    .description(
      'Property-test crash recovery: run a workload on the engine in a deterministic simulated machine, crash it at random moments ' +
        '(or at every disk operation with --exhaustive), inject faults, recover with the real recovery code and check what the logging ' +
        'mode promised: sync and group lose no acknowledged commit, async loses at most its unflushed window, the recovered rows are a ' +
        'prefix of the log, no transaction is partly visible, damage inside the log is reported. The summary says how many scenarios ' +
        'were planned and run, and why the run stopped early if it did (--max-violations). A --set that changes the logging mode ' +
        '(synchronous_commit, enable_group_commit, enable_redo_log) away from --mode is refused (exit status 2). ' +
        'Exit status 3 on any violation.',
    )
    .requiredOption('--mode <mode>', `logging mode: ${CRASH_TEST_MODES.join(', ')}`, (v: string) => {
      if (!CRASH_TEST_MODES.includes(v as CrashTestMode)) throw new InvalidArgumentError(`--mode must be one of ${CRASH_TEST_MODES.join(', ')}`);
      return v;
    })
    .option('--seed <n>', 'seed of the first scenario (scenario i uses seed + i); default: a fresh one, printed', int('--seed', 0, 0xffff_ffff))
    .option('--runs <n>', 'scenarios (random mode) or workloads to crash at every point (--exhaustive)', int('--runs', 1, 10_000_000))
    .option(
      '--faults <list>',
      `comma-separated faults, or all, or none:\n${FAULT_NAMES.map((f) => `  ${f}: ${FAULT_DESCRIPTIONS[f]}`).join('\n')}`,
      faultList,
      [] as FaultName[],
    )
    .option('--fault-probability <p>', 'chance of each enabled fault per opportunity (0..1)', decimal('--fault-probability', 0, 1), 0.5)
    .option('--crash-model <model>', `what a crash does to unflushed writes: random, ${CRASH_MODELS.join(', ')}`, (v: string) => {
      if (v !== 'random' && !CRASH_MODELS.includes(v as CrashModel)) throw new InvalidArgumentError(`--crash-model must be random or one of ${CRASH_MODELS.join(', ')}`);
      return v;
    }, 'random')
    .option('--crashes <n>', 'crashes (and recoveries) per scenario in random mode', int('--crashes', 1, 100), 2)
    .option('--exhaustive', 'crash at every crash point of one small workload (each disk operation as issued and as completed)')
    .option('--crash-point <k>', 'with --exhaustive: try only crash point k (replays one)', int('--crash-point', 0, 1_000_000_000))
    .option('--sockets <n>', 'simulated NUMA sockets', int('--sockets', 1, 64), 2)
    .option('--cores-per-socket <n>', 'cores per socket (one session per core)', int('--cores-per-socket', 1, 64), 2)
    .option('--disk <preset>', `disk latency preset: ${DISKS.join(', ')}`, (v: string) => {
      if (!DISKS.includes(v as LatencyPresetName)) throw new InvalidArgumentError(`--disk must be one of ${DISKS.join(', ')}`);
      return v;
    }, 'nvme')
    .option('--checkpoint-every-us <us>', 'take a checkpoint every this many µs of virtual time while the workload runs', int('--checkpoint-every-us', 1, 1_000_000_000))
    .option('--set <name=value>', 'an engine parameter (mot.conf name), repeatable, e.g. --set group_commit_size=8', setting)
    .option(
      '--max-violations <n>',
      'stop once this many violations were found (the summary then says what was not run)',
      int('--max-violations', 1, VIOLATIONS_MAX_LIMIT),
      VIOLATIONS_MAX_DEFAULT,
    )
    .option('--json', 'print the summary as JSON (schema: docs/schemas/crash-test-summary.schema.json)')
    .option('--html <dir>', 'write one self-contained HTML timeline per violation into this directory (created if missing)')
    .action(async (o) => {
      const config: ConfigInput = o.set ?? {};
      refuseModeConflict(o.mode as CrashTestMode, config);
      // Before the run: a directory that cannot be made fails now, not after an hour of scenarios.
      if (o.html !== undefined) makeDirectory(o.html as string);
      const seed: number = o.seed ?? freshSeed();
      const machineGiven = o.sockets !== 2 || o.coresPerSocket !== 2 || o.disk !== 'nvme';
      const summary = await crashTest({
        mode: o.mode as CrashTestMode,
        seed,
        runs: o.runs,
        faults: o.faults as FaultName[],
        faultProbability: o.faultProbability === 0.5 ? undefined : o.faultProbability,
        crashModel: o.crashModel as CrashModel | 'random',
        crashesPerScenario: o.crashes === 2 ? undefined : o.crashes,
        exhaustive: o.exhaustive === true,
        crashPoint: o.crashPoint,
        checkpointEveryUs: o.checkpointEveryUs,
        config: o.set,
        violationsMax: o.maxViolations === VIOLATIONS_MAX_DEFAULT ? undefined : o.maxViolations,
        machine: machineGiven ? { sockets: o.sockets, coresPerSocket: o.coresPerSocket, disk: o.disk as LatencyPresetName } : undefined,
        onProgress: process.stderr.isTTY ? (done, planned) => process.stderr.write(`\rcrash-test: ${done}/${planned} `) : undefined,
      });
      if (process.stderr.isTTY) process.stderr.write('\r');
      const pages = o.html === undefined ? [] : writeTimelines(summary, o.html as string);
      process.stdout.write((o.json ? JSON.stringify(summary, null, 2) : formatCrashTestSummary(summary)) + '\n');
      if (!o.json && o.html !== undefined) process.stdout.write(pages.length === 0 ? `no violation: no timeline written to ${o.html}\n` : pages.map((p) => `timeline: ${p}\n`).join(''));
      if (summary.violationsFound > 0) {
        const stopped = summary.stoppedEarly ? ` and stopped early (${summary.runsStarted} of ${summary.runsPlanned} runs started, --max-violations ${summary.violationsMax})` : '';
        throw new DataCheckFailed(`crash-test found ${summary.violationsFound} violation(s) (seed ${seed})${stopped}; each listed one is above with its replay line`);
      }
    });
}

/**
 * A --set that changes the logging mode --mode promises is refused as a usage error (exit 2): the run
 * would check one mode's promise against another mode's engine and report "violations" that are none.
 */
function refuseModeConflict(mode: CrashTestMode, config: ConfigInput): void {
  const conflict = modeConflict(mode, config);
  if (conflict === undefined) return;
  const sets = conflict.parameters.map((p) => `--set ${p}=${String(config[p])}`).join(' and ');
  throw new UsageError(
    'motsim crash-test',
    `${sets} contradicts --mode ${mode}: it makes the logging mode ${conflict.loggingMode} (leave it out, or use --mode ${conflict.loggingMode})`,
  );
}

function makeDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw Errors.fileAccess('create --html directory', dir, e);
  }
}

/** One page per listed violation in `dir` (made by makeDirectory); returns their paths. */
function writeTimelines(summary: CrashTestSummary, dir: string): string[] {
  return summary.violations.map((v, i) => {
    const path = join(dir, violationTimelineFileName(v, i));
    try {
      fs.writeFileSync(path, violationTimelineHtml(v));
    } catch (e) {
      throw Errors.fileAccess('write timeline', path, e);
    }
    return path;
  });
}
