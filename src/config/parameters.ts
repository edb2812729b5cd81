// The table of every configuration parameter (mot.conf / postgresql.conf spelling, kind, default,
// range, unit of a bare number, EngineConfig field, documentation) and how one value is read and checked.

import type { AffinityMode, EngineConfig } from './engine-config.js';
import {
  formatDurationUs,
  formatSize,
  parseBoolean,
  parseDurationUs,
  parseInteger,
  parseSizeBytes,
  parseSizeOrPercent,
  type DurationUnit,
  type Parsed,
  type SizeOrPercent,
  type SizeUnit,
} from './units.js';

export type ParameterKind = 'bool' | 'int' | 'size' | 'duration' | 'enum' | 'string' | 'size-or-percent';
/** Where the parameter comes from: MOT's mot.conf, openGauss's postgresql.conf, or motsim alone. */
export type ParameterOrigin = 'mot.conf' | 'postgresql.conf' | 'motsim';

type FieldOf<T> = { [K in keyof EngineConfig]: EngineConfig[K] extends T ? K : never }[keyof EngineConfig];
type BoolField = FieldOf<boolean>;
type NumberField = FieldOf<number>;

interface ParameterCommon {
  /** mot.conf / postgresql.conf spelling. */
  name: string;
  origin: ParameterOrigin;
  /** The default, written as it would be in mot.conf (decoded by the same code as user values). */
  default: string;
  /** One line: what the parameter does. */
  doc: string;
}
export interface BoolParameter extends ParameterCommon {
  kind: 'bool';
  field: BoolField;
  /** Further words read as true (postgresql.conf's synchronous_commit levels). */
  trueAliases?: readonly string[];
  /** How true and false are printed; 'true'/'false' unless given. */
  spelling?: readonly [string, string];
}
export interface IntParameter extends ParameterCommon {
  kind: 'int';
  field: NumberField;
  min: number;
  max: number;
}
export interface SizeParameter extends ParameterCommon {
  kind: 'size';
  field: NumberField;
  /** Bounds in bytes. */
  min: number;
  max: number;
  bareUnit: SizeUnit;
  /** 0 is accepted outside [min, max] and means "off". */
  zeroMeansOff?: boolean;
  /** The value must be a multiple of this many bytes (a file format's unit); else it is out of range. */
  multipleOf?: number;
}
export interface DurationParameter extends ParameterCommon {
  kind: 'duration';
  field: NumberField;
  /** Bounds in microseconds. */
  min: number;
  max: number;
  bareUnit: DurationUnit;
  zeroMeansOff?: boolean;
}
export interface EnumParameter extends ParameterCommon {
  kind: 'enum';
  field: 'affinityMode' | 'walFlusher';
  values: readonly string[];
}
export interface StringParameter extends ParameterCommon {
  kind: 'string';
  field: 'checkpointDir';
}
export interface SizeOrPercentParameter extends ParameterCommon {
  kind: 'size-or-percent';
  field: NumberField;
  /** Bounds of an absolute value, in bytes. */
  min: number;
  max: number;
  bareUnit: SizeUnit;
  minPercent: number;
  maxPercent: number;
  /** The parameter a percentage is taken of. */
  percentOf: 'max_process_memory';
}
export type ParameterSpec =
  | BoolParameter
  | IntParameter
  | SizeParameter
  | DurationParameter
  | EnumParameter
  | StringParameter
  | SizeOrPercentParameter;

/** A decoded value: boolean, number (count, bytes or microseconds), string, or size-or-percent. */
export type ParameterValue = boolean | number | string | SizeOrPercent;

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;
const TB = 1024 * GB;
const MS_US = 1000;
const S_US = 1000 * MS_US;
const MIN_US = 60 * S_US;
const DAY_US = 24 * 60 * MIN_US;

