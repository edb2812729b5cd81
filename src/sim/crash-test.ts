// Crash-recovery property testing: runs a workload on the unchanged engine in simulated worlds, crashes
// them (at random moments, or at every disk operation), injects faults, recovers and asks the checker.
// Invariants: a scenario depends only on its seed and the options (so one seed replays it); every run
// is bounded in events and virtual time; a violation carries its seed and a one-line replay command.

import { createHash } from 'node:crypto';
import { Engine } from '../engine.js';
import { loggingMode, resolveConfig, type ConfigInput, type LoggingMode } from '../config/config.js';
import { findParameter } from '../config/parameters.js';
import { SeededRandom, type Random } from '../io/random.js';
import { Errors, isMotError } from '../errors.js';
import { joinPath } from '../io/disk.js';
import { segmentFileName, parseSegmentFileName, FRAME_HEADER_BYTES } from '../wal/wal-format.js';
import { SimHangError } from './scheduler.js';
import { CRASH_MODELS, faultConfig, type CrashModel, type FaultRecord, type FaultSpec } from './faults.js';
import { digestImage, type DurableImage } from './sim-disk.js';
import { SimWorld, resolveMachine, type MachineSpec } from './world.js';
import { Ledger, type LedgerEntry } from './ledger.js';
import { entrySummary, formatEntryData, type EntryData, type EntrySummary } from './entry-data.js';
import { ModelDb } from './model.js';
import { readEngineState } from './engine-state.js';
import { checkCrash, locateBitFlips, type CrashCheckResult, type Damage, type RecoveryOutcome, type Violation, type ViolationKind } from './checker.js';
import { CHECKED_TABLE, WorkloadRunner, type Workload } from './workload.js';
import { defaultWorkload, tightLoopWorkload } from './default-workload.js';
import { COMMIT_YIELD_INTERVAL_US } from '../transaction/commit-pacer.js';
import { inspectDataDir, type InspectReport } from '../tools/inspect.js';

export type CrashTestMode = 'synchronous' | 'group' | 'asynchronous';
export const CRASH_TEST_MODES: readonly CrashTestMode[] = ['synchronous', 'group', 'asynchronous'];

/** Faults by their command-line names; each maps to a SimDisk fault or a crash placement. */
export type FaultName =
  | 'lost-tail'
  | 'torn'
  | 'zero-tail'
  | 'bitflip'
  | 'fsyncgate'
  | 'enospc'
  | 'crash-between-steps'
  | 'crash-in-recovery'
  | 'config-change'
  | 'wal-truncate'
  | 'wal-delete-last'
  | 'wal-zero-last';
export const FAULT_NAMES: readonly FaultName[] = [
  'lost-tail',
  'torn',
  'zero-tail',
  'bitflip',
  'fsyncgate',
  'enospc',
  'crash-between-steps',
  'crash-in-recovery',
  'config-change',
  'wal-truncate',
  'wal-delete-last',
  'wal-zero-last',
];
/** Damage at the log's end, drawn at most one per crash. */
const END_DAMAGE_FAULTS: readonly FaultName[] = ['wal-truncate', 'wal-delete-last', 'wal-zero-last'];

/** One line per fault, for --help and the README. */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultName, string>> = {
  'lost-tail': 'at a crash, a WAL file loses all its unflushed writes whatever the crash model (lostUnflushedTail)',
  torn: 'at a crash, the last surviving unflushed write is cut at a sector boundary (tornWrite)',
  'zero-tail': 'at a crash, an extended file keeps its size but the new bytes read as zeros (zeroFilledTail)',
  bitflip:
    'after a crash, one bit flips inside a durable WAL frame (recovery must report corruption, XX001) or, half the time when there is one, in a checkpoint file (recovery must refuse it or load it right, and inspect must agree)',
  fsyncgate: 'an fdatasync fails with EIO and drops the dirty pages (fsyncFailureDropsDirtyPages)',
  enospc: 'the disk fills up mid-append: writes past a quota fail with ENOSPC (diskFull; WAL not preallocated)',
  'crash-between-steps': 'the crash comes just before a random disk operation instead of at a random time',
  'crash-in-recovery': 'a second crash hits recovery itself (e.g. while it cuts a torn tail), then recovery runs again',
  'wal-truncate':
    'after a crash, the WAL segment holding the log\'s end is cut inside the written log (a file system losing the end of a file after a crash, as ext4 delayed allocation did, Launchpad 317781; a backup that copied the segment mid-write): recovery must report it when a witness or preallocation shows durable bytes were cut',
  'wal-delete-last':
    'after a crash, the last WAL segment(s) holding data are deleted (an operator or cleanup script "freeing space" in the WAL directory, as with PostgreSQL\'s pg_xlog): recovery must report it when a witness covers them',
  'wal-zero-last':
    'after a crash, the last WAL segment holding data reads as zeros, its size kept (XFS "NULL bytes after crash"; an SSD losing its mapping table at a power cut, Zheng et al., FAST 2013): recovery must report it when a witness covers it',
  'config-change':
    'the directory is reopened with another wal_segment_size and wal_preallocate than it was made with, as a CLI run without the directory\'s --conf does (its segment 0 grew to 16 MB and the original configuration refused it)',
};

export interface CrashTestOptions {
  mode: CrashTestMode;
  seed: number;
  /** Scenarios (random mode) or workloads whose every crash point is tried (exhaustive mode). Default 100 / 1. */
  runs?: number;
  faults?: readonly FaultName[];
  /** Chance of each enabled fault per opportunity (per file at a crash, per crash, per epoch). Default 0.5. */
  faultProbability?: number;
  /** What a crash does to unflushed writes; 'random' draws one per scenario (default). */
  crashModel?: CrashModel | 'random';
  /** Crashes (and recoveries) per scenario in random mode (default 2). */
  crashesPerScenario?: number;
  /** Random mode: the crash comes at a uniform virtual time in [0, crashWindowUs] after each start (default 4000). */
  crashWindowUs?: number;
  /** Take a checkpoint every this many µs of virtual time while the workload runs (default: none). */
  checkpointEveryUs?: number;
  /**
   * Crash at every crash point of one workload, one scenario each: every disk operation as it is
   * issued and as it completes, from the engine's open to the end of the run.
   */
  exhaustive?: boolean;
  /** Exhaustive mode: try only this crash point (to replay one). */
  crashPoint?: number;
  /**
   * Your workload. Default: per scenario, drawn with equal chance, defaultWorkload() (sessions with
   * think time) or tightLoopWorkload() (sessions that never yield); defaultWorkload() in exhaustive mode.
   */
  workload?: Workload;
  /**
   * Engine settings on top of the mode's (mot.conf names), e.g. { group_commit_size: 8 }. One that
   * changes the logging mode (synchronous_commit, enable_group_commit, enable_redo_log) so that it is
   * no longer `mode` is refused (22023), naming both: the oracle would judge the wrong promise.
   */
  config?: ConfigInput;
  /** Machine shape and disk latency (default 2 sockets x 2 cores, nvme). */
  machine?: Pick<MachineSpec, 'sockets' | 'coresPerSocket' | 'disk'>;
  /**
   * Stop once this many violations were found (default VIOLATIONS_MAX_DEFAULT, 10): no further
   * scenario, crash or crash point is started. The summary says so (stoppedEarly), never silently.
   */
  violationsMax?: number;
  /** Called after each scenario with the counts so far. */
  onProgress?: (scenariosDone: number, scenariosPlanned: number) => void;
}

