// Pins down the configuration module: defaults from MOT, value syntax (units), every parameter kind,
// out-of-range warnings, unknown-name and bad-value errors, mot.conf parsing, and round trips.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isMotError } from '../src/errors.js';
import { describe, expect, it } from 'vitest';
import {
  defaultConfig,
  describeConfig,
  loadMotConf,
  loggingMode,
  parseMotConf,
  resolveConfig,
  type ConfigInput,
  type EngineConfig,
} from '../src/config/config.js';
import { PARAMETERS, describeRange, type ParameterSpec } from '../src/config/parameters.js';
import {
  DURATION_UNITS,
  SIZE_UNITS,
  formatDurationUs,
  formatSize,
  parseBoolean,
  parseDurationUs,
  parseInteger,
  parsePercent,
  parseSizeBytes,
  parseSizeOrPercent,
} from '../src/config/units.js';
import { MotError } from '../src/errors.js';

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;
const TB = 1024 * GB;
const MS = 1000;
const S = 1000 * MS;
const MIN = 60 * S;

/** Runs `fn`, expecting a MotError, and returns it. */
function catchMotError(fn: () => unknown): MotError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MotError);
    return e as MotError;
  }
  throw new Error('expected a MotError, nothing was thrown');
}

describe('defaults', () => {
  it('match MOT-INTERNALS.md and the motsim choices', () => {
    expect(defaultConfig()).toEqual({
      enableRedoLog: true,
      synchronousCommit: true,
      enableGroupCommit: false,
      groupCommitSize: 16,
      groupCommitTimeoutUs: 10 * MS,
      walWriterDelayUs: 200 * MS,
      asyncRedoBufferBytesMax: 64 * MB,
      redoBufferBytes: 1 * MB,
      walSegmentBytes: 16 * MB,
      walPreallocate: true,
      walFlusher: 'auto',
      checkpointDir: '',
      checkpointSegmentBytes: 16 * MB,
      checkpointWorkers: 3,
      checkpointRecoveryWorkers: 3,
      checkpointIntervalUs: 5 * MIN,
      checkpointWalBytesMax: 1 * GB,
      enableStats: false,
      printStatsPeriodUs: 1 * MIN,
      enableNuma: true,
      affinityMode: 'fill-physical-first',
      sockets: 2,
      coresPerSocket: 4,
      maxConnections: 200,
      maxProcessMemoryBytes: 12 * GB,
      maxMotGlobalMemoryBytes: Math.floor(12 * GB * 0.8),
      maxMotLocalMemoryBytes: Math.floor(12 * GB * 0.15),
    } satisfies EngineConfig);
  });

  it('resolve with no warnings and select synchronous logging', () => {
    expect(resolveConfig()).toEqual({ config: defaultConfig(), warnings: [] });
    expect(loggingMode(defaultConfig())).toBe('synchronous');
  });

  it('come from a table that sets every EngineConfig field exactly once', () => {
    const fields = PARAMETERS.map((p) => p.field).sort();
    expect(fields).toEqual(Object.keys(defaultConfig()).sort());
    expect(new Set(PARAMETERS.map((p) => p.name)).size).toBe(PARAMETERS.length);
  });
});

