// Arbitraries of what surrounds a workload: engine configurations (derived from the parameter table,
// within each parameter's range), machines, fault plans and crash points, and the whole scenario
// crashRecoveryProperty() plays. All shrink toward the plain case: defaults, fewer faults, earlier crashes.

import fc from 'fast-check';
import type { ConfigInput } from '../config/config.js';
import { PARAMETERS, formatValue, type ParameterSpec } from '../config/parameters.js';
import { Errors } from '../errors.js';
import { CRASH_MODELS, type CrashModel } from '../sim/faults.js';
import { LATENCY_PRESETS, type LatencyPresetName } from '../sim/latency.js';
import { CRASH_TEST_MODES, type CrashTestMode, type FaultName } from '../sim/crash-test.js';
import type { MachineSpec } from '../sim/world.js';
import { INJECTABLE_FAULTS } from './harness.js';
import { workloadArbitrary, type WorkloadArbitraryOptions, type WorkloadSpec } from './workload.js';

/**
 * Parameters configArbitrary() leaves alone unless asked (`parameters`), and why: the mode sets the
 * logging switches, the machine arbitrary the shape, a session must find a connection, the checkpoint
 * directory must exist, memory limits below a workload's needs refuse every insert, and statistics only print.
 */
export const CONFIG_EXCLUDED_BY_DEFAULT: Readonly<Record<string, string>> = {
  enable_redo_log: 'the mode decides',
  synchronous_commit: 'the mode decides',
  enable_group_commit: 'the mode decides',
  sockets: 'machineArbitrary() decides',
  cores_per_socket: 'machineArbitrary() decides',
  max_connections: 'must cover the sessions',
  checkpoint_dir: 'must name an existing directory',
  max_process_memory: 'a limit below the workload refuses every insert',
  max_mot_global_memory: 'a limit below the workload refuses every insert',
  max_mot_local_memory: 'a limit below the workload refuses every insert',
  enable_stats: 'only prints',
  print_stats_period: 'only prints',
};

/**
 * Narrower default ranges (in the parameter's unit: bytes, µs, count) where the full range costs the
 * simulator memory or time without changing what is tested: a preallocated segment or a checkpoint
 * segment is held in the simulated disk's memory, and a longer wal_writer_delay only lengthens runs.
 */
export const CONFIG_RANGES_DEFAULT: Readonly<Record<string, readonly [number, number]>> = {
  wal_segment_size: [1024 * 1024, 4 * 1024 * 1024],
  checkpoint_segsize: [16 * 1024 * 1024, 32 * 1024 * 1024],
  async_redo_buffer_size_max: [1024 * 1024, 64 * 1024 * 1024],
  // A redo buffer and its frame header must fit in a segment (wal_segment_size, 1 MB at least).
  redo_buffer_size: [64 * 1024, 512 * 1024],
  wal_writer_delay: [1000, 20_000],
  group_commit_timeout: [100, 20_000],
  group_commit_size: [2, 32],
  checkpoint_workers: [1, 8],
  checkpoint_recovery_workers: [1, 8],
};

/** Size parameters are drawn in multiples of this (see parameterArbitrary). */
export const SIZE_GRAIN_BYTES = 1024;

export interface ConfigArbitraryOptions {
  /** Parameters to vary (mot.conf names); default every parameter not in CONFIG_EXCLUDED_BY_DEFAULT. */
  parameters?: readonly string[];
  /** Ranges replacing the table's (or CONFIG_RANGES_DEFAULT's), in the parameter's unit; must lie inside the table's. */
  ranges?: Readonly<Record<string, readonly [number, number]>>;
}

/** One parameter's values within its range, written as in mot.conf ("300 us", "2 MB", "on"); shrinks toward the low end or the first value. */
export function parameterArbitrary(spec: ParameterSpec, range?: readonly [number, number]): fc.Arbitrary<string | boolean> {
  switch (spec.kind) {
    case 'bool':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.values);
    case 'int':
    case 'size':
    case 'duration': {
      const [min, max] = range ?? [spec.min, spec.max];
      if (!(Number.isInteger(min) && Number.isInteger(max) && min >= spec.min && max <= spec.max && min <= max)) {
        throw Errors.invalidArgument(`ranges.${spec.name}`, `[${min}, ${max}] is not a range of integers inside the parameter's [${spec.min}, ${spec.max}]`);
      }
      if (spec.kind !== 'size') {
        const values = fc.integer({ min, max });
        return spec.kind === 'int' ? values.map(String) : values.map((v) => formatValue(spec, v));
      }
      // Sizes in whole kilobytes: the WAL needs a segment size that is a multiple of its 512-byte
      // sector, a rule the parameter table does not state (wal_segment_size = 1048577 bytes passes
      // resolveConfig, then Engine.open refuses it).
      const kbMin = Math.ceil(min / SIZE_GRAIN_BYTES);
      const kbMax = Math.floor(max / SIZE_GRAIN_BYTES);
      if (kbMin > kbMax) throw Errors.invalidArgument(`ranges.${spec.name}`, `[${min}, ${max}] holds no whole kilobyte`);
      return fc.integer({ min: kbMin, max: kbMax }).map((kb) => formatValue(spec, kb * SIZE_GRAIN_BYTES));
    }
    default:
      throw Errors.invalidArgument('parameters', `"${spec.name}" (${spec.kind}) has no range to draw from`);
  }
}