export interface ViolationReport extends Violation {
  /** The logging mode whose promise was broken. */
  mode: CrashTestMode;
  scenario: number;
  seed: number;
  /** Engine incarnation that crashed (0 = first). */
  epoch: number;
  /** Exhaustive mode: the crash point (see CrashTestOptions.exhaustive). */
  crashPoint?: number;
  /** One line that replays this scenario. */
  replay: string;
  /** The incarnation that crashed, on a virtual time axis (what violationTimelineHtml draws). */
  timeline: ViolationTimeline;
}

/**
 * What became of a transaction of the crashed incarnation: in the recovered prefix of the log
 * (survived) or past it (lost, allowed or not: see the violation), never placed in the log
 * (not-logged: rejected, rolled back, or still committing at the crash), read-only, or unknown
 * (recovery failed, or no prefix of the log matched the recovered rows).
 */
export type TransactionFate = 'survived' | 'lost' | 'not-logged' | 'read-only' | 'unknown';

export interface TimelineTransaction extends EntrySummary {
  fate: TransactionFate;
  /** Named by the violation (its entries). */
  violating: boolean;
}

export interface TimelineFlush {
  /** A flush completed: the log was durable up to endLsn. */
  atUs: number;
  startLsn: number;
  endLsn: number;
  /** The socket whose flush it was, when the redo handler names one (CommitObserver.flushed). */
  socket?: number;
}

/** The crashed incarnation around a violation: transactions per session, flush completions, the crash. */
export interface ViolationTimeline {
  epoch: number;
  /** The crash's virtual time; absent when the violation came before the crash (the workload failed or hung). */
  crashAtUs?: number;
  /** At the crash: end of the last frame placed in the log, and the durable LSN the engine had reported. */
  placedLsn?: number;
  durableLsn?: number;
  /** Whether recovery opened the directory after the crash ('not-run': the violation came before it). */
  recovery: 'recovered' | 'failed' | 'not-run';
  /** The incarnation's transactions (at most TIMELINE_TRANSACTIONS_MAX: the violating ones, then the latest to begin). */
  transactions: TimelineTransaction[];
  transactionsNotShown: number;
  /** Flush completions of the incarnation before the crash (at most TIMELINE_FLUSHES_MAX, the latest). */
  flushes: TimelineFlush[];
  flushesNotShown: number;
}

/** Bounds on a timeline's transactions and flushes: a violation's JSON and HTML stay small. */
export const TIMELINE_TRANSACTIONS_MAX = 400;
export const TIMELINE_FLUSHES_MAX = 400;
/** Violations after which a run stops by default (CrashTestOptions.violationsMax). */
export const VIOLATIONS_MAX_DEFAULT = 10;

export interface CrashTestSummary {
  mode: CrashTestMode;
  seed: number;
  exhaustive: boolean;
  faults: FaultName[];
  crashModel: CrashModel | 'random';
  /** Runs asked for (`runs`): scenarios in random mode, workloads whose every crash point is tried in exhaustive mode. */
  runsPlanned: number;
  /** Of those, the runs started: all of them unless the run stopped early. */
  runsStarted: number;
  /** Exhaustive mode: the crash points of the workloads started (`scenarios` counts those tried). */
  crashPointsPlanned?: number;
  /** Crash-and-recover runs (exhaustive: one per crash point). */
  scenarios: number;
  crashes: number;
  recoveries: number;
  /** Faults injected by kind (the disk's fault-log kinds, plus crashes). */
  faultsInjected: Record<string, number>;
  commits: {
    /** Writing transactions acknowledged before a crash. */
    acknowledged: number;
    /** Of those, promised durable by the mode (sync, group: all; async: flushed before the crash). */
    promisedDurable: number;
    /** Acknowledged but not recovered. Must be 0 for sync and group. */
    lost: number;
    /** Of lost, those inside async's unflushed window (allowed). */
    lostInUnflushedWindow: number;
    /** In flight at the crash (not acknowledged) yet recovered: allowed. */
    recoveredUnacknowledged: number;
    /** Acknowledged, then destroyed by end damage (wal-truncate, -delete-last, -zero-last) no witness covered: allowed, not in lost. */
    lostToUndetectableDamage: number;
  };
  corruptionReported: number;
  tornTailsCut: number;
  /** Scenarios by built-in workload: sessions with think time, sessions that never yield. */
  workloads: { thinkTime: number; tightLoop: number };
  /** The violationsMax in force. */
  violationsMax: number;
  /** Violations found; `violations` lists the first violationsMax of them. */
  violationsFound: number;
  violations: ViolationReport[];
  /**
   * Why the run ended before everything planned was tried (null: it tried everything). The only
   * reason today: violationsMax was reached, so later scenarios, crashes or crash points were skipped.
   */
  stoppedEarly: { reason: 'violations-max'; message: string } | null;
  elapsedMs: number;
  /** sha256 over every scenario's ledger hash and final durable disk digest: same seed, same fingerprint. */
  fingerprint: string;
  /** Replays the whole run. */
  replay: string;
}

interface Settings {
  mode: CrashTestMode;
  runs: number;
  faults: Set<FaultName>;
  faultProbability: number;
  crashModel: CrashModel | 'random';
  crashes: number;
  crashWindowUs: number;
  workload: Workload;
  /** The built-in workload whose sessions never yield (drawn per scenario unless the workload is given). */
  tightWorkload: Workload;
  customWorkload: boolean;
  config: ConfigInput;
  machine: Pick<MachineSpec, 'sockets' | 'coresPerSocket' | 'disk'>;
  violationsMax: number;
  checkpointEveryUs: number | undefined;
  options: CrashTestOptions;
}

/** Bound on events of one engine incarnation (a runaway workload is a failure, not a hang). */
const EVENTS_PER_EPOCH_MAX = 5_000_000;
/** 'crash-between-steps' and 'crash-in-recovery' pick the crash among the next this many disk operations. */
const CRASH_OPERATION_WINDOW = 60;

export async function crashTest(options: CrashTestOptions): Promise<CrashTestSummary> {
  const s = resolveSettings(options);
  const tally = new Tally(s.violationsMax);
  const t0 = performance.now();
  let started = 0;
  for (let i = 0; i < s.runs; i++) {
    if (tally.stopHere()) break;
    started++;
    const seed = (options.seed + i) >>> 0;
    if (options.exhaustive) await exhaustiveScenario(s, i, seed, tally);
    else await randomScenario(s, i, seed, tally);
    options.onProgress?.(i + 1, s.runs);
  }
  return {
    mode: s.mode,
    seed: options.seed,
    exhaustive: options.exhaustive === true,
    faults: [...s.faults],
    crashModel: s.crashModel,
    runsPlanned: s.runs,
    runsStarted: started,
    ...(options.exhaustive ? { crashPointsPlanned: tally.crashPointsPlanned } : {}),
    scenarios: tally.scenarios,
    crashes: tally.crashes,
    recoveries: tally.recoveries,
    faultsInjected: tally.faults,
    commits: tally.commits,
    corruptionReported: tally.corruptionReported,
    tornTailsCut: tally.tornTailsCut,
    workloads: tally.workloads,
    violationsMax: s.violationsMax,
    violationsFound: tally.violations.length,
    violations: tally.violations.slice(0, s.violationsMax),
    stoppedEarly: tally.stoppedEarly ? { reason: 'violations-max', message: stopMessage(s, tally, started) } : null,
    elapsedMs: performance.now() - t0,
    fingerprint: tally.fingerprint.digest('hex'),
    replay: replayCommand(s, options.seed, s.runs),
  };
}

