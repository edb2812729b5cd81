// Engine configuration: resolves mot.conf text or an object into a checked EngineConfig. Unknown names
// and unreadable values are errors; out-of-range values keep the default with a warning, as MOT does.
// One rule for every parameter: the form of a value decides whether it is readable (units.ts), its
// value only whether it is in range, so a negative size or a number above 2^53 warns like any other.

import { readFile } from 'node:fs/promises';
import { Errors, MotError, assert, describeCause } from '../errors.js';
import {
  PARAMETERS,
  closestParameterName,
  decodeValue,
  describeRange,
  findParameter,
  formatValue,
  inRange,
  type ParameterSpec,
  type ParameterValue,
} from './parameters.js';
import { formatSize, type SizeOrPercent } from './units.js';

export type { WalFlusher, AffinityMode, LoggingMode, EngineConfig } from './engine-config.js';
import type { EngineConfig, LoggingMode, WalFlusher } from './engine-config.js';

export interface ConfigWarning {
  parameter: string;
  message: string;
}

export interface ResolvedConfig {
  config: EngineConfig;
  warnings: ConfigWarning[];
}

/** Keyed by mot.conf names (snake_case) or EngineConfig field names (camelCase). */
export type ConfigInput = Partial<Record<string, string | number | boolean>>;

/** One `name = value` setting and where it came from ("mot.conf:12"), for messages. */
interface Setting {
  key: string;
  value: string | number | boolean;
  where: string;
}

/** Decoded values by parameter: the defaults, overlaid with accepted settings. */
type Chosen = Map<ParameterSpec, ParameterValue>;

export function defaultConfig(): EngineConfig {
  return buildConfig(defaultValues());
}

/** Resolves an object of settings; numbers for sizes and durations are bare numbers. */
export function resolveConfig(input: ConfigInput = {}, source = 'configuration object'): ResolvedConfig {
  const settings: Setting[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined) settings.push({ key, value, where: source });
  }
  return resolveSettings(settings);
}

/** Resolves mot.conf text: `name = value` lines, `#` comments, quoted values, blank lines. */
export function parseMotConf(text: string, source: string): ResolvedConfig {
  const settings: Setting[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const setting = parseConfLine(line, `${source}:${index + 1}`);
    if (setting !== undefined) settings.push(setting);
  });
  return resolveSettings(settings);
}

/**
 * Read and resolve a mot.conf file. `readText` reads it (default: node:fs, for the command line's
 * tools); the engine passes its injected Disk's, so a simulated engine reads its simulated disk.
 */
export async function loadMotConf(path: string, readText: (path: string) => Promise<string> = (p) => readFile(p, 'utf8')): Promise<ResolvedConfig> {
  let text: string;
  try {
    text = await readText(path);
  } catch (cause) {
    throw configFileError(`could not read configuration file "${path}": ${describeCause(cause)}`, cause);
  }
  return parseMotConf(text, path);
}

/** The flusher actually used: `auto` resolves by mode (measured; see docs/architecture.md). */
export function effectiveFlusher(c: EngineConfig): Exclude<WalFlusher, 'auto'> {
  if (c.walFlusher !== 'auto') return c.walFlusher;
  const mode = loggingMode(c);
  // Asynchronous: nobody waits for the flush, so it must not block the main thread (committer), and
  // the first flush after opening must not wait for a worker thread to start (socket-threads):
  // libuv's thread pool has neither cost (docs/architecture.md, "Threads").
  if (mode === 'asynchronous') return 'thread-pool';
  return mode === 'synchronous' ? 'committer' : 'socket-threads';
}

export function loggingMode(c: EngineConfig): LoggingMode {
  if (!c.enableRedoLog) return 'off';
  if (!c.synchronousCommit) return 'asynchronous';
  return c.enableGroupCommit ? 'group' : 'synchronous';
}