/**
 * A configuration: a subset of the parameters (each left out shrinks to the default), each within
 * its range from src/config/parameters.ts, as mot.conf text.
 */
export function configArbitrary(options: ConfigArbitraryOptions = {}): fc.Arbitrary<ConfigInput> {
  const names = options.parameters ?? PARAMETERS.filter((p) => !(p.name in CONFIG_EXCLUDED_BY_DEFAULT) && p.kind !== 'string' && p.kind !== 'size-or-percent').map((p) => p.name);
  for (const name of Object.keys(options.ranges ?? {})) {
    if (!names.includes(name)) throw Errors.invalidArgument('ranges', `"${name}" is not among the parameters varied (${names.join(', ')})`);
  }
  const model: Record<string, fc.Arbitrary<string | boolean>> = {};
  for (const name of names) {
    const spec = PARAMETERS.find((p) => p.name === name);
    if (!spec) throw Errors.invalidArgument('parameters', `"${name}" is not a mot.conf parameter`);
    model[name] = parameterArbitrary(spec, options.ranges?.[name] ?? CONFIG_RANGES_DEFAULT[name]);
  }
  return fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<ConfigInput>;
}

export interface MachineArbitraryOptions {
  socketsMax?: number;
  coresPerSocketMax?: number;
  /** Disk presets to draw from (default all). */
  disks?: readonly LatencyPresetName[];
  /** Crash models to draw from (default all). */
  crashModels?: readonly CrashModel[];
}

/** A machine: sockets, cores per socket, a disk preset and a crash model (shrinks toward 1 x 1, the first preset). */
export function machineArbitrary(options: MachineArbitraryOptions = {}): fc.Arbitrary<Omit<MachineSpec, 'faults'>> {
  const socketsMax = options.socketsMax ?? 2;
  const coresMax = options.coresPerSocketMax ?? 2;
  if (!(Number.isInteger(socketsMax) && socketsMax >= 1 && socketsMax <= 64)) throw Errors.invalidArgument('socketsMax', `${socketsMax} is not an integer from 1 to 64`);
  if (!(Number.isInteger(coresMax) && coresMax >= 1 && coresMax <= 1024)) throw Errors.invalidArgument('coresPerSocketMax', `${coresMax} is not an integer from 1 to 1024`);
  const disks = options.disks ?? (Object.keys(LATENCY_PRESETS) as LatencyPresetName[]);
  for (const d of disks) if (!(d in LATENCY_PRESETS)) throw Errors.invalidArgument('disks', `"${d}" is not one of ${Object.keys(LATENCY_PRESETS).join(', ')}`);
  const models = options.crashModels ?? CRASH_MODELS;
  for (const m of models) if (!CRASH_MODELS.includes(m)) throw Errors.invalidArgument('crashModels', `"${m}" is not one of ${CRASH_MODELS.join(', ')}`);
  if (disks.length === 0) throw Errors.invalidArgument('disks', 'lists no preset');
  if (models.length === 0) throw Errors.invalidArgument('crashModels', 'lists no crash model');
  return fc.record({
    sockets: fc.integer({ min: 1, max: socketsMax }),
    coresPerSocket: fc.integer({ min: 1, max: coresMax }),
    disk: fc.constantFrom(...disks),
    crashModel: fc.constantFrom(...models),
  });
}

/** One fault of a plan: injected when the run starts, with its chance per opportunity. */
export interface FaultInjection {
  fault: FaultName;
  probability: number;
}

export interface FaultPlanArbitraryOptions {
  /** Faults to draw from (default every fault: FAULT_NAMES). */
  faults?: readonly FaultName[];
  /** Faults in one plan, at most (default 3). */
  faultsMax?: number;
}