function resolveSettings(o: CrashTestOptions): Settings {
  if (!CRASH_TEST_MODES.includes(o.mode)) throw Errors.invalidArgument('mode', `"${o.mode}" is not one of ${CRASH_TEST_MODES.join(', ')}`);
  if (!(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffff_ffff)) throw Errors.invalidArgument('seed', `${o.seed} is not an integer from 0 to 2^32-1`);
  for (const f of o.faults ?? []) if (!FAULT_NAMES.includes(f)) throw Errors.invalidArgument('faults', `"${f}" is not one of ${FAULT_NAMES.join(', ')}`);
  const runs = o.runs ?? (o.exhaustive ? 1 : 100);
  if (!(Number.isInteger(runs) && runs >= 1 && runs <= 10_000_000)) throw Errors.invalidArgument('runs', `${runs} is not an integer from 1 to 10,000,000`);
  const p = o.faultProbability ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw Errors.invalidArgument('faultProbability', `${p} is not in [0, 1]`);
  const model = o.crashModel ?? 'random';
  if (model !== 'random' && !CRASH_MODELS.includes(model)) throw Errors.invalidArgument('crashModel', `"${model}" is not one of random, ${CRASH_MODELS.join(', ')}`);
  const crashes = o.crashesPerScenario ?? 2;
  if (!(Number.isInteger(crashes) && crashes >= 1 && crashes <= 100)) throw Errors.invalidArgument('crashesPerScenario', `${crashes} is not an integer from 1 to 100`);
  const window = o.crashWindowUs ?? 4000;
  if (!(Number.isFinite(window) && window >= 0)) throw Errors.invalidArgument('crashWindowUs', `${window} is not a non-negative number of microseconds`);
  resolveMachine(o.machine);
  if (o.checkpointEveryUs !== undefined && !(Number.isFinite(o.checkpointEveryUs) && o.checkpointEveryUs >= 1)) {
    throw Errors.invalidArgument('checkpointEveryUs', `${o.checkpointEveryUs} is not a number of microseconds >= 1`);
  }
  const violationsMax = o.violationsMax ?? VIOLATIONS_MAX_DEFAULT;
  if (!(Number.isInteger(violationsMax) && violationsMax >= 1 && violationsMax <= VIOLATIONS_MAX_LIMIT)) {
    throw Errors.invalidArgument('violationsMax', `${violationsMax} is not an integer from 1 to ${VIOLATIONS_MAX_LIMIT.toLocaleString('en-US')}`);
  }
  const conflict = modeConflict(o.mode, o.config ?? {});
  if (conflict !== undefined) {
    const settings = conflict.parameters.map((p) => `${p} = ${String(o.config![p])}`).join(', ');
    throw Errors.invalidArgument(
      `config ${conflict.parameters.map((p) => `"${p}"`).join(', ')}`,
      `${settings} makes the logging mode ${conflict.loggingMode}, but mode is "${o.mode}": the oracle would check the wrong promise (leave the setting out, or ask for mode "${conflict.loggingMode}")`,
    );
  }
  return {
    mode: o.mode,
    runs,
    faults: new Set(o.faults ?? []),
    faultProbability: p,
    crashModel: model,
    crashes,
    crashWindowUs: window,
    workload: o.workload ?? defaultWorkload(o.exhaustive ? { transactionsPerSession: 3 } : {}),
    tightWorkload: tightLoopWorkload(),
    customWorkload: o.workload !== undefined,
    config: o.config ?? {},
    machine: o.machine ?? {},
    violationsMax,
    checkpointEveryUs: o.checkpointEveryUs,
    options: o,
  };
}

/** Largest violationsMax accepted (a bound on what a run keeps in memory). */
export const VIOLATIONS_MAX_LIMIT = 1_000_000;

/** The engine settings (mot.conf names) that choose the logging mode, with the mode's value of each. */
function modeSettings(mode: CrashTestMode): ConfigInput {
  return { enable_redo_log: true, synchronous_commit: mode !== 'asynchronous', enable_group_commit: mode === 'group' };
}

/**
 * Settings of `config` that make the engine's logging mode (config.loggingMode) something else than
 * `mode`: the parameters to blame (by the names given) and the mode they make. undefined: no conflict.
 * A setting that agrees with the mode (enable_group_commit = true with group) is fine. An unknown
 * or unreadable parameter throws its own configuration error (22023).
 */
export function modeConflict(mode: CrashTestMode, config: ConfigInput): { parameters: string[]; loggingMode: LoggingMode } | undefined {
  const chosen = loggingMode(resolveConfig({ ...modeSettings(mode), ...config }).config);
  if (chosen === mode) return undefined;
  const modeFields = new Set(Object.keys(modeSettings(mode)).map((name) => findParameter(name)?.field));
  const parameters = Object.keys(config).filter((k) => config[k] !== undefined && modeFields.has(findParameter(k)?.field));
  return { parameters, loggingMode: chosen };
}

class Tally {
  /** The run stopped at violationsMax with something planned left untried (a scenario, crash or crash point). */
  stoppedEarly = false;
  /** Exhaustive mode: crash points of the workloads started. */
  crashPointsPlanned = 0;
  /** Random mode: crashes of a started scenario not made because violationsMax was reached. */
  crashesSkipped = 0;
  constructor(readonly violationsMax: number) {}

  /**
   * Whether to start nothing more: violationsMax reached. Called only where something planned would
   * start next, so a true answer means the run stops early (recorded, never silent).
   */
  stopHere(): boolean {
    if (this.violations.length < this.violationsMax) return false;
    this.stoppedEarly = true;
    return true;
  }

  scenarios = 0;
  crashes = 0;
  recoveries = 0;
  faults: Record<string, number> = {};
  commits = { acknowledged: 0, promisedDurable: 0, lost: 0, lostInUnflushedWindow: 0, recoveredUnacknowledged: 0, lostToUndetectableDamage: 0 };
  corruptionReported = 0;
  tornTailsCut = 0;
  workloads = { thinkTime: 0, tightLoop: 0 };
  violations: ViolationReport[] = [];
  readonly fingerprint = createHash('sha256');

  /** Fold a finished scenario into the run's fingerprint. */
  fold(ledger: Ledger, world: SimWorld): void {
    this.fingerprint.update(`${ledger.hash()} ${digestImage(world.disk.snapshotDurable())}\n`);
  }

  countFaults(records: readonly FaultRecord[]): void {
    for (const r of records) this.faults[r.kind] = (this.faults[r.kind] ?? 0) + 1;
  }
}

/** Everything one scenario decides from its seed (apart from the world's own randomness). */
interface Plan {
  rnd: Random;
  model: CrashModel;
  config: ConfigInput;
  /** wal_segment_size in force (to locate bit flips in the log). */
  segmentBytes: number;
  /** wal_writer_delay in force (the asynchronous loss bound). */
  walWriterDelayUs: number;
  /** The workload of this scenario, and whether it is the tight loop. */
  workload: Workload;
  tightLoop: boolean;
  /** The machine: the given one; random scenarios without a given disk draw a slow one now and then. */
  machine: Pick<MachineSpec, 'sockets' | 'coresPerSocket' | 'disk'>;
}