describe('a size a file format cannot take is out of range, not a failure at open (found by the fast-check config arbitrary)', () => {
  it('wal_segment_size = 1048577 warns naming the parameter and keeps the default', async () => {
    const { config, warnings } = resolveConfig({ wal_segment_size: 1048577 });
    expect(config.walSegmentBytes).toBe(defaultConfig().walSegmentBytes);
    expect(warnings.map((w) => w.parameter)).toEqual(['wal_segment_size']);
    expect(warnings[0]!.message).toContain('a multiple of 512 bytes');
    expect(resolveConfig({ wal_segment_size: '2MB' }).warnings).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  it('has a row for every parameter with its default, range and origin', async () => {
    const doc = await readFile(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    for (const spec of PARAMETERS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${spec.name}\` |`));
      expect(row, spec.name).toBeDefined();
      const cells = row!.split(' | ');
      expect(cells[1], spec.name).toBe(spec.origin === 'motsim' ? '**motsim**' : spec.origin);
      expect(cells[2], spec.name).toContain(spec.default === '' ? "''" : spec.default);
      if (describeRange(spec) !== '') expect(cells[3], spec.name).toBe(describeRange(spec));
      expect(cells[6], spec.name).toBe(`\`${spec.field}\` |`);
    }
  });
});

describe('units', () => {
  it('parse sizes in every unit, any case, with or without a space', () => {
    expect(parseSizeBytes('16MB')).toEqual({ ok: true, value: 16 * MB });
    expect(parseSizeBytes('16 MB')).toEqual({ ok: true, value: 16 * MB });
    expect(parseSizeBytes('16 mb')).toEqual({ ok: true, value: 16 * MB });
    expect(parseSizeBytes('2GB')).toEqual({ ok: true, value: 2 * GB });
    expect(parseSizeBytes('1 TB')).toEqual({ ok: true, value: TB });
    expect(parseSizeBytes('64Kb')).toEqual({ ok: true, value: 64 * KB });
    expect(parseSizeBytes('100 bytes')).toEqual({ ok: true, value: 100 });
    expect(parseSizeBytes('1.5GB')).toEqual({ ok: true, value: 1.5 * GB });
    expect(parseSizeBytes(' 4096 ')).toEqual({ ok: true, value: 4096 });
    expect(parseSizeBytes('4', 'KB')).toEqual({ ok: true, value: 4 * KB });
  });

  it('reject sizes without digits, with unknown units or fractional bytes; read negative and huge ones (the range check is the caller\'s)', () => {
    expect(parseSizeBytes('-1MB')).toEqual({ ok: true, value: -MB });
    expect(parseSizeBytes('99999999999999999999 TB')).toEqual({ ok: true, value: Infinity });
    for (const bad of ['', 'MB', '16 XB', '0.5 bytes', '1e3', '16 MB MB', '0x10', '- 1MB']) {
      const parsed = parseSizeBytes(bad);
      expect(parsed.ok, bad).toBe(false);
      if (!parsed.ok) expect(parsed.expected).toContain('KB, MB, GB or TB');
    }
  });

  it('parse durations in us, ms, s, min, h, d and MOT spellings; a bare number takes the given unit', () => {
    expect(parseDurationUs('100us', 'us')).toEqual({ ok: true, value: 100 });
    expect(parseDurationUs('10 ms', 'us')).toEqual({ ok: true, value: 10 * MS });
    expect(parseDurationUs('1s', 'us')).toEqual({ ok: true, value: S });
    expect(parseDurationUs('5 MIN', 'us')).toEqual({ ok: true, value: 5 * MIN });
    expect(parseDurationUs('2h', 'us')).toEqual({ ok: true, value: 120 * MIN });
    expect(parseDurationUs('1 d', 'us')).toEqual({ ok: true, value: 1440 * MIN });
    expect(parseDurationUs('3 seconds', 'us')).toEqual({ ok: true, value: 3 * S });
    expect(parseDurationUs('1.5s', 'us')).toEqual({ ok: true, value: 1500 * MS });
    expect(parseDurationUs('250', 'us')).toEqual({ ok: true, value: 250 });
    expect(parseDurationUs('250', 'ms')).toEqual({ ok: true, value: 250 * MS });
    expect(parseDurationUs('0.5us', 'us').ok).toBe(false);
    expect(parseDurationUs('10 fortnights', 'us').ok).toBe(false);
  });

  it('parse percentages and sizes-or-percentages', () => {
    expect(parsePercent('80%')).toEqual({ ok: true, value: 80 });
    expect(parsePercent('12.5 %')).toEqual({ ok: true, value: 12.5 });
    expect(parsePercent('80').ok).toBe(false);
    expect(parseSizeOrPercent('15%')).toEqual({ ok: true, value: { kind: 'percent', percent: 15 } });
    expect(parseSizeOrPercent('2 GB')).toEqual({ ok: true, value: { kind: 'bytes', bytes: 2 * GB } });
    expect(parseSizeOrPercent('%80').ok).toBe(false);
  });

  it('parse integers and booleans', () => {
    expect(parseInteger('16')).toEqual({ ok: true, value: 16 });
    expect(parseInteger('-3')).toEqual({ ok: true, value: -3 });
    expect(parseInteger('16.5').ok).toBe(false);
    expect(parseInteger('99999999999999999999')).toEqual({ ok: true, value: Infinity });
    expect(parseInteger('-0')).toEqual({ ok: true, value: 0 });
    expect(parseInteger('sixteen').ok).toBe(false);
    for (const word of ['true', 'ON', 'yes', '1']) expect(parseBoolean(word)).toEqual({ ok: true, value: true });
    for (const word of ['false', 'Off', 'NO', '0']) expect(parseBoolean(word)).toEqual({ ok: true, value: false });
    expect(parseBoolean('maybe').ok).toBe(false);
    expect(parseBoolean('local', ['local'])).toEqual({ ok: true, value: true });
  });

  it('format in the largest unit that divides exactly', () => {
    expect(formatSize(16 * MB)).toBe('16 MB');
    expect(formatSize(1536)).toBe('1536 bytes');
    expect(formatSize(0)).toBe('0 bytes');
    expect(formatDurationUs(10 * MS)).toBe('10 ms');
    expect(formatDurationUs(5 * MIN)).toBe('5 min');
    expect(formatDurationUs(1500)).toBe('1500 us');
  });
});

describe('every parameter kind resolves', () => {
  it('bool: all spellings; synchronous_commit also accepts the postgresql.conf levels', () => {
    expect(resolveConfig({ enable_stats: 'yes' }).config.enableStats).toBe(true);
    expect(resolveConfig({ enable_numa: 'off' }).config.enableNuma).toBe(false);
    expect(resolveConfig({ wal_preallocate: false }).config.walPreallocate).toBe(false);
    for (const level of ['local', 'remote_write', 'remote_apply', 'on']) {
      expect(resolveConfig({ synchronous_commit: level }).config.synchronousCommit).toBe(true);
    }
    expect(resolveConfig({ synchronous_commit: 'off' }).config.synchronousCommit).toBe(false);
  });

  it('int, enum and string', () => {
    const { config } = resolveConfig({
      group_commit_size: '32',
      checkpoint_workers: 8,
      affinity_mode: 'Equal-Per-Socket',
      checkpoint_dir: '/mnt/ckpt',
    });
    expect(config.groupCommitSize).toBe(32);
    expect(config.checkpointWorkers).toBe(8);
    expect(config.affinityMode).toBe('equal-per-socket');
    expect(config.checkpointDir).toBe('/mnt/ckpt');
  });

  it('size and duration: a bare number is in the documented unit (us, ms, bytes)', () => {
    const { config } = resolveConfig({
      group_commit_timeout: '500',
      wal_writer_delay: '50',
      redo_buffer_size: '131072',
      checkpoint_interval: 2 * S,
      wal_segment_size: 4 * MB,
    });
    expect(config.groupCommitTimeoutUs).toBe(500);
    expect(config.walWriterDelayUs).toBe(50 * MS);
    expect(config.redoBufferBytes).toBe(128 * KB);
    expect(config.checkpointIntervalUs).toBe(2 * S);
    expect(config.walSegmentBytes).toBe(4 * MB);
    expect(resolveConfig({ wal_writer_delay: 50 }).config.walWriterDelayUs).toBe(50 * MS);
    expect(resolveConfig({ group_commit_timeout: 150 }).config.groupCommitTimeoutUs).toBe(150);
  });

  it('camelCase field names: a bare number is in the unit the field name carries', () => {
    const { config } = resolveConfig({ walWriterDelayUs: 50_000, groupCommitSize: 4, enableGroupCommit: true });
    expect(config.walWriterDelayUs).toBe(50 * MS);
    expect(config.groupCommitSize).toBe(4);
    expect(loggingMode(config)).toBe('group');
  });

  it('size-or-percent: a percentage of max_process_memory (whatever the order), or an absolute size', () => {
    const byPercent = resolveConfig({ max_mot_local_memory: '10%', max_process_memory: '4GB' }).config;
    expect(byPercent.maxMotLocalMemoryBytes).toBe(Math.floor(4 * GB * 0.1));
    expect(byPercent.maxMotGlobalMemoryBytes).toBe(Math.floor(4 * GB * 0.8));
    expect(resolveConfig({ max_mot_global_memory: '2 GB' }).config.maxMotGlobalMemoryBytes).toBe(2 * GB);
  });

  it('zero turns checkpoint_interval and checkpoint_wal_size_max off', () => {
    const { config, warnings } = resolveConfig({ checkpoint_interval: '0', checkpoint_wal_size_max: 0 });
    expect(config.checkpointIntervalUs).toBe(0);
    expect(config.checkpointWalBytesMax).toBe(0);
    expect(warnings).toEqual([]);
  });
});

describe('logging mode', () => {
  it('follows enable_redo_log, synchronous_commit and enable_group_commit', () => {
    const mode = (input: ConfigInput) => loggingMode(resolveConfig(input).config);
    expect(mode({ enable_redo_log: false, enable_group_commit: true })).toBe('off');
    expect(mode({ synchronous_commit: 'off' })).toBe('asynchronous');
    expect(mode({ enable_group_commit: 'on' })).toBe('group');
    expect(mode({})).toBe('synchronous');
  });

  it('group commit with synchronous_commit off warns and runs asynchronously', () => {
    const { config, warnings } = resolveConfig({ enable_group_commit: true, synchronous_commit: 'off' });
    expect(loggingMode(config)).toBe('asynchronous');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].parameter).toBe('enable_group_commit');
    expect(warnings[0].message).toContain('synchronous_commit on');
  });

  it('group commit with the redo log off warns that it has no effect', () => {
    const { warnings } = resolveConfig({ enable_group_commit: true, enable_redo_log: false });
    expect(warnings.map((w) => w.parameter)).toEqual(['enable_group_commit']);
  });
});