export const PARAMETERS: readonly ParameterSpec[] = [
  // ---- Redo log and commit ----
  { name: 'enable_redo_log', kind: 'bool', field: 'enableRedoLog', default: 'true', origin: 'mot.conf',
    doc: 'Write a redo log (WAL) at commit; false turns logging off and with it all durability.' },
  { name: 'synchronous_commit', kind: 'bool', field: 'synchronousCommit', default: 'on', origin: 'postgresql.conf',
    trueAliases: ['local', 'remote_write', 'remote_apply', 'remote_receive'], spelling: ['on', 'off'],
    doc: 'on: a commit returns once its redo is on disk; off: asynchronous logging (the unflushed tail can be lost).' },
  { name: 'enable_group_commit', kind: 'bool', field: 'enableGroupCommit', default: 'false', origin: 'mot.conf',
    doc: 'Group synchronous commit: one write and one flush per per-socket group of committers.' },
  { name: 'group_commit_size', kind: 'int', field: 'groupCommitSize', default: '16', origin: 'mot.conf',
    min: 2, max: 1000, doc: 'A commit group is written once it holds this many transactions.' },
  { name: 'group_commit_timeout', kind: 'duration', field: 'groupCommitTimeoutUs', default: '10 ms',
    origin: 'mot.conf', min: 100, max: 200 * MS_US, bareUnit: 'us',
    doc: 'A commit group is written at the latest this long after it opened.' },
  { name: 'wal_writer_delay', kind: 'duration', field: 'walWriterDelayUs', default: '200 ms',
    origin: 'postgresql.conf', min: MS_US, max: 10 * S_US, bareUnit: 'ms',
    doc: 'Interval of the background flush behind asynchronous commit (loss window: up to 3x this while the disk keeps up; a commit waits while an acknowledged one older than 2x this is not yet durable).' },
  { name: 'async_redo_buffer_size_max', kind: 'size', field: 'asyncRedoBufferBytesMax', default: '64 MB',
    origin: 'motsim', min: MB, max: 4 * GB, bareUnit: 'bytes',
    doc: 'Bound on redo buffered in asynchronous mode; committers wait (back-pressure) beyond it.' },
  { name: 'redo_buffer_size', kind: 'size', field: 'redoBufferBytes', default: '1 MB', origin: 'motsim',
    min: 64 * KB, max: 16 * MB, bareUnit: 'bytes',
    doc: "A transaction's redo buffer; a bigger transaction is written as partial records." },
  { name: 'wal_segment_size', kind: 'size', field: 'walSegmentBytes', default: '16 MB', origin: 'motsim',
    min: MB, max: GB, bareUnit: 'bytes', multipleOf: 512, doc: 'Size of one WAL segment file (whole 512-byte sectors).' },
  { name: 'wal_preallocate', kind: 'bool', field: 'walPreallocate', default: 'true', origin: 'motsim',
    doc: 'Allocate a WAL segment at its full size when it is created, so appends never grow the file.' },
  { name: 'wal_flusher', kind: 'enum', field: 'walFlusher', default: 'auto', origin: 'motsim',
    values: ['auto', 'committer', 'thread-pool', 'socket-threads'],
    doc: 'Which thread writes and flushes redo on the real disk: the committing thread itself (no thread hop), libuv\'s thread pool, or one pinned piscina worker per simulated socket; auto = committer in synchronous mode, socket-threads in group mode, thread-pool in asynchronous mode. See docs/architecture.md for what each costs here.' },
  // ---- Checkpoint and recovery ----
  { name: 'checkpoint_dir', kind: 'string', field: 'checkpointDir', default: '', origin: 'mot.conf',
    doc: "Directory of checkpoints; empty means the data directory. Must exist (checked by the engine)." },
  { name: 'checkpoint_segsize', kind: 'size', field: 'checkpointSegmentBytes', default: '16 MB',
    origin: 'mot.conf', min: 16 * MB, max: 512 * MB, bareUnit: 'bytes',
    doc: 'Maximum size of one checkpoint data segment file.' },
  { name: 'checkpoint_workers', kind: 'int', field: 'checkpointWorkers', default: '3', origin: 'mot.conf',
    min: 1, max: 1024,
    doc: "Workers writing a checkpoint: at most this many threads, never more than the machine's cores (os.availableParallelism(); in the simulator its sockets x cores_per_socket) nor than segments waiting to be sealed; threads start on demand." },
  { name: 'checkpoint_recovery_workers', kind: 'int', field: 'checkpointRecoveryWorkers', default: '3',
    origin: 'mot.conf', min: 1, max: 1024,
    doc: "Workers loading checkpoint segments at recovery: at most this many, never more than the cores nor than the checkpoint's segments." },
  { name: 'checkpoint_interval', kind: 'duration', field: 'checkpointIntervalUs', default: '5 min',
    origin: 'motsim', min: S_US, max: DAY_US, bareUnit: 'us', zeroMeansOff: true,
    doc: 'Time between automatic checkpoints; 0 turns time-triggered checkpoints off.' },
  { name: 'checkpoint_wal_size_max', kind: 'size', field: 'checkpointWalBytesMax', default: '1 GB',
    origin: 'motsim', min: MB, max: TB, bareUnit: 'bytes', zeroMeansOff: true,
    doc: 'A checkpoint starts when the WAL since the last one exceeds this; 0 turns this trigger off.' },
  // ---- Statistics ----
  { name: 'enable_stats', kind: 'bool', field: 'enableStats', default: 'false', origin: 'mot.conf',
    doc: 'Collect and periodically print statistics.' },
  { name: 'print_stats_period', kind: 'duration', field: 'printStatsPeriodUs', default: '1 min',
    origin: 'mot.conf', min: S_US, max: DAY_US, bareUnit: 'us', doc: 'Interval between statistics reports.' },
  // ---- Machine shape ----
  { name: 'enable_numa', kind: 'bool', field: 'enableNuma', default: 'true', origin: 'mot.conf',
    doc: 'NUMA-aware placement; false puts every session and all memory on node 0.' },
  { name: 'affinity_mode', kind: 'enum', field: 'affinityMode', default: 'fill-physical-first', origin: 'mot.conf',
    values: ['fill-physical-first', 'fill-socket-first', 'equal-per-socket', 'none'],
    doc: 'How sessions are bound to cores, and so to sockets.' },
  { name: 'sockets', kind: 'int', field: 'sockets', default: '2', origin: 'motsim', min: 1, max: 64,
    doc: 'Simulated NUMA sockets (nodes).' },
  { name: 'cores_per_socket', kind: 'int', field: 'coresPerSocket', default: '4', origin: 'motsim',
    min: 1, max: 1024, doc: 'Simulated cores per socket.' },
  { name: 'max_connections', kind: 'int', field: 'maxConnections', default: '200', origin: 'motsim',
    min: 1, max: 100_000, doc: 'Concurrent sessions; one more gets "too many clients".' },
  // ---- Memory ----
  { name: 'max_process_memory', kind: 'size', field: 'maxProcessMemoryBytes', default: '12 GB',
    origin: 'postgresql.conf', min: 256 * MB, max: TB, bareUnit: 'bytes',
    doc: 'Memory of the whole database process; MOT percentages are taken of it.' },
  { name: 'max_mot_global_memory', kind: 'size-or-percent', field: 'maxMotGlobalMemoryBytes', default: '80%',
    origin: 'mot.conf', min: MB, max: TB, bareUnit: 'bytes', minPercent: 1, maxPercent: 100,
    percentOf: 'max_process_memory', doc: 'Limit of MOT global (table and index) memory.' },
  { name: 'max_mot_local_memory', kind: 'size-or-percent', field: 'maxMotLocalMemoryBytes', default: '15%',
    origin: 'mot.conf', min: MB, max: TB, bareUnit: 'bytes', minPercent: 1, maxPercent: 100,
    percentOf: 'max_process_memory', doc: 'Limit of MOT local (session) memory.' },
];