/**
 * Chance that a random scenario without a given disk runs on 'hdd' instead of 'nvme': flushes far
 * longer than wal_writer_delay, so asynchronous back-pressure (and slow group flushes) are exercised.
 */
const SLOW_DISK_PROBABILITY = 0.15;

function plan(s: Settings, seed: number): Plan {
  const rnd = new SeededRandom((seed ^ 0x9e3779b9) >>> 0);
  const model = s.crashModel === 'random' ? CRASH_MODELS[rnd.int(CRASH_MODELS.length)]! : s.crashModel;
  const config: ConfigInput = {
    synchronous_commit: s.mode !== 'asynchronous',
    enable_group_commit: s.mode === 'group',
    group_commit_size: 4,
    group_commit_timeout: '300us',
    wal_writer_delay: '1ms',
    wal_segment_size: '1MB',
    redo_buffer_size: '64KB',
    // ENOSPC mid-append needs appends that grow the file: with 'enospc', preallocation is rarer.
    wal_preallocate: rnd.chance(s.faults.has('enospc') ? 0.25 : 0.5),
    ...s.config,
  };
  const resolved = resolveConfig(config).config;
  const tightLoop = !s.customWorkload && !s.options.exhaustive && rnd.chance(0.5);
  const slowDisk = s.machine.disk === undefined && !s.options.exhaustive && rnd.chance(SLOW_DISK_PROBABILITY);
  return {
    rnd,
    model,
    config,
    segmentBytes: resolved.walSegmentBytes,
    walWriterDelayUs: resolved.walWriterDelayUs,
    workload: tightLoop ? s.tightWorkload : s.workload,
    tightLoop,
    machine: slowDisk ? { ...s.machine, disk: 'hdd' } : s.machine,
  };
}

/** Faults of the disk during one incarnation, drawn from the scenario's plan. */
function epochFaults(s: Settings, p: Plan, usedBytes: number): FaultSpec {
  const spec: FaultSpec = {};
  const prob = s.faultProbability;
  if (s.faults.has('lost-tail')) spec.lostUnflushedTail = { probability: prob };
  if (s.faults.has('torn')) spec.tornWrite = { probability: prob };
  if (s.faults.has('zero-tail')) spec.zeroFilledTail = { probability: prob };
  if (s.faults.has('fsyncgate') && p.rnd.chance(prob)) spec.fsyncFailureDropsDirtyPages = { probability: 0.05 + 0.15 * p.rnd.next() };
  if (s.faults.has('enospc') && p.rnd.chance(prob)) spec.diskFull = { quotaBytes: usedBytes + p.rnd.int(16 * 1024) };
  return spec;
}

// ---- one incarnation of the engine ----

interface RunUntil<T> {
  settled: boolean;
  value?: T;
  error?: unknown;
  /** The scheduler ran out of events while `promise` was pending and nothing stopped it: a hang. */
  hung: boolean;
}

/** Run the world until `promise` settles or `stop()` holds (checked between events). */
async function runUntil<T>(world: SimWorld, promise: Promise<T>, stop: () => boolean, untilUs = Number.POSITIVE_INFINITY): Promise<RunUntil<T>> {
  const out: RunUntil<T> = { settled: false, hung: false };
  promise.then(
    (v) => {
      out.settled = true;
      out.value = v;
    },
    (e: unknown) => {
      out.settled = true;
      out.error = e;
    },
  );
  const r = await world.scheduler.run({ until: () => out.settled || stop(), untilUs, maxEvents: EVENTS_PER_EPOCH_MAX });
  out.hung = r.status === 'pending' || r.status === 'event-limit';
  return out;
}

function openEngine(world: SimWorld, s: Settings, p: Plan, ledger: Ledger, config: ConfigInput = p.config): Promise<Engine> {
  return Engine.open(world.dir, world.engineOptions({ config, observer: ledger.observer() }));
}

/**
 * 'config-change': the configuration a restart opens the directory with, another segment size and
 * preallocation than the directory was made with; the directory's own settings (directory.json) must win.
 */
function changedConfig(p: Plan): ConfigInput {
  return { ...p.config, wal_segment_size: p.segmentBytes === 1024 * 1024 ? '2MB' : '1MB', wal_preallocate: p.config.wal_preallocate !== true };
}

function openSessions(engine: Engine, world: SimWorld) {
  const cores = world.machine.sockets * world.machine.coresPerSocket;
  return Array.from({ length: cores }, (_, core) => engine.openSession({ core }));
}

/** Flip one bit inside the CRC-covered bytes of a frame the engine reported durable (in a segment a checkpoint did not remove). */
export function flipBitInLog(world: SimWorld, ledger: Ledger, rnd: Random, segmentBytes: number): void {
  const files = world.disk.snapshotDurable().files;
  const pathOf = (lsn: number): string => joinPath(world.dir, 'wal', segmentFileName(lsn - (lsn % segmentBytes)));
  // The frame's bytes must be in the file (end damage earlier may have removed a segment a later epoch re-created).
  const inFile = (f: { lsn: number; payloadBytes: number }): boolean => (files.get(pathOf(f.lsn))?.length ?? 0) >= (f.lsn % segmentBytes) + FRAME_HEADER_BYTES + f.payloadBytes;
  const durable = ledger.frames.filter((f) => f.lsn + FRAME_HEADER_BYTES + f.payloadBytes <= ledger.durableLsn && inFile(f));
  if (durable.length === 0) return;
  const f = durable[rnd.int(durable.length)]!;
  const lsn = f.lsn + rnd.int(FRAME_HEADER_BYTES + f.payloadBytes);
  world.disk.injectBitFlip(pathOf(lsn), (lsn % segmentBytes) * 8 + rnd.int(8));
}

/** Flip one bit of a durable checkpoint file (mot.ctrl or a file of a chkpt_* directory); false if there is none. */
function flipBitInCheckpoint(world: SimWorld, rnd: Random): boolean {
  const files = [...world.disk.snapshotDurable().files]
    .filter(([path, bytes]) => bytes.length > 0 && (path === joinPath(world.dir, 'mot.ctrl') || path.startsWith(joinPath(world.dir, 'chkpt_'))))
    .map(([path]) => path)
    .sort();
  if (files.length === 0) return false;
  world.disk.injectBitFlip(files[rnd.int(files.length)]!);
  return true;
}

/**
 * At most one fault damaging the log's end at rest, after the crash: cut the segment holding the log's
 * end inside the written log, delete it (and any later one), or zero it. Returns what it destroyed,
 * located in the log, with what the ledger's witness rules say recovery can know (checker.ts decides
 * whether recovery had to report it).
 */
function damageLogEnd(s: Settings, p: Plan, world: SimWorld, ledger: Ledger): Damage[] {
  const kinds = END_DAMAGE_FAULTS.filter((f) => s.faults.has(f));
  if (kinds.length === 0 || !p.rnd.chance(s.faultProbability / 2)) return [];
  const kind = kinds[p.rnd.int(kinds.length)]! as EndDamageFault;
  return injectLogEndDamage(world, ledger, kind, p.rnd, p.segmentBytes, p.config.wal_preallocate === true);
}