describe('out-of-range values keep the default, with a warning', () => {
  it('an int above its maximum', () => {
    const { config, warnings } = resolveConfig({ group_commit_size: 5000 });
    expect(config.groupCommitSize).toBe(16);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].parameter).toBe('group_commit_size');
    expect(warnings[0].message).toContain('group_commit_size = 5000');
    expect(warnings[0].message).toContain('[2, 1000]');
    expect(warnings[0].message).toContain('using the default 16');
  });

  it('a duration, with the range and the bare number shown in units', () => {
    const { config, warnings } = resolveConfig({ group_commit_timeout: '300000' });
    expect(config.groupCommitTimeoutUs).toBe(10 * MS);
    expect(warnings[0].message).toContain('configuration object: group_commit_timeout = 300000 (300 ms)');
    expect(warnings[0].message).toContain('[100 us, 200 ms]');
    expect(warnings[0].message).toContain('using the default 10 ms');
  });

  it('sizes, an off-able duration and percentages', () => {
    const cases: Array<[ConfigInput, keyof EngineConfig, string]> = [
      [{ checkpoint_segsize: '8MB' }, 'checkpointSegmentBytes', '[16 MB, 512 MB]'],
      [{ checkpoint_interval: '500ms' }, 'checkpointIntervalUs', '0 (off) or [1 s, 1 d]'],
      [{ max_mot_global_memory: '150%' }, 'maxMotGlobalMemoryBytes', '[1%, 100%] of max_process_memory'],
      [{ sockets: 0 }, 'sockets', '[1, 64]'],
      [{ max_process_memory: '2TB' }, 'maxProcessMemoryBytes', '[256 MB, 1 TB]'],
    ];
    for (const [input, field, range] of cases) {
      const { config, warnings } = resolveConfig(input);
      expect(config[field]).toBe(defaultConfig()[field]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].message).toContain(range);
    }
  });

  it('every parameter with a range documents it with units', () => {
    for (const spec of PARAMETERS) {
      if (['int', 'size', 'duration', 'size-or-percent'].includes(spec.kind)) {
        expect(describeRange(spec), spec.name).toMatch(/^(0 \(off\) or )?\[/);
      }
    }
  });
});