/** A fault plan: distinct faults, each with probability 1, 0.5 or 0.1 (shrinks toward no fault, then toward 1). */
export function faultPlanArbitrary(options: FaultPlanArbitraryOptions = {}): fc.Arbitrary<FaultInjection[]> {
  const faults = options.faults ?? INJECTABLE_FAULTS;
  for (const f of faults) if (!INJECTABLE_FAULTS.includes(f)) throw Errors.invalidArgument('faults', `"${f}" is not one of ${INJECTABLE_FAULTS.join(', ')}`);
  const faultsMax = options.faultsMax ?? 3;
  if (!(Number.isInteger(faultsMax) && faultsMax >= 0)) throw Errors.invalidArgument('faultsMax', `${faultsMax} is not an integer >= 0`);
  if (faults.length === 0 || faultsMax === 0) return fc.constant([]);
  return fc.uniqueArray(fc.record({ fault: fc.constantFrom(...faults), probability: fc.constantFrom(1, 0.5, 0.1) }), { maxLength: faultsMax, selector: (f) => f.fault });
}

/**
 * Where the (last) crash comes: at a virtual time after the workload starts, or just before the
 * `index`-th disk operation after it starts (ALICE / CrashMonkey style). If the workload never gets
 * there, the crash comes once it has finished and its commits have settled.
 */
export type CrashPoint = { kind: 'time'; atUs: number } | { kind: 'operation'; index: number };

export interface CrashPointArbitraryOptions {
  /** Latest crash time, µs after the workload starts (default 5000). */
  atUsMax?: number;
  /** Highest disk operation index (default 200). */
  operationMax?: number;
}

export function crashPointArbitrary(options: CrashPointArbitraryOptions = {}): fc.Arbitrary<CrashPoint> {
  const atUsMax = options.atUsMax ?? 5000;
  const operationMax = options.operationMax ?? 200;
  if (!(Number.isInteger(atUsMax) && atUsMax >= 0)) throw Errors.invalidArgument('atUsMax', `${atUsMax} is not an integer number of µs >= 0`);
  if (!(Number.isInteger(operationMax) && operationMax >= 0)) throw Errors.invalidArgument('operationMax', `${operationMax} is not an integer >= 0`);
  return fc.oneof(
    fc.integer({ min: 0, max: atUsMax }).map((atUs): CrashPoint => ({ kind: 'time', atUs })),
    fc.integer({ min: 0, max: operationMax }).map((index): CrashPoint => ({ kind: 'operation', index })),
  );
}

/** Everything one crash-recovery run depends on: replaying it needs nothing else. */
export interface Scenario {
  /** Seed of the simulated world (disk latencies, crash outcomes, fault draws). */
  seed: number;
  mode: CrashTestMode;
  workload: WorkloadSpec;
  config: ConfigInput;
  machine: Omit<MachineSpec, 'faults'>;
  faults: FaultInjection[];
  crash: CrashPoint;
}

/** For each part of a scenario: a fixed value, or an arbitrary (default: the arbitraries above with their defaults). */
export interface ScenarioArbitraryOptions {
  mode?: CrashTestMode | fc.Arbitrary<CrashTestMode>;
  workload?: WorkloadArbitraryOptions | fc.Arbitrary<WorkloadSpec>;
  config?: ConfigInput | fc.Arbitrary<ConfigInput>;
  machine?: Omit<MachineSpec, 'faults'> | fc.Arbitrary<Omit<MachineSpec, 'faults'>>;
  faults?: readonly FaultInjection[] | fc.Arbitrary<FaultInjection[]>;
  crash?: CrashPoint | fc.Arbitrary<CrashPoint>;
}

const orConstant = <T>(v: T | fc.Arbitrary<T> | undefined, fallback: () => fc.Arbitrary<T>): fc.Arbitrary<T> =>
  v === undefined ? fallback() : v instanceof fc.Arbitrary ? v : fc.constant(v);

/**
 * A whole scenario. Unless told otherwise: any mode, the default workload arbitrary, a configuration
 * from configArbitrary(), a 2 x 2 nvme machine whose crash model is drawn, no faults, any crash point.
 */
export function scenarioArbitrary(options: ScenarioArbitraryOptions = {}): fc.Arbitrary<Scenario> {
  if (typeof options.mode === 'string' && !CRASH_TEST_MODES.includes(options.mode)) {
    throw Errors.invalidArgument('mode', `"${options.mode}" is not one of ${CRASH_TEST_MODES.join(', ')}`);
  }
  const workload = options.workload instanceof fc.Arbitrary ? options.workload : workloadArbitrary(options.workload ?? {});
  return fc.record({
    seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
    mode: orConstant(options.mode, () => fc.constantFrom(...CRASH_TEST_MODES)),
    workload,
    config: orConstant(options.config, () => configArbitrary()),
    machine: orConstant(options.machine, () => fc.constantFrom(...CRASH_MODELS).map((crashModel) => ({ sockets: 2, coresPerSocket: 2, disk: 'nvme' as const, crashModel }))),
    faults: orConstant(options.faults as FaultInjection[] | fc.Arbitrary<FaultInjection[]> | undefined, () => fc.constant([])),
    crash: orConstant(options.crash, () => crashPointArbitrary()),
  });
}