export type EndDamageFault = 'wal-truncate' | 'wal-delete-last' | 'wal-zero-last';

/**
 * Damage the log's end at rest (after a crash, before the restart): cut the WAL segment holding the
 * log's end at a random offset inside its data, delete it (and any later segment), or zero it.
 * Returns the damage located in the log, with what the ledger says recovery can know
 * (Ledger.knownDurableLsn); checkCrash decides whether recovery had to report it. [] when no segment
 * holds data. `preallocated`: the directory's wal_preallocate.
 */
export function injectLogEndDamage(world: SimWorld, ledger: Ledger, kind: EndDamageFault, rnd: Random, segmentBytes: number, preallocated: boolean): Damage[] {
  const p = { rnd, segmentBytes };
  const walDir = joinPath(world.dir, 'wal');
  const files = world.disk.snapshotDurable().files;
  const segments = [...files.keys()]
    .map((path) => ({ path, first: path.startsWith(`${walDir}/`) ? parseSegmentFileName(path.slice(walDir.length + 1)) : undefined }))
    .filter((x): x is { path: string; first: number } => x.first !== undefined && x.first % p.segmentBytes === 0)
    .sort((a, b) => a.first - b.first);
  const holding = [...segments].reverse().find((x) => files.get(x.path)!.some((b) => b !== 0));
  if (holding === undefined) return [];
  const bytes = files.get(holding.path)!;
  let dataEnd = bytes.length;
  while (dataEnd > 0 && bytes[dataEnd - 1] === 0) dataEnd--;
  let firstLostLsn = holding.first;
  let shortenedSegmentEndLsn: number | undefined;
  let record;
  if (kind === 'wal-truncate') {
    const length = p.rnd.int(dataEnd);
    firstLostLsn = holding.first + length;
    if (preallocated && length < bytes.length) shortenedSegmentEndLsn = holding.first + p.segmentBytes;
    record = world.disk.injectTruncate(holding.path, length);
  } else if (kind === 'wal-zero-last') {
    record = world.disk.injectZero(holding.path, 0, bytes.length);
  } else {
    for (const x of segments.filter((x) => x.first > holding.first).reverse()) world.disk.injectRemove(x.path);
    record = world.disk.injectRemove(holding.path);
  }
  return [
    {
      path: holding.path,
      fileOffset: firstLostLsn - holding.first,
      lsn: firstLostLsn,
      insideDurableFrame: false,
      detail: `${kind}: ${record.detail}`,
      firstLostLsn,
      knownDurableLsn: ledger.knownDurableLsn,
      shortenedSegmentEndLsn,
      destroyedDurable: firstLostLsn < ledger.durableLsn || shortenedSegmentEndLsn !== undefined,
    },
  ];
}

/** Create the checked table through the ledger (a recorded DDL statement), then flush it. */
async function createCheckedTable(ledger: Ledger, world: SimWorld, engine: Engine): Promise<string> {
  const result = await new WorkloadRunner(ledger, [], world.clock, world.random, { engine }).createTable(CHECKED_TABLE);
  await engine.flush();
  return result;
}

/**
 * Take a checkpoint every `everyUs` of virtual time until `stopped()` (crash or end of the incarnation).
 * A completed checkpoint witnesses its L0 (its control file's lastReplayLsn is at least that).
 */
function checkpointLoop(world: SimWorld, engine: Engine, everyUs: number, stopped: () => boolean, ledger: Ledger): void {
  void (async () => {
    // Bounded: the world stops being run after its crash, and each turn waits everyUs > 0.
    while (!stopped()) {
      await world.clock.sleepUs(everyUs);
      if (stopped()) return;
      const report = await engine.checkpoint().catch(() => undefined);
      if (report !== undefined) ledger.witnessed(report.lsn);
    }
  })();
}

interface Epoch {
  world: SimWorld;
  engine: Engine;
  base: ModelDb;
}

/** Restart from `crashed`'s durable image (crashing recovery once if planned), recover and check. */
async function recoverAndCheck(
  s: Settings,
  p: Plan,
  crashed: SimWorld,
  ledger: Ledger,
  base: ModelDb,
  damage: Damage[],
  tally: Tally,
  report: Report,
  crashAtUs: number,
): Promise<Epoch | undefined> {
  let world = crashed.restart({ faults: {} });
  let opened: RunUntil<Engine>;
  const config = s.faults.has('config-change') && p.rnd.chance(s.faultProbability) ? changedConfig(p) : p.config;
  if (config !== p.config) tally.faults['configChange'] = (tally.faults['configChange'] ?? 0) + 1;
  // What `motsim inspect` says of the crashed directory, to compare with what recovery does.
  const inspected = await runUntil(world, inspectDataDir(world.disk, world.dir, { config: resolveConfig(config).config, clock: world.clock }), () => false);
  let recoveryCrashed = false;
  if (s.faults.has('crash-in-recovery') && p.rnd.chance(s.faultProbability)) {
    // A second power cut at one of recovery's own disk operations, then recovery runs again.
    const at = world.disk.operationCount + p.rnd.int(CRASH_OPERATION_WINDOW);
    let hit = false;
    const w = world;
    const unsubscribe = w.disk.onOperation((op) => {
      if (!hit && op.index === at) {
        hit = true;
        w.crash(undefined, p.model);
      }
    });
    opened = await runUntil(w, openEngine(w, s, p, ledger, config), () => hit);
    unsubscribe();
    if (hit) {
      recoveryCrashed = true;
      if (opened.value) void opened.value.abandon();
      tally.crashes++;
      tally.countFaults(w.disk.faultLog.records);
      world = w.restart({ faults: {} });
      opened = await runUntil(world, openEngine(world, s, p, ledger, config), () => false);
    }
  } else {
    opened = await runUntil(world, openEngine(world, s, p, ledger, config), () => false);
  }
  tally.recoveries++;
  let outcome: RecoveryOutcome;
  let engine: Engine | undefined;
  if (opened.hung) {
    report('simulation-hang', `recovery made no progress in virtual time (scheduler: ${world.scheduler.pendingWaits().join('; ') || 'no events left'})`, [], { recovery: 'failed' });
    return undefined;
  }
  if (!recoveryCrashed) checkInspect(inspected, opened, (kind, message) => report(kind, message, [], { recovery: opened.error === undefined ? 'recovered' : 'failed' }));
  if (opened.error !== undefined) {
    outcome = { ok: false, error: opened.error };
  } else {
    engine = opened.value!;
    outcome = { ok: true, state: readEngineState(engine), replayedFromLsn: engine.recovery.checkpoint?.lsn ?? 0 };
  }
  const check = checkCrash({ mode: s.mode, ledger, epoch: crashed.epoch, base, recovery: outcome, damage, crashAtUs, walWriterDelayUs: p.walWriterDelayUs });
  tally.commits.acknowledged += check.acked;
  tally.commits.promisedDurable += check.mustSurvive;
  tally.commits.lost += check.ackedLost;
  tally.commits.lostInUnflushedWindow += check.ackedLostAllowed;
  tally.commits.recoveredUnacknowledged += check.survivedUnacked;
  tally.commits.lostToUndetectableDamage += check.ackedLostToDamage;
  if (check.corruptionReported) tally.corruptionReported++;
  for (const v of check.violations) report(v.kind, v.message, v.entries, { recovery: outcome.ok ? 'recovered' : 'failed', check });
  if (!outcome.ok || engine === undefined) return undefined;
  if (engine.recovery.wal.tornBytesCut > 0) tally.tornTailsCut++;
  if (!outcome.state.has(CHECKED_TABLE.name)) {
    // End damage no witness covered took the checked table's creation with it (the check allowed
    // it, or reported it): the scenario has nothing left to run.
    void engine.abandon();
    return undefined;
  }
  ledger.startEpoch(world.epoch, engine.recovery.wal.end.endLsn);
  return { world, engine, base: outcome.state };
}