describe('errors', () => {
  it('an unknown parameter is MOT_ERROR_INVALID_CFG naming it, with the closest known name', () => {
    const error = catchMotError(() => resolveConfig({ group_comit_size: 8 }));
    expect(error.code).toBe('MOT_ERROR_INVALID_CFG');
    expect(error.sqlstate).toBe('22023');
    expect(error.message).toContain('"group_comit_size"');
    expect(error.message).toContain('did you mean "group_commit_size"');
  });

  it('a misspelt camelCase name suggests the mot.conf name; a far-off name suggests nothing', () => {
    expect(catchMotError(() => resolveConfig({ groupCommitTimeout: 5 })).message).toContain('"group_commit_timeout"');
    expect(catchMotError(() => resolveConfig({ zzz: 1 })).message).not.toContain('did you mean');
  });

  it('an unparsable value names the parameter, the value and what was expected', () => {
    const error = catchMotError(() => resolveConfig({ group_commit_timeout: '10 parsecs' }));
    expect(error.code).toBe('MOT_ERROR_INVALID_CFG');
    expect(error.message).toContain('"group_commit_timeout"');
    expect(error.message).toContain('"10 parsecs"');
    expect(error.message).toContain('us, ms, s, min, h or d');
  });

  it('a value of the wrong kind is an error for every kind', () => {
    const bad: ConfigInput[] = [
      { enable_stats: 'sometimes' },
      { group_commit_size: 'many' },
      { redo_buffer_size: true },
      { affinity_mode: 'round-robin' },
      { checkpoint_dir: 42 },
      { max_mot_local_memory: 'lots' },
    ];
    for (const input of bad) {
      const name = Object.keys(input)[0];
      const error = catchMotError(() => resolveConfig(input));
      expect(error.code).toBe('MOT_ERROR_INVALID_CFG');
      expect(error.message).toContain(`"${name}"`);
    }
  });
});