/** The parameter named `key`: a mot.conf name (any case) or an EngineConfig field name. */
export function findParameter(key: string): ParameterSpec | undefined {
  const lower = key.toLowerCase();
  return PARAMETERS.find((p) => p.name === lower || p.field === key);
}

/** The known mot.conf name closest to a misspelt key, if one is close enough to be a likely typo. */
export function closestParameterName(key: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const p of PARAMETERS) {
    const distance = Math.min(editDistance(key.toLowerCase(), p.name), editDistance(key, p.field));
    if (best === undefined || distance < best.distance) best = { name: p.name, distance };
  }
  const tolerance = Math.max(2, Math.floor(key.length / 3));
  return best !== undefined && best.distance <= tolerance ? best.name : undefined;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Reads one raw value. `inFieldUnit`: the key was the EngineConfig field name, so a bare number is
 * in the unit that name carries (Us, Bytes) rather than the parameter's documented bare unit.
 */
export function decodeValue(
  spec: ParameterSpec,
  raw: string | number | boolean,
  inFieldUnit = false,
): Parsed<ParameterValue> {
  if (spec.kind === 'bool') return decodeBool(spec, raw);
  if (spec.kind === 'enum') return decodeEnum(spec, raw);
  if (spec.kind === 'string') return typeof raw === 'string' ? ok(raw) : fail('a string (a directory path)');
  if (typeof raw === 'boolean') return fail(expectedOf(spec));
  if (typeof raw === 'number' && Number.isNaN(raw)) return fail(expectedOf(spec));
  if (typeof raw === 'number' && !Number.isFinite(raw)) return ok(spec.kind === 'size-or-percent' ? { kind: 'bytes', bytes: raw } : raw); // out of every range
  // A number is read as its exact decimal digits: 2 ** 60 is "1152921504606846976", not "1.15e+18".
  const text = typeof raw === 'number' && Number.isInteger(raw) ? BigInt(raw).toString() : String(raw);
  if (spec.kind === 'int') return parseInteger(text);
  if (spec.kind === 'duration') return parseDurationUs(text, inFieldUnit ? 'us' : spec.bareUnit);
  const bareUnit = inFieldUnit ? 'bytes' : spec.bareUnit;
  return spec.kind === 'size' ? parseSizeBytes(text, bareUnit) : parseSizeOrPercent(text, bareUnit);
}