/**
 * `motsim inspect` must refuse a directory exactly when recovery does, with recovery's own error (it
 * runs recovery itself, into a scratch catalog, changing nothing).
 */
function checkInspect(inspected: RunUntil<InspectReport>, opened: RunUntil<Engine>, report: (kind: ViolationKind, message: string) => void): void {
  if (!inspected.settled || inspected.error !== undefined) {
    report('inspect-disagrees-with-recovery', `inspect failed on the crashed directory: ${describe(inspected.error ?? 'hang')}`);
    return;
  }
  const refusal = inspected.value!.recovery.error;
  const recoveryError = opened.error === undefined ? undefined : isMotError(opened.error) ? opened.error.message : String(opened.error);
  if (recoveryError === undefined && refusal !== undefined) {
    report('inspect-disagrees-with-recovery', `inspect says recovery would refuse the directory (${refusal}), but recovery accepted it`);
  } else if (recoveryError !== undefined && !(refusal ?? '').includes(recoveryError)) {
    report('inspect-disagrees-with-recovery', `recovery refused the directory (${recoveryError}), inspect said ${refusal === undefined ? 'it was fine' : `otherwise: ${refusal}`}`);
  }
}

/**
 * The commit path lets the event loop turn at least every COMMIT_YIELD_INTERVAL_US (CommitPacer): no
 * event may have waited past its due time longer than that plus one transaction's CPU per session
 * (each may finish the transaction it is in before parking) and one more.
 */
function checkEventLoop(world: SimWorld, runner: WorkloadRunner, report: (kind: ViolationKind, message: string) => void): void {
  const boundUs = COMMIT_YIELD_INTERVAL_US + (runner.sessions.length + 1) * runner.cpuUsMax;
  const lateUs = world.scheduler.lateUsMax;
  if (lateUs > boundUs) {
    report(
      'event-loop-starved',
      `an event ran ${Math.round(lateUs)}us after it was due while sessions committed (bound: ${COMMIT_YIELD_INTERVAL_US}us + ${runner.sessions.length + 1} x ${runner.cpuUsMax}us of transaction CPU): the commit path did not let timers run`,
    );
  }
}

// ---- random scenarios ----

async function randomScenario(s: Settings, index: number, seed: number, tally: Tally): Promise<void> {
  const ledger = new Ledger();
  const last: { world?: SimWorld } = {};
  try {
    await randomScenarioRun(s, index, seed, tally, ledger, last);
  } finally {
    if (last.world) tally.fold(ledger, last.world);
  }
}

async function randomScenarioRun(s: Settings, index: number, seed: number, tally: Tally, ledger: Ledger, last: { world?: SimWorld }): Promise<void> {
  const p = plan(s, seed);
  ledger.walSegmentBytes = p.segmentBytes;
  let crashEpoch = 0;
  const report = reporter(s, tally, index, seed, () => crashEpoch, undefined, ledger);
  let world = SimWorld.create({ seed, machine: { ...p.machine, crashModel: p.model } });
  last.world = world;
  tally.scenarios++;
  if (!s.customWorkload) tally.workloads[p.tightLoop ? 'tightLoop' : 'thinkTime']++;
  const setup = await runUntil(world, openEngine(world, s, p, ledger), () => false);
  if (!setup.settled || setup.error !== undefined) return report('recovery-failed', `opening a fresh engine failed: ${String(setup.error ?? 'hang')}`);
  let engine = setup.value!;
  // The checked table's creation is in the ledger like any DDL: end damage may take it away too.
  ledger.startEpoch(0, 0);
  const created = await runUntil(world, createCheckedTable(ledger, world, engine), () => false);
  if (!created.settled || created.error !== undefined || created.value !== 'acked') {
    return report('recovery-failed', `creating the checked table failed: ${String(created.error ?? created.value ?? 'hang')}`);
  }
  let base = ModelDb.empty();

  for (let c = 0; c < s.crashes; c++) {
    if (tally.stopHere()) {
      tally.crashesSkipped += s.crashes - c;
      break;
    }
    crashEpoch = world.epoch;
    const faultLogStart = world.disk.faultLog.records.length;
    world.disk.faults = faultConfig(epochFaults(s, p, world.disk.stats().usedBytes));
    const w = world;
    const runner = new WorkloadRunner(ledger, openSessions(engine, world), world.clock, world.random, { engine, busy: (us) => w.scheduler.busyUs(us) });
    if (s.checkpointEveryUs !== undefined) checkpointLoop(w, engine, s.checkpointEveryUs, () => runner.stopped, ledger);
    const done = p.workload(runner);
    let crashed = false;
    let crashAtUs = 0;
    const crashNow = (): void => {
      if (crashed) return;
      crashed = true;
      crashAtUs = w.scheduler.nowUs;
      runner.stopped = true;
      ledger.crashed(crashAtUs);
      w.crash(engine, p.model);
    };
    let ran: RunUntil<void>;
    if (s.faults.has('crash-between-steps') && p.rnd.chance(s.faultProbability)) {
      const at = w.disk.operationCount + p.rnd.int(CRASH_OPERATION_WINDOW);
      w.disk.onOperation((op) => {
        if (op.index === at) crashNow();
      });
      ran = await runUntil(w, done, () => crashed);
    } else {
      const at = w.scheduler.nowUs + p.rnd.int(s.crashWindowUs + 1);
      ran = await runUntil(w, done, () => false, at);
      // Let the world idle until the crash time (async flush rounds, group timeouts).
      if (ran.settled && !crashed) await w.scheduler.run({ untilUs: at, maxEvents: EVENTS_PER_EPOCH_MAX });
    }
    if (ran.settled && ran.error !== undefined) return report('recovery-failed', `the workload failed (an engine assertion?): ${describe(ran.error)}`);
    if (ran.hung && !crashed) return report('simulation-hang', `the workload made no progress in virtual time at ${Math.round(w.scheduler.nowUs)}us: ${w.scheduler.pendingWaits().join('; ') || 'no events left'}`);
    crashNow();
    tally.crashes++;
    checkEventLoop(w, runner, report);
    if (s.faults.has('bitflip') && p.rnd.chance(s.faultProbability)) {
      // Half the time in a checkpoint file when there is one: recovery must refuse it or load it
      // right (the prefix check), and inspect must agree with recovery.
      if (!(p.rnd.chance(0.5) && flipBitInCheckpoint(w, p.rnd))) flipBitInLog(w, ledger, p.rnd, p.segmentBytes);
    }
    const endDamage = damageLogEnd(s, p, w, ledger);
    const faultRecords = w.disk.faultLog.records.slice(faultLogStart);
    tally.countFaults(faultRecords);
    const damage = [...locateBitFlips(faultRecords, ledger, joinPath(w.dir, 'wal'), p.segmentBytes), ...endDamage];
    const next = await recoverAndCheck(s, p, w, ledger, base, damage, tally, report, crashAtUs);
    if (next === undefined) return;
    ({ world, engine, base } = next);
    last.world = world;
  }
  void engine.abandon();
}