describe('mot.conf', () => {
  const text = [
    '# MOT configuration',
    '',
    'enable_group_commit = true   # group synchronous',
    '   group_commit_size=32',
    "group_commit_timeout = '2 ms'",
    'checkpoint_dir = "/data/ckpt # not a comment"',
    "checkpoint_segsize = '32 MB' # quoted with a comment",
    'max_mot_global_memory = 50%',
    '\t# an indented comment',
    'print_stats_period = 10s\r',
  ].join('\n');

  it('reads settings, comments, quotes and blank lines', () => {
    const { config, warnings } = parseMotConf(text, 'mot.conf');
    expect(warnings).toEqual([]);
    expect(config.enableGroupCommit).toBe(true);
    expect(config.groupCommitSize).toBe(32);
    expect(config.groupCommitTimeoutUs).toBe(2 * MS);
    expect(config.checkpointDir).toBe('/data/ckpt # not a comment');
    expect(config.checkpointSegmentBytes).toBe(32 * MB);
    expect(config.maxMotGlobalMemoryBytes).toBe(Math.floor(12 * GB * 0.5));
    expect(config.printStatsPeriodUs).toBe(10 * S);
  });

  it('unescapes a doubled quote and accepts an empty quoted value', () => {
    expect(parseMotConf("checkpoint_dir = '/it''s'", 'm').config.checkpointDir).toBe("/it's");
    expect(parseMotConf("checkpoint_dir = ''", 'm').config.checkpointDir).toBe('');
  });

  it('a line that is not name = value is an error naming the file and line', () => {
    for (const line of ['group_commit_size 16', 'group_commit_size =', "checkpoint_dir = 'open", '[section]']) {
      const error = catchMotError(() => parseMotConf(`# ok\n${line}\n`, '/etc/mot.conf'));
      expect(error.code).toBe('MOT_ERROR_INVALID_CFG');
      expect(error.message).toContain('/etc/mot.conf:2');
    }
  });

  it('an unknown name or bad value says where it was', () => {
    const unknown = catchMotError(() => parseMotConf('\n\nenable_grup_commit = on', 'mot.conf'));
    expect(unknown.message).toContain('mot.conf:3');
    expect(unknown.message).toContain('enable_group_commit');
    const bad = catchMotError(() => parseMotConf('wal_segment_size = huge', 'mot.conf'));
    expect(bad.message).toContain('mot.conf:1');
  });

  it('a setting repeated takes the last value, with a warning', () => {
    const { config, warnings } = parseMotConf('sockets = 2\nsockets = 4\n', 'mot.conf');
    expect(config.sockets).toBe(4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain('mot.conf:1');
    expect(warnings[0].message).toContain('mot.conf:2');
  });

  it('an out-of-range line warns with its location', () => {
    const { warnings } = parseMotConf('\ncheckpoint_workers = 2000', 'mot.conf');
    expect(warnings[0].message).toContain('mot.conf:2');
    expect(warnings[0].message).toContain('[1, 1024]');
  });

  it('loads from a file, and a missing file is an error naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'motsim-config-'));
    try {
      const path = join(dir, 'mot.conf');
      await writeFile(path, text);
      expect((await loadMotConf(path)).config).toEqual(parseMotConf(text, path).config);
      const missing = join(dir, 'absent.conf');
      const error = await loadMotConf(missing).then(
        () => undefined,
        (e: unknown) => e as MotError,
      );
      expect(error?.code).toBe('MOT_ERROR_INVALID_CFG');
      expect(error?.message).toContain(missing);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- properties ----

/** value / multiplier as an exact decimal string; callers make sure one exists. */
function exactDecimal(value: number, multiplier: number): string {
  let scale = 0;
  while ((BigInt(value) * 10n ** BigInt(scale)) % BigInt(multiplier) !== 0n) scale++;
  const digits = ((BigInt(value) * 10n ** BigInt(scale)) / BigInt(multiplier)).toString().padStart(scale + 1, '0');
  return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Smallest step for which value / multiplier is always a finite decimal: the part of it prime to 10. */
function decimalQuantum(multiplier: number): number {
  let q = multiplier;
  while (q % 2 === 0) q /= 2;
  while (q % 5 === 0) q /= 5;
  return q;
}

type UnitSpec = Extract<ParameterSpec, { kind: 'size' | 'duration' }>;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function inRangeValueWithUnit(spec: UnitSpec) {
  const units = spec.kind === 'size' ? SIZE_UNITS : DURATION_UNITS;
  return fc.constantFrom(...units).chain((unit) => {
    // In range: a multiple of the unit's decimal quantum and of the parameter's own unit (multipleOf).
    const own = spec.kind === 'size' ? spec.multipleOf ?? 1 : 1;
    const quantum = decimalQuantum(unit.multiplier);
    const q = (quantum * own) / gcd(quantum, own);
    return fc.record({
      spec: fc.constant(spec),
      multiplier: fc.constant(unit.multiplier),
      value: fc.integer({ min: Math.ceil(spec.min / q), max: Math.floor(spec.max / q) }).map((k) => k * q),
      alias: fc.constantFrom(...unit.aliases),
      space: fc.constantFrom('', ' '),
      upper: fc.boolean(),
    });
  });
}

function arbitraryInput(spec: ParameterSpec): fc.Arbitrary<string | number | boolean> {
  switch (spec.kind) {
    case 'bool':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.values);
    case 'string':
      return fc.string().filter((s) => !/[\r\n]/.test(s));
    default:
      return fc.integer({ min: spec.min, max: spec.max });
  }
}

describe('properties', () => {
  const unitSpecs = PARAMETERS.filter((p): p is UnitSpec => p.kind === 'size' || p.kind === 'duration');

  it('any in-range value written in any unit parses back to the same number', () => {
    const arbitrary = fc.constantFrom(...unitSpecs).chain(inRangeValueWithUnit);
    fc.assert(
      fc.property(arbitrary, ({ spec, multiplier, value, alias, space, upper }) => {
        const text = `${exactDecimal(value, multiplier)}${space}${upper ? alias.toUpperCase() : alias}`;
        const parsed = spec.kind === 'size' ? parseSizeBytes(text) : parseDurationUs(text, spec.bareUnit);
        expect(parsed).toEqual({ ok: true, value });
        const { config, warnings } = resolveConfig({ [spec.name]: text });
        expect(config[spec.field]).toBe(value);
        expect(warnings).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('describeConfig prints values that read back to the same config, as an object and as mot.conf', () => {
    const inputs = fc.record(Object.fromEntries(PARAMETERS.map((p) => [p.field, arbitraryInput(p)])));
    fc.assert(
      fc.property(inputs, (input) => {
        const { config } = resolveConfig(input);
        const described = describeConfig(config);
        expect(resolveConfig(described).config).toEqual(config);
        const quote = (v: string) => `'${v.split("'").join("''")}'`;
        const conf = Object.entries(described).map(([name, v]) => `${name} = ${quote(v)}`).join('\n');
        expect(parseMotConf(conf, 'described.conf').config).toEqual(config);
      }),
      { numRuns: 200 },
    );
  });
});

// ---- defect 20 of issue 9: one rule for every numeric parameter ----

type NumericSpec = Extract<ParameterSpec, { kind: 'int' | 'size' | 'duration' | 'size-or-percent' }>;
const NUMERIC = PARAMETERS.filter((p): p is NumericSpec => p.kind === 'int' || p.kind === 'size' || p.kind === 'duration' || p.kind === 'size-or-percent');
const PROCESS_BYTES_DEFAULT = BigInt(defaultConfig().maxProcessMemoryBytes);

/** A well-formed value: its text, and its exact value in the base unit (bytes, us, count) or as a percentage. */
interface WellFormed {
  spec: NumericSpec;
  text: string;
  value: bigint;
  percent: boolean;
}

/** Magnitudes that matter: 0, the range's edges and their neighbours, around 2^53, huge, and anything. */
function magnitude(spec: NumericSpec): fc.Arbitrary<bigint> {
  const edges = [spec.min - 1, spec.min, spec.min + 1, spec.max - 1, spec.max, spec.max + 1].filter((n) => n >= 0).map(BigInt);
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  return fc.oneof(
    fc.constantFrom(0n, 1n, ...edges, safe - 1n, safe, safe + 1n, safe + 2n, 10n ** 20n, 10n ** 40n),
    fc.bigInt({ min: 0n, max: BigInt(spec.max) * 2n }),
    fc.bigInt({ min: 0n, max: 10n ** 30n }),
  );
}

function wellFormed(spec: NumericSpec): fc.Arbitrary<WellFormed> {
  const sign = fc.constantFrom('', '+', '-');
  const units = spec.kind === 'duration' ? DURATION_UNITS : spec.kind === 'int' ? [] : SIZE_UNITS;
  const withUnit = fc.record({ sign, count: magnitude(spec), unit: fc.constantFrom(...(units.length ? units : [undefined])), space: fc.constantFrom('', ' ') }).chain(({ sign, count, unit, space }) =>
    fc.constantFrom(...(unit ? unit.aliases : [''])).map((alias) => ({
      spec,
      text: `${sign}${count}${alias ? space + alias : ''}`,
      // A bare number is in the parameter's bare unit (microseconds, milliseconds, bytes).
      value: (sign === '-' ? -1n : 1n) * count * BigInt(unit ? unit.multiplier : bareMultiplier(spec)),
      percent: false,
    })),
  );
  if (spec.kind !== 'size-or-percent') return withUnit;
  const percent = fc.record({ sign, p: fc.bigInt({ min: 0n, max: 300n }) }).map(({ sign, p }) => ({ spec, text: `${sign}${p}%`, value: (sign === '-' ? -1n : 1n) * p, percent: true }));
  return fc.oneof(withUnit, percent);
}

function bareMultiplier(spec: NumericSpec): number {
  if (spec.kind === 'int') return 1;
  const units = spec.kind === 'duration' ? DURATION_UNITS : SIZE_UNITS;
  return units.find((u) => u.unit === spec.bareUnit)!.multiplier;
}

function expectedInRange(w: WellFormed): boolean {
  const { spec, value } = w;
  if (w.percent && spec.kind === 'size-or-percent') return value >= BigInt(spec.minPercent) && value <= BigInt(spec.maxPercent);
  if (value === 0n && (spec.kind === 'size' || spec.kind === 'duration') && spec.zeroMeansOff) return true;
  if (spec.kind === 'size' && spec.multipleOf !== undefined && value % BigInt(spec.multipleOf) !== 0n) return false;
  return value >= BigInt(spec.min) && value <= BigInt(spec.max);
}

function expectedField(w: WellFormed): number {
  return Number(w.percent ? (PROCESS_BYTES_DEFAULT * w.value) / 100n : w.value);
}

describe('defect 20: one rule for every numeric parameter (the form decides readability, the value only the range)', () => {
  it('defect 20: any well-formed value, of any sign or magnitude, is read; out of range it warns and keeps the default, in range it is used', () => {
    fc.assert(
      fc.property(fc.constantFrom(...NUMERIC).chain(wellFormed), (w) => {
        const { spec, text } = w;
        for (const { config, warnings } of [resolveConfig({ [spec.name]: text }), parseMotConf(`${spec.name} = ${text}`, 'mot.conf')]) {
          // (a combination warning, e.g. global + local memory above the process's, is another matter)
          const own = warnings.filter((x) => x.parameter === spec.name && x.message.includes('out of range'));
          if (expectedInRange(w)) {
            expect(config[spec.field]).toBe(expectedField(w));
            expect(own).toEqual([]);
          } else {
            expect(config[spec.field]).toBe(defaultConfig()[spec.field]);
            expect(own).toHaveLength(1);
            expect(own[0]!.message).toContain(`${spec.name} = `);
            expect(own[0]!.message).toContain('using the default');
            expect(own[0]!.message).not.toMatch(/Infinity|NaN|e\+/);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('defect 20: a number of any magnitude in the object form follows the same rule, for every numeric parameter', () => {
    const numbers = fc.oneof(fc.integer(), fc.constantFrom(2 ** 53, 2 ** 60, -(2 ** 60), 1e21, 1e300, -1e300, Infinity, -Infinity, -0), fc.double({ noNaN: true }).filter(Number.isInteger));
    fc.assert(
      fc.property(fc.constantFrom(...NUMERIC), numbers, (spec, n) => {
        const { config, warnings } = resolveConfig({ [spec.name]: n });
        const exact = Number.isFinite(n) ? BigInt(n) * BigInt(bareMultiplier(spec)) : undefined;
        const w: WellFormed = { spec, text: String(n), value: exact ?? (n > 0 ? 10n ** 400n : -(10n ** 400n)), percent: false };
        const own = warnings.filter((x) => x.parameter === spec.name && x.message.includes('out of range'));
        if (expectedInRange(w)) expect([config[spec.field], own.length]).toEqual([expectedField(w), 0]);
        else expect([config[spec.field], own.length]).toEqual([defaultConfig()[spec.field], 1]);
      }),
      { numRuns: 2000 },
    );
  });

  it('defect 20: a value that is not of its form is refused (22023) naming the parameter, for every numeric parameter', () => {
    const junk = ['', ' ', '0x10', '1e3', '--5', '+-1', '1.2.3', 'ten', '5 parsecs', '16 MB MB', '- 5', '.5', 'NaN', 'Infinity'];
    for (const spec of NUMERIC) {
      const extra = spec.kind === 'int' ? ['1.5', '16 MB'] : spec.kind === 'duration' ? ['0.5 us', '16 MB'] : ['0.5 bytes', '10 ms'];
      for (const bad of [...junk, ...extra]) {
        let thrown: unknown;
        try {
          resolveConfig({ [spec.name]: bad });
        } catch (e) {
          thrown = e;
        }
        expect(thrown, `${spec.name} = "${bad}"`).toBeInstanceOf(MotError);
        expect((thrown as MotError).sqlstate).toBe('22023');
        expect((thrown as MotError).message).toContain(`"${spec.name}"`);
      }
    }
  });
});

describe('a confFile is read through the injected disk (no node:fs in the engine)', () => {
  it('an engine on an in-memory disk reads its mot.conf from that disk, and a missing one is an error naming it', async () => {
    const { MemDisk } = await import('../src/wal/mem-disk.js');
    const { Engine } = await import('../src/engine.js');
    const disk = new MemDisk();
    const file = await disk.open('/etc/mot.conf', { create: true });
    await file.write(0, new TextEncoder().encode('group_commit_size = 7\nenable_group_commit = true\n'));
    await file.close();
    const engine = await Engine.open('/db', { disk, confFile: '/etc/mot.conf', onWarning: () => undefined });
    try {
      expect(engine.config.groupCommitSize).toBe(7);
      expect(engine.config.enableGroupCommit).toBe(true);
    } finally {
      await engine.close();
    }
    const err = await Engine.open('/db2', { disk, confFile: '/etc/missing.conf' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMotError(err)).toBe(true);
    expect((err as Error).message).toContain('/etc/missing.conf');
  });
});