function decodeBool(spec: BoolParameter, raw: string | number | boolean): Parsed<ParameterValue> {
  if (typeof raw === 'boolean') return ok(raw);
  return parseBoolean(String(raw), spec.trueAliases);
}

function decodeEnum(spec: EnumParameter, raw: string | number | boolean): Parsed<ParameterValue> {
  const word = String(raw).trim().toLowerCase();
  const value = spec.values.find((v) => v === word);
  return typeof raw === 'string' && value !== undefined ? ok(value) : fail(`one of ${spec.values.join(', ')}`);
}

/** What a value of this parameter looks like, for error messages. */
function expectedOf(spec: ParameterSpec): string {
  const probe = decodeValue(spec, '?');
  return probe.ok ? 'a value' : probe.expected;
}

function ok(value: ParameterValue): Parsed<ParameterValue> {
  return { ok: true, value };
}

function fail(expected: string): Parsed<ParameterValue> {
  return { ok: false, expected };
}

/** Whether a decoded value lies in the parameter's range (kinds without a range always do). */
export function inRange(spec: ParameterSpec, value: ParameterValue): boolean {
  switch (spec.kind) {
    case 'int':
    case 'size':
    case 'duration': {
      const n = value as number;
      if (spec.kind === 'size' && spec.multipleOf !== undefined && n % spec.multipleOf !== 0) return false;
      return (n >= spec.min && n <= spec.max) || (spec.kind !== 'int' && spec.zeroMeansOff === true && n === 0);
    }
    case 'size-or-percent': {
      const v = value as SizeOrPercent;
      if (v.kind === 'percent') return v.percent >= spec.minPercent && v.percent <= spec.maxPercent;
      return v.bytes >= spec.min && v.bytes <= spec.max;
    }
    default:
      return true;
  }
}

/** The range in words, with units: "[100 us, 200 ms]", "0 (off) or [1 s, 1 d]". */
export function describeRange(spec: ParameterSpec): string {
  switch (spec.kind) {
    case 'int':
      return `[${spec.min}, ${spec.max}]`;
    case 'size':
    case 'duration': {
      const format = spec.kind === 'size' ? formatSize : formatDurationUs;
      const unit = spec.kind === 'size' && spec.multipleOf !== undefined ? `, a multiple of ${spec.multipleOf} bytes` : '';
      const range = `[${format(spec.min)}, ${format(spec.max)}]${unit}`;
      return spec.zeroMeansOff ? `0 (off) or ${range}` : range;
    }
    case 'size-or-percent': {
      const absolute = `[${formatSize(spec.min)}, ${formatSize(spec.max)}]`;
      return `[${spec.minPercent}%, ${spec.maxPercent}%] of ${spec.percentOf}, or ${absolute}`;
    }
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    default:
      return '';
  }
}

/** A decoded value as it would be written in mot.conf ("10 ms", "on", "80%"). */
export function formatValue(spec: ParameterSpec, value: ParameterValue): string {
  switch (spec.kind) {
    case 'bool': {
      const [yes, no] = spec.spelling ?? ['true', 'false'];
      return value ? yes : no;
    }
    case 'size':
      return formatSize(value as number);
    case 'duration':
      return formatDurationUs(value as number);
    case 'size-or-percent': {
      const v = value as SizeOrPercent;
      return v.kind === 'percent' ? `${v.percent}%` : formatSize(v.bytes);
    }
    default:
      return String(value);
  }
}

/** The unit of a bare number, for documentation ('' for kinds without units). */
export function bareUnitOf(spec: ParameterSpec): SizeUnit | DurationUnit | '' {
  return 'bareUnit' in spec ? spec.bareUnit : '';
}