// ---- exhaustive: every crash point of one workload ----

async function exhaustiveScenario(s: Settings, index: number, seed: number, tally: Tally): Promise<void> {
  const p0 = plan(s, seed);
  const setup = await setupImage(s, p0, seed);
  const only = s.options.crashPoint;
  const points = only ?? (await crashPoint(s, index, seed, setup, undefined, tally));
  // Crash points 0..points: the last one is the end of the run (nothing hit; the crash comes after it).
  tally.crashPointsPlanned += only === undefined ? points + 1 : 1;
  for (let k = only ?? 0; k <= points; k++) {
    if (tally.stopHere()) break;
    await crashPoint(s, index, seed, setup, k, tally);
  }
}

/** A data directory holding the checked table (created and flushed on a healthy disk), and its state. */
async function setupImage(s: Settings, p: Plan, seed: number): Promise<{ image: DurableImage; state: ModelDb }> {
  const world = SimWorld.create({ seed, machine: { ...p.machine, crashModel: p.model } });
  const engine = await world.run('setup: open', openEngine(world, s, p, new Ledger()));
  await world.run('setup: create table', engine.createTable(CHECKED_TABLE));
  const state = readEngineState(engine);
  await world.run('setup: close', engine.close());
  return { image: world.disk.snapshotDurable(), state };
}

/**
 * Open the engine on `image`, run the workload, and crash at crash point `crashAt`: the moments just
 * before each disk operation is issued and just before each one completes, numbered in the order they
 * occur (undefined: no crash; returns how many there were). Then recover and check. The plan is
 * rebuilt from the seed, so every crash point sees the same run up to it.
 */
async function crashPoint(
  s: Settings,
  index: number,
  seed: number,
  setup: { image: DurableImage; state: ModelDb },
  crashAt: number | undefined,
  tally: Tally,
): Promise<number> {
  const image = setup.image;
  const p = plan(s, seed);
  const ledger = new Ledger();
  ledger.walSegmentBytes = p.segmentBytes;
  const report = reporter(s, tally, index, seed, () => 0, crashAt, ledger);
  const world = SimWorld.fromImage({ seed, machine: { ...p.machine, crashModel: p.model } }, image);
  world.disk.faults = faultConfig(epochFaults(s, p, world.disk.stats().usedBytes));
  let crashed = false;
  let crashAtUs = 0;
  let engine: Engine | undefined;
  let runner: WorkloadRunner | undefined;
  let point = 0;
  const atPoint = (): void => {
    if (point++ !== crashAt || crashed) return;
    crashed = true;
    crashAtUs = world.scheduler.nowUs;
    if (runner) runner.stopped = true;
    ledger.crashed(crashAtUs);
    world.crash(engine, p.model);
  };
  world.disk.onOperation(atPoint);
  world.scheduler.onEvent((event) => {
    if (event.label.startsWith('disk.')) atPoint();
  });
  const opened = await runUntil(world, openEngine(world, s, p, ledger), () => crashed);
  let base = setup.state;
  if (!crashed) {
    if (!opened.settled || opened.error !== undefined) {
      report('recovery-failed', `opening the prepared directory failed: ${describe(opened.error ?? 'hang')}`);
      return 0;
    }
    engine = opened.value!;
    ledger.startEpoch(0, engine.recovery.wal.end.endLsn);
    base = readEngineState(engine);
    runner = new WorkloadRunner(ledger, openSessions(engine, world), world.clock, world.random, { engine, busy: (us) => world.scheduler.busyUs(us) });
    const r = runner;
    if (s.checkpointEveryUs !== undefined) checkpointLoop(world, engine, s.checkpointEveryUs, () => r.stopped, ledger);
    const ran = await runUntil(world, p.workload(runner), () => crashed);
    if (ran.settled && ran.error !== undefined) {
      report('recovery-failed', `the workload failed (an engine assertion?): ${describe(ran.error)}`);
      return 0;
    }
    if (ran.hung && !crashed) {
      report('simulation-hang', `the workload made no progress in virtual time: ${world.scheduler.pendingWaits().join('; ') || 'no events left'}`);
      return 0;
    }
    // Idle long enough for an asynchronous flush round, so the run's last operations are crash points too.
    if (!crashed) await world.scheduler.run({ untilUs: world.scheduler.nowUs + 3000, until: () => crashed, maxEvents: EVENTS_PER_EPOCH_MAX });
  }
  if (crashAt === undefined) {
    if (engine) void engine.abandon();
    return point;
  }
  tally.scenarios++;
  if (!crashed) {
    crashed = true;
    crashAtUs = world.scheduler.nowUs;
    ledger.crashed(crashAtUs);
    world.crash(engine, p.model);
  }
  tally.crashes++;
  tally.countFaults(world.disk.faultLog.records);
  const damage = locateBitFlips(world.disk.faultLog.records, ledger, joinPath(world.dir, 'wal'), p.segmentBytes);
  const next = await recoverAndCheck(s, p, world, ledger, base, damage, tally, report, crashAtUs);
  if (next) void next.engine.abandon();
  tally.fold(ledger, next?.world ?? world);
  return crashAt;
}

// ---- reporting ----

/** What the crash check said of the crashed incarnation, for the timeline's fates. */
interface CheckContext {
  recovery: ViolationTimeline['recovery'];
  check?: Pick<CrashCheckResult, 'keptIds' | 'lostIds'>;
}

/** Reports a violation of the incarnation `epoch()` of scenario `scenario`, with its timeline from `ledger`. */
type Report = (kind: ViolationKind, message: string, entries?: EntryData[], context?: CheckContext) => void;

function reporter(s: Settings, tally: Tally, scenario: number, seed: number, epoch: () => number, crashAt: number | undefined, ledger: Ledger): Report {
  return (kind, message, entries = [], context = { recovery: 'not-run' }) => {
    const e = epoch();
    const timeline = violationTimeline(ledger, e, new Set(entries.map((x) => x.id)), context);
    tally.violations.push({
      kind,
      message,
      entries,
      mode: s.mode,
      scenario,
      seed,
      epoch: e,
      ...(crashAt === undefined ? {} : { crashPoint: crashAt }),
      replay: replayCommand(s, seed, 1, crashAt),
      timeline,
    });
  };
}

/** The incarnation `epoch` of `ledger` around a violation naming `violating` (ledger ids). */
export function violationTimeline(ledger: Ledger, epoch: number, violating: ReadonlySet<number>, context: CheckContext): ViolationTimeline {
  const snapshot = ledger.crashSnapshot(epoch);
  const all = ledger.entries.filter((x) => x.epoch === epoch);
  // Bounded: the violating transactions, then those that began latest (nearest the crash).
  const shown = [...all.filter((x) => violating.has(x.id)), ...all.filter((x) => !violating.has(x.id)).sort((a, b) => b.beganAtUs - a.beganAtUs)]
    .slice(0, TIMELINE_TRANSACTIONS_MAX)
    .sort((a, b) => a.beganAtUs - b.beganAtUs || a.id - b.id);
  const flushes = ledger.flushes.filter((f) => f.epoch === epoch);
  const kept = flushes.slice(-TIMELINE_FLUSHES_MAX);
  const timeline: ViolationTimeline = {
    epoch,
    recovery: context.recovery,
    transactions: shown.map((x) => ({ ...entrySummary(x), fate: fateOf(x, context.check), violating: violating.has(x.id) })),
    transactionsNotShown: all.length - shown.length,
    flushes: kept.map((f) => ({ atUs: f.atUs, startLsn: f.startLsn, endLsn: f.endLsn, ...(f.socket === undefined ? {} : { socket: f.socket }) })),
    flushesNotShown: flushes.length - kept.length,
  };
  if (snapshot !== undefined) Object.assign(timeline, { crashAtUs: snapshot.atUs, placedLsn: snapshot.placedLsn, durableLsn: snapshot.durableLsn });
  return timeline;
}

