// Value syntax of configuration parameters: sizes, durations, percentages, integers and booleans.
// Pure functions; a failure is returned (never thrown) so the caller can name the parameter.
// The rule: the form decides readability (a sign, digits, an optional fraction, a known unit, and a
// whole number of the base unit); the value never does. A readable value may be negative or of any
// magnitude (beyond 2^53 it reads as +-Infinity): whether it is in range is the caller's question.

/** A parse outcome: the value, or a phrase saying what was expected ("a size such as 16 MB"). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

export type SizeUnit = 'bytes' | 'KB' | 'MB' | 'GB' | 'TB';
export type DurationUnit = 'us' | 'ms' | 's' | 'min' | 'h' | 'd';

export interface UnitDef<U extends string> {
  unit: U;
  /** How many base units (bytes or microseconds) one of this unit is. */
  multiplier: number;
  /** Accepted spellings, lower case. */
  aliases: readonly string[];
}

const KIB = 1024;

/** Binary multiples, as in MOT (1 KB = 1024 bytes). Largest first, for formatting. */
export const SIZE_UNITS: readonly UnitDef<SizeUnit>[] = [
  { unit: 'TB', multiplier: KIB ** 4, aliases: ['tb', 'tib'] },
  { unit: 'GB', multiplier: KIB ** 3, aliases: ['gb', 'gib'] },
  { unit: 'MB', multiplier: KIB ** 2, aliases: ['mb', 'mib'] },
  { unit: 'KB', multiplier: KIB, aliases: ['kb', 'kib'] },
  { unit: 'bytes', multiplier: 1, aliases: ['bytes', 'byte', 'b'] },
];

/** MOT's time unit spellings (mot_configuration.cpp). Largest first, for formatting. */
export const DURATION_UNITS: readonly UnitDef<DurationUnit>[] = [
  { unit: 'd', multiplier: 86_400_000_000, aliases: ['d', 'day', 'days'] },
  { unit: 'h', multiplier: 3_600_000_000, aliases: ['h', 'hour', 'hours'] },
  { unit: 'min', multiplier: 60_000_000, aliases: ['min', 'mins', 'minute', 'minutes', 'm'] },
  { unit: 's', multiplier: 1_000_000, aliases: ['s', 'sec', 'secs', 'second', 'seconds'] },
  { unit: 'ms', multiplier: 1_000, aliases: ['ms', 'milli', 'millis', 'millisecond', 'milliseconds'] },
  { unit: 'us', multiplier: 1, aliases: ['us', 'micro', 'micros', 'microsecond', 'microseconds'] },
];

const UNIT_NAMES = {
  bytes: 'bytes',
  KB: 'kilobytes',
  MB: 'megabytes',
  GB: 'gigabytes',
  TB: 'terabytes',
  us: 'microseconds',
  ms: 'milliseconds',
  s: 'seconds',
  min: 'minutes',
  h: 'hours',
  d: 'days',
} as const;

/** A decimal as sign, digits and a power of ten: -1.25 is { negative: true, digits: 125n, scale: 2 }. */
interface Decimal {
  negative: boolean;
  digits: bigint;
  scale: number;
}