/** mot.conf name -> value with unit ("group_commit_timeout" -> "10 ms"), for printing. */
export function describeConfig(c: EngineConfig): Record<string, string> {
  const described: Record<string, string> = {};
  for (const spec of PARAMETERS) {
    const value = c[spec.field];
    described[spec.name] = spec.kind === 'size-or-percent' ? formatSize(value as number) : formatValue(spec, value);
  }
  return described;
}

// ---- mot.conf lines ----

const LINE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$/;

/** One line of mot.conf: a setting, or undefined for a blank or comment line. */
function parseConfLine(line: string, where: string): Setting | undefined {
  if (/^\s*(#.*)?$/.test(line)) return undefined;
  const match = LINE.exec(line);
  const value = match ? parseConfValue(match[2]) : undefined;
  if (match === null || value === undefined) {
    throw configFileError(`syntax error in ${where}: expected "name = value", got "${line.trim()}"`);
  }
  return { key: match[1], value, where };
}

/** A value, quoted ('...' or "...", a doubled quote escapes it) or bare, then an optional # comment. */
function parseConfValue(rest: string): string | undefined {
  const quoted = /^(['"])((?:(?!\1).|\1\1)*)\1\s*(#.*)?$/.exec(rest);
  if (quoted) return quoted[2].split(quoted[1] + quoted[1]).join(quoted[1]);
  const bare = /^([^'"#\s](?:[^'"#]*[^'"#\s])?)\s*(#.*)?$/.exec(rest);
  return bare ? bare[1] : undefined;
}

function configFileError(message: string, cause?: unknown): MotError {
  return new MotError({
    code: 'MOT_ERROR_INVALID_CFG',
    rc: 'RC_ERROR',
    sqlstate: 'config_file_error',
    message,
    cause,
  });
}

// ---- resolution ----

function resolveSettings(settings: Setting[]): ResolvedConfig {
  const warnings: ConfigWarning[] = [];
  const chosen = defaultValues();
  const setAt = new Map<ParameterSpec, string>();
  for (const setting of settings) {
    const spec = lookup(setting);
    const previous = setAt.get(spec);
    if (previous !== undefined) warnings.push(repeatWarning(spec, previous, setting.where));
    setAt.set(spec, setting.where);
    const value = decode(spec, setting);
    const accepted = inRange(spec, value);
    chosen.set(spec, accepted ? value : defaultValue(spec));
    if (!accepted) warnings.push(rangeWarning(spec, setting, value));
  }
  const config = buildConfig(chosen);
  warnings.push(...combinationWarnings(config));
  return { config, warnings };
}

function lookup(setting: Setting): ParameterSpec {
  const spec = findParameter(setting.key);
  if (spec !== undefined) return spec;
  const closest = closestParameterName(setting.key);
  const hint = closest === undefined ? '' : `; did you mean "${closest}"?`;
  throw Errors.invalidConfig(setting.key, `unknown parameter (in ${setting.where})${hint}`);
}

function decode(spec: ParameterSpec, setting: Setting): ParameterValue {
  const parsed = decodeValue(spec, setting.value, setting.key === spec.field);
  if (parsed.ok) return parsed.value;
  const shown = typeof setting.value === 'string' ? `"${setting.value}"` : String(setting.value);
  const reason = `value ${shown} (in ${setting.where}) is not valid: expected ${parsed.expected}`;
  throw Errors.invalidConfig(spec.name, reason);
}

function rangeWarning(spec: ParameterSpec, setting: Setting, value: ParameterValue): ConfigWarning {
  const raw = String(setting.value);
  // Beyond 2^53 the decoded number is +-Infinity: show only what was written.
  const n = typeof value === 'number' ? value : typeof value === 'object' && value.kind === 'bytes' ? value.bytes : 0;
  const exact = Number.isSafeInteger(n);
  const given = exact ? formatValue(spec, value) : raw;
  const sameText = raw.replace(/\s/g, '').toLowerCase() === given.replace(/\s/g, '').toLowerCase();
  const shown = sameText ? given : `${raw} (${given})`;
  const kept = formatValue(spec, defaultValue(spec));
  return {
    parameter: spec.name,
    message:
      `${setting.where}: ${spec.name} = ${shown} is out of range ${describeRange(spec)}; ` +
      `using the default ${kept}`,
  };
}

function repeatWarning(spec: ParameterSpec, previous: string, where: string): ConfigWarning {
  const message = `${spec.name} is set in ${previous} and again in ${where}; the last one is used`;
  return { parameter: spec.name, message };
}

// ---- building the config ----

const DEFAULT_VALUES: ReadonlyMap<ParameterSpec, ParameterValue> = new Map(
  PARAMETERS.map((spec) => [spec, decodeDefault(spec)]),
);

function decodeDefault(spec: ParameterSpec): ParameterValue {
  const parsed = decodeValue(spec, spec.default);
  assert(parsed.ok, `default of ${spec.name} does not parse: ${spec.default}`);
  assert(inRange(spec, parsed.value), `default of ${spec.name} is out of range: ${spec.default}`);
  return parsed.value;
}

function defaultValue(spec: ParameterSpec): ParameterValue {
  const value = DEFAULT_VALUES.get(spec);
  assert(value !== undefined, `parameter ${spec.name} has no default`);
  return value;
}

function defaultValues(): Chosen {
  return new Map(DEFAULT_VALUES);
}

/** Writes every chosen value into its field; percentages are taken of max_process_memory. */
function buildConfig(chosen: Chosen): EngineConfig {
  const fields: Record<string, ParameterValue> = {};
  for (const spec of PARAMETERS) {
    if (spec.kind !== 'size-or-percent') fields[spec.field] = defaultOr(chosen, spec);
  }
  const processBytes = fields.maxProcessMemoryBytes as number;
  for (const spec of PARAMETERS) {
    if (spec.kind !== 'size-or-percent') continue;
    fields[spec.field] = toBytes(defaultOr(chosen, spec) as SizeOrPercent, processBytes);
  }
  return fields as unknown as EngineConfig;
}

function defaultOr(chosen: Chosen, spec: ParameterSpec): ParameterValue {
  return chosen.get(spec) ?? defaultValue(spec);
}

/** Bytes of a size-or-percent value; a percentage is rounded down, as MOT does. */
function toBytes(value: SizeOrPercent, processBytes: number): number {
  return value.kind === 'bytes' ? value.bytes : Math.floor((processBytes * value.percent) / 100);
}

// ---- sanity of combinations ----

function combinationWarnings(c: EngineConfig): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const warn = (parameter: string, message: string): void => {
    warnings.push({ parameter, message: `${parameter}: ${message}` });
  };
  if (c.enableGroupCommit && !c.enableRedoLog) {
    warn('enable_group_commit', 'has no effect because enable_redo_log is false (no redo log is written)');
  } else if (c.enableGroupCommit && !c.synchronousCommit) {
    warn('enable_group_commit', 'is meaningful only with synchronous_commit on; commits will be asynchronous');
  }
  const redo = `redo_buffer_size (${formatSize(c.redoBufferBytes)})`;
  if (c.asyncRedoBufferBytesMax < c.redoBufferBytes) {
    warn('async_redo_buffer_size_max', `${formatSize(c.asyncRedoBufferBytesMax)} is smaller than ${redo}`);
  }
  if (c.walSegmentBytes < c.redoBufferBytes) {
    warn('wal_segment_size', `${formatSize(c.walSegmentBytes)} is smaller than ${redo}`);
  }
  const motBytes = c.maxMotGlobalMemoryBytes + c.maxMotLocalMemoryBytes;
  if (motBytes > c.maxProcessMemoryBytes) {
    const process = `max_process_memory (${formatSize(c.maxProcessMemoryBytes)})`;
    warn('max_mot_global_memory', `plus max_mot_local_memory is ${formatSize(motBytes)}, more than ${process}`);
  }
  return warnings;
}