function fateOf(e: LedgerEntry, check: CheckContext['check']): TransactionFate {
  if (e.readOnly) return 'read-only';
  if (e.logPosition === undefined) return 'not-logged';
  if (check?.keptIds?.has(e.id)) return 'survived';
  if (check?.lostIds?.has(e.id)) return 'lost';
  return 'unknown';
}

function stopMessage(s: Settings, tally: Tally, started: number): string {
  const reached = `violationsMax (--max-violations) ${s.violationsMax} reached with ${tally.violations.length} violation(s) found`;
  if (s.options.exhaustive) {
    return `stopped early: ${reached}; ${tally.scenarios} of the ${tally.crashPointsPlanned} crash points counted were tried, in ${started} of ${s.runs} workload(s)`;
  }
  const notRun = s.runs - started;
  return (
    `stopped early: ${reached}; ${started} of ${s.runs} scenarios were run` +
    (notRun > 0 ? `, the other ${notRun} were not` : '') +
    (tally.crashesSkipped > 0 ? `, and ${tally.crashesSkipped} crash(es) of a scenario run were skipped` : '')
  );
}

/** The one line that replays `runs` scenarios from `seed` (a custom workload is named, not printed). */
export function replayCommand(s: Settings, seed: number, runs: number, crashAt?: number): string {
  const o = s.options;
  const disk = o.machine?.disk;
  if (s.customWorkload || o.crashWindowUs !== undefined || (disk !== undefined && typeof disk !== 'string')) {
    const fields = [`mode: '${s.mode}'`, `seed: ${seed}`, `runs: ${runs}`];
    if (s.faults.size > 0) fields.push(`faults: [${[...s.faults].map((f) => `'${f}'`).join(', ')}]`);
    if (s.crashModel !== 'random') fields.push(`crashModel: '${s.crashModel}'`);
    if (o.exhaustive) fields.push('exhaustive: true');
    if (crashAt !== undefined) fields.push(`crashPoint: ${crashAt}`);
    if (o.violationsMax !== undefined) fields.push(`violationsMax: ${o.violationsMax}`);
    return `crashTest({ ${fields.join(', ')}, ...the same workload, config and machine })`;
  }
  const parts = ['motsim crash-test', `--mode ${s.mode}`, `--seed ${seed}`, `--runs ${runs}`];
  if (s.faults.size > 0) parts.push(`--faults ${[...s.faults].join(',')}`);
  if (o.faultProbability !== undefined) parts.push(`--fault-probability ${o.faultProbability}`);
  if (s.crashModel !== 'random') parts.push(`--crash-model ${s.crashModel}`);
  if (o.crashesPerScenario !== undefined) parts.push(`--crashes ${o.crashesPerScenario}`);
  if (o.machine?.sockets !== undefined) parts.push(`--sockets ${o.machine.sockets}`);
  if (o.machine?.coresPerSocket !== undefined) parts.push(`--cores-per-socket ${o.machine.coresPerSocket}`);
  if (disk !== undefined) parts.push(`--disk ${disk}`);
  for (const [k, v] of Object.entries(s.config)) parts.push(`--set ${k}=${String(v)}`);
  if (o.checkpointEveryUs !== undefined) parts.push(`--checkpoint-every-us ${o.checkpointEveryUs}`);
  if (o.exhaustive) parts.push('--exhaustive');
  if (crashAt !== undefined) parts.push(`--crash-point ${crashAt}`);
  if (o.violationsMax !== undefined) parts.push(`--max-violations ${o.violationsMax}`);
  return parts.join(' ');
}

function describe(e: unknown): string {
  if (isMotError(e)) return e.toLine();
  if (e instanceof SimHangError) return e.message;
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** The printed summary: counts, then each violation with its trace and replay command. */
export function formatCrashTestSummary(r: CrashTestSummary): string {
  const c = r.commits;
  const faults = Object.entries(r.faultsInjected)
    .filter(([kind]) => kind !== 'crash')
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const lines = [
    `crash-test: mode ${r.mode}, seed ${r.seed}${r.exhaustive ? ', exhaustive (every disk operation)' : ''}, faults ${r.faults.join(',') || 'none'}, crash model ${r.crashModel}`,
    `  ${scenariosLine(r)}, crashes ${r.crashes}, recoveries ${r.recoveries}, in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  faults injected: ${faults || 'none'}`,
    `  commits acknowledged ${c.acknowledged}, promised durable ${c.promisedDurable}, lost ${c.lost}` +
      (r.mode === 'asynchronous' ? ` (${c.lostInUnflushedWindow} inside the unflushed window, allowed)` : ' (must be 0)') +
      `, recovered though unacknowledged ${c.recoveredUnacknowledged}` +
      (c.lostToUndetectableDamage > 0 ? `, destroyed by end damage no witness covered ${c.lostToUndetectableDamage} (allowed)` : ''),
    `  corruption reported ${r.corruptionReported}, torn tails cut ${r.tornTailsCut}`,
    ...(r.workloads.thinkTime + r.workloads.tightLoop > 0 ? [`  workloads: ${r.workloads.thinkTime} with think time, ${r.workloads.tightLoop} whose sessions never yield`] : []),
    `  violations: ${r.violationsFound === r.violations.length ? r.violations.length : `${r.violationsFound} found, the first ${r.violations.length} listed (violationsMax ${r.violationsMax})`}`,
    ...(r.stoppedEarly ? [`  STOPPED EARLY: ${r.stoppedEarly.message.replace(/^stopped early: /, '')}`] : []),
  ];
  for (const v of r.violations) lines.push('', ...formatViolation(v));
  lines.push('', `seed ${r.seed}; replay: ${r.replay}`);
  return lines.join('\n');
}

/** "scenarios 20 of 20 planned", or in exhaustive mode the crash points tried of those counted. */
function scenariosLine(r: CrashTestSummary): string {
  if (r.exhaustive) return `scenarios ${r.scenarios} (one per crash point; ${r.crashPointsPlanned ?? 0} counted in ${r.runsStarted} of ${r.runsPlanned} workload(s) planned)`;
  return `scenarios ${r.runsStarted} of ${r.runsPlanned} planned`;
}

export function formatViolation(v: ViolationReport): string[] {
  return [
    `VIOLATION ${v.kind} (scenario ${v.scenario}, seed ${v.seed}, epoch ${v.epoch}${v.crashPoint === undefined ? '' : `, crash point ${v.crashPoint}`})`,
    `  ${v.message}`,
    ...v.entries.map((e) => `    ${formatEntryData(e)}`),
    `  replay: ${v.replay}`,
  ];
}