/** Splits "16 MB" or "-1.5GB" into a decimal number and a unit word ('' when bare). */
function splitNumberAndUnit(text: string): { number: Decimal; unit: string } | undefined {
  const match = /^([+-]?)(\d+)(?:\.(\d+))?\s*([a-z%]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const fraction = match[3] ?? '';
  return { number: { negative: match[1] === '-', digits: BigInt(match[2] + fraction), scale: fraction.length }, unit: match[4] };
}

/**
 * decimal x multiplier if that is a whole number (exact, no rounding), else undefined. A whole number
 * beyond 2^53 - 1 in magnitude is well formed but not representable: it comes back as +-Infinity,
 * which every range check refuses (so it warns and keeps the default, like any out-of-range value).
 */
function scaleExactly(number: Decimal, multiplier: number): number | undefined {
  const numerator = number.digits * BigInt(multiplier);
  const denominator = 10n ** BigInt(number.scale);
  if (numerator % denominator !== 0n) return undefined;
  return signed(number.negative, numerator / denominator);
}

/** A whole number as a JavaScript number: exact up to 2^53 - 1 in magnitude, +-Infinity beyond; never -0. */
function signed(negative: boolean, magnitude: bigint): number {
  if (magnitude === 0n) return 0;
  const n = magnitude <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(magnitude) : Infinity;
  return negative ? -n : n;
}

function findUnit<U extends string>(units: readonly UnitDef<U>[], word: string): UnitDef<U> | undefined {
  const lower = word.toLowerCase();
  return units.find((u) => u.aliases.includes(lower));
}

function parseWithUnits<U extends string>(
  text: string,
  units: readonly UnitDef<U>[],
  bareUnit: U,
  expected: string,
): Parsed<number> {
  const split = splitNumberAndUnit(text);
  const unitDef = split && findUnit(units, split.unit === '' ? bareUnit : split.unit);
  const value = split && unitDef && scaleExactly(split.number, unitDef.multiplier);
  return value === undefined ? { ok: false, expected } : { ok: true, value };
}

/** Parses a size such as "16MB", "16 mb", "1.5GB" or "4096" (bare: `bareUnit`) into bytes. */
export function parseSizeBytes(text: string, bareUnit: SizeUnit = 'bytes'): Parsed<number> {
  const expected =
    `a size such as 16MB (units bytes, KB, MB, GB or TB; a bare number means ${UNIT_NAMES[bareUnit]}; ` +
    `whole bytes only)`;
  return parseWithUnits(text, SIZE_UNITS, bareUnit, expected);
}

/** Parses a duration such as "10ms", "5 min", "1.5s" or "100" (bare: `bareUnit`) into microseconds. */
export function parseDurationUs(text: string, bareUnit: DurationUnit): Parsed<number> {
  const expected =
    `a duration such as 10ms (units us, ms, s, min, h or d; a bare number means ${UNIT_NAMES[bareUnit]}; ` +
    `whole microseconds only)`;
  return parseWithUnits(text, DURATION_UNITS, bareUnit, expected);
}

/** Parses "80%", "12.5 %" or "-5%" into the percentage (80, 12.5, -5). Range checks are the caller's. */
export function parsePercent(text: string): Parsed<number> {
  const split = splitNumberAndUnit(text);
  if (!split || split.unit !== '%') return { ok: false, expected: 'a percentage such as 80%' };
  const magnitude = Number(split.number.digits) / 10 ** split.number.scale;
  return { ok: true, value: split.number.negative && magnitude !== 0 ? -magnitude : magnitude };
}

export type SizeOrPercent = { kind: 'bytes'; bytes: number } | { kind: 'percent'; percent: number };

/** Parses either a percentage ("80%") or a size ("10GB"). */
export function parseSizeOrPercent(text: string, bareUnit: SizeUnit = 'bytes'): Parsed<SizeOrPercent> {
  if (text.includes('%')) {
    const percent = parsePercent(text);
    return percent.ok ? { ok: true, value: { kind: 'percent', percent: percent.value } } : percent;
  }
  const size = parseSizeBytes(text, bareUnit);
  if (size.ok) return { ok: true, value: { kind: 'bytes', bytes: size.value } };
  return { ok: false, expected: `a percentage such as 80% or ${size.expected}` };
}

/** Parses a whole number, possibly signed ("16", "-1"); beyond 2^53 - 1 in magnitude it is +-Infinity (out of every range). */
export function parseInteger(text: string): Parsed<number> {
  const match = /^([+-]?)(\d+)$/.exec(text.trim());
  if (!match) return { ok: false, expected: 'a whole number such as 16' };
  return { ok: true, value: signed(match[1] === '-', BigInt(match[2])) };
}

const TRUE_WORDS = ['true', 'on', 'yes', '1'];
const FALSE_WORDS = ['false', 'off', 'no', '0'];

/** Parses true/false, on/off, yes/no, 1/0 (any case), plus `extraTrue` words (e.g. 'local'). */
export function parseBoolean(text: string, extraTrue: readonly string[] = []): Parsed<boolean> {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.includes(word) || extraTrue.includes(word)) return { ok: true, value: true };
  if (FALSE_WORDS.includes(word)) return { ok: true, value: false };
  const words = [...TRUE_WORDS, ...FALSE_WORDS, ...extraTrue].join(', ');
  return { ok: false, expected: `a boolean (one of ${words})` };
}

function formatWithUnits<U extends string>(value: number, units: readonly UnitDef<U>[]): string {
  const best = units.find((u) => value !== 0 && value % u.multiplier === 0) ?? units[units.length - 1];
  return `${value / best.multiplier} ${best.unit}`;
}

/** Formats bytes in the largest unit that divides them exactly: 16777216 -> "16 MB". */
export function formatSize(bytes: number): string {
  return formatWithUnits(bytes, SIZE_UNITS);
}

/** Formats microseconds in the largest unit that divides them exactly: 300000000 -> "5 min". */
export function formatDurationUs(us: number): string {
  return formatWithUnits(us, DURATION_UNITS);
}

/** Human name of a unit ("microseconds"), for documentation and messages. */
export function unitName(unit: SizeUnit | DurationUnit): string {
  return UNIT_NAMES[unit];
}
