// A row's byte layout inside its slot, and the pure encode/decode leaves over it (plus the per-table
// compiled whole-row codec). Every row of a table has the same size, as in MOT.
//
// Slot layout (all integers little-endian), `rowBytes` long, a multiple of 8:
//
//   offset 0   csn          float64  CSN of the last committed writer (the OCC version)
//   offset 8   flags        uint32   bit 0 = LIVE (the slot holds a row); other bits zero
//   offset 12  null bitmap  ceil(columns / 8) bytes; bit (i & 7) of byte (i >> 3) set = column i is NULL
//   then each column at a fixed offset, in declared order, packed without padding:
//     int32    4 bytes   two's complement
//     int64    8 bytes   two's complement
//     float64  8 bytes   IEEE 754 (NaN, -0 and infinities round-trip)
//     bool     1 byte    0 or 1
//     varchar  2 + size  uint16 byte length, then the UTF-8 bytes, then zeros up to `size`
//     bytes    2 + size  uint16 byte length, then the bytes, then zeros up to `size`
//   then zeros up to rowBytes.
//
// Invariant: a NULL column's bytes are all zero, and so is every byte past a varchar's length, so
// one row state has exactly one byte image (checkpoints can compare and checksum raw rows).

import type { Row, Value } from './value.js';
import { columnReadSource } from './column-access.js';

export const TypeCode = { int32: 0, int64: 1, float64: 2, bool: 3, varchar: 4, bytes: 5 } as const;
export type TypeCodeValue = (typeof TypeCode)[keyof typeof TypeCode];

export const ROW_CSN_OFFSET = 0;
export const ROW_FLAGS_OFFSET = 8;
export const ROW_HEADER_BYTES = 12;
export const ROW_FLAG_LIVE = 1;
/** Length prefix of varchar and bytes columns. */
export const VARLEN_PREFIX_BYTES = 2;
const ROW_ALIGN_BYTES = 8;

/** Where one column lives in a slot. */
export interface ColumnSlot {
  readonly name: string;
  /** Position in the table's declared column order. */
  readonly index: number;
  readonly typeCode: TypeCodeValue;
  /** Declared maximum bytes for varchar/bytes; the value width for fixed types. */
  readonly sizeBytes: number;
  /** Bytes the column occupies in the slot (2 + size for varchar/bytes). */
  readonly widthBytes: number;
  /** Offset of the column from the start of the slot. */
  readonly offset: number;
  readonly nullable: boolean;
}

export interface RowLayout {
  readonly columns: readonly ColumnSlot[];
  readonly nullBitmapOffset: number;
  readonly nullBitmapBytes: number;
  /** Null bitmap plus column bytes: what MOT counts against MAX_TUPLE_SIZE. */
  readonly dataBytes: number;
  /** Whole slot: header + data, rounded up to 8. */
  readonly rowBytes: number;
}

export interface ColumnShape {
  readonly name: string;
  readonly typeCode: TypeCodeValue;
  readonly sizeBytes: number;
  readonly nullable: boolean;
}

export function columnWidthBytes(typeCode: TypeCodeValue, sizeBytes: number): number {
  switch (typeCode) {
    case TypeCode.int32:
      return 4;
    case TypeCode.int64:
    case TypeCode.float64:
      return 8;
    case TypeCode.bool:
      return 1;
    default:
      return VARLEN_PREFIX_BYTES + sizeBytes;
  }
}

export function layoutColumns(shapes: readonly ColumnShape[]): RowLayout {
  const nullBitmapBytes = (shapes.length + 7) >> 3;
  const nullBitmapOffset = ROW_HEADER_BYTES;
  let offset = nullBitmapOffset + nullBitmapBytes;
  const columns: ColumnSlot[] = shapes.map((s, index) => {
    const widthBytes = columnWidthBytes(s.typeCode, s.sizeBytes);
    const slot: ColumnSlot = { ...s, index, widthBytes, offset };
    offset += widthBytes;
    return slot;
  });
  const dataBytes = offset - ROW_HEADER_BYTES;
  const rowBytes = Math.ceil(offset / ROW_ALIGN_BYTES) * ROW_ALIGN_BYTES;
  return { columns, nullBitmapOffset, nullBitmapBytes, dataBytes, rowBytes };
}

// ---- header ----

export function readCsn(view: DataView, base: number): number {
  return view.getFloat64(base + ROW_CSN_OFFSET, true);
}

export function writeCsn(view: DataView, base: number, csn: number): void {
  view.setFloat64(base + ROW_CSN_OFFSET, csn, true);
}

export function writeFlags(view: DataView, base: number, flags: number): void {
  view.setUint32(base + ROW_FLAGS_OFFSET, flags, true);
}

// ---- null bitmap ----

export function isNullAt(buf: Uint8Array, base: number, layout: RowLayout, column: number): boolean {
  return (buf[base + layout.nullBitmapOffset + (column >> 3)] & (1 << (column & 7))) !== 0;
}

function setNullBit(buf: Uint8Array, base: number, layout: RowLayout, column: number, isNull: boolean): void {
  const at = base + layout.nullBitmapOffset + (column >> 3);
  const mask = 1 << (column & 7);
  buf[at] = isNull ? buf[at] | mask : buf[at] & ~mask;
}

// ---- values ----

// One-entry cache of a string's UTF-8 length: a row is validated at statement time and again when the
// transaction applies it, and the writer needs the length too (ASCII strings take the faster path).
let lastUtf8String = '';
let lastUtf8Bytes = 0;

export function utf8ByteLength(s: string): number {
  if (s === lastUtf8String) return lastUtf8Bytes;
  const n = Buffer.byteLength(s, 'utf8');
  lastUtf8String = s;
  lastUtf8Bytes = n;
  return n;
}

// Buffer's per-encoding writers (what buf.write dispatches to, minus its argument parsing, about a
// third of a short write's cost). Not in Node's typings, so looked up once, with buf.write as fallback.
type RawWrite = (this: Buffer, s: string, offset: number, length: number) => number;
const rawLatin1Write = (Buffer.prototype as unknown as { latin1Write?: RawWrite }).latin1Write;
const rawUtf8Write = (Buffer.prototype as unknown as { utf8Write?: RawWrite }).utf8Write;

function writeVarchar(buf: Buffer, view: DataView, p: number, sizeBytes: number, s: string): void {
  if (s.length === 0) return; // length prefix already zero
  const at = p + VARLEN_PREFIX_BYTES;
  let n: number;
  // Pure ASCII (UTF-8 length = UTF-16 length) is copied byte per char, without UTF-8 encoding.
  if (utf8ByteLength(s) === s.length) {
    n = rawLatin1Write !== undefined ? rawLatin1Write.call(buf, s, at, sizeBytes) : buf.write(s, at, sizeBytes, 'latin1');
  } else {
    n = rawUtf8Write !== undefined ? rawUtf8Write.call(buf, s, at, sizeBytes) : buf.write(s, at, sizeBytes, 'utf8');
  }
  view.setUint16(p, n, true);
}

function writeBytes(buf: Buffer, view: DataView, p: number, b: Uint8Array): void {
  buf.set(b, p + VARLEN_PREFIX_BYTES);
  view.setUint16(p, b.length, true);
}

function readVarchar(buf: Buffer, view: DataView, p: number): string {
  const n = view.getUint16(p, true);
  return n === 0 ? '' : buf.toString('utf8', p + VARLEN_PREFIX_BYTES, p + VARLEN_PREFIX_BYTES + n);
}

/** A copy: callers must never hold a view into chunk memory that VACUUM or slot reuse rewrites. */
function readBytes(buf: Buffer, view: DataView, p: number): Uint8Array {
  const n = view.getUint16(p, true);
  const out = new Uint8Array(n);
  out.set(buf.subarray(p + VARLEN_PREFIX_BYTES, p + VARLEN_PREFIX_BYTES + n));
  return out;
}

/** Writes a validated, non-null value into its column. Varlen tails must already be zero. */
function writeValueBytes(buf: Buffer, view: DataView, p: number, col: ColumnSlot, value: Value): void {
  switch (col.typeCode) {
    case TypeCode.int32:
      view.setInt32(p, value as number, true);
      return;
    case TypeCode.int64:
      view.setBigInt64(p, typeof value === 'bigint' ? value : BigInt(value as number), true);
      return;
    case TypeCode.float64:
      view.setFloat64(p, value as number, true);
      return;
    case TypeCode.bool:
      buf[p] = value ? 1 : 0;
      return;
    case TypeCode.varchar:
      writeVarchar(buf, view, p, col.sizeBytes, value as string);
      return;
    default:
      writeBytes(buf, view, p, value as Uint8Array);
  }
}

function readValueBytes(buf: Buffer, view: DataView, p: number, col: ColumnSlot): Value {
  switch (col.typeCode) {
    case TypeCode.int32:
      return view.getInt32(p, true);
    case TypeCode.int64:
      return view.getBigInt64(p, true);
    case TypeCode.float64:
      return view.getFloat64(p, true);
    case TypeCode.bool:
      return buf[p] !== 0;
    case TypeCode.varchar:
      return readVarchar(buf, view, p);
    default:
      return readBytes(buf, view, p);
  }
}

/** Reads one column (null-aware). */
export function readColumnAt(buf: Buffer, view: DataView, base: number, layout: RowLayout, column: number): Value {
  if (isNullAt(buf, base, layout, column)) return null;
  const col = layout.columns[column];
  return readValueBytes(buf, view, base + col.offset, col);
}

/**
 * Overwrites one column with a validated value (null allowed). Clears the column's old bytes first
 * so the one-image invariant holds after shrinking a varchar or setting NULL.
 */
export function writeColumnAt(
  buf: Buffer,
  view: DataView,
  base: number,
  layout: RowLayout,
  column: number,
  value: Value,
): void {
  const col = layout.columns[column];
  const p = base + col.offset;
  if (col.typeCode >= TypeCode.varchar || value === null) buf.fill(0, p, p + col.widthBytes);
  if (value === null) {
    setNullBit(buf, base, layout, column, true);
    return;
  }
  setNullBit(buf, base, layout, column, false);
  writeValueBytes(buf, view, p, col, value);
}

/** Whole-row encode/decode for one layout, compiled once per table (see compileRowCodec). */
export interface RowCodec {
  /** Encodes a validated row into a zeroed slot (missing columns are NULL). Header untouched. */
  encode(buf: Buffer, view: DataView, base: number, row: Row): void;
  /** Decodes a slot into a row object; every row of a table gets the same hidden class. */
  decode(buf: Buffer, view: DataView, base: number): Row;
}

/**
 * Specialises encode/decode to one layout by generating straight-line code: each column is a named
 * property access at a constant offset, so V8 sees monomorphic loads and stores instead of a loop of
 * keyed accesses (about 5x less overhead per row). Only constants and JSON-quoted column names enter
 * the generated source; the schema refuses the one name a literal would misread (`__proto__`).
 */
export function compileRowCodec(layout: RowLayout): RowCodec {
  const enc: string[] = [];
  const dec: string[] = [];
  for (const c of layout.columns) {
    const key = JSON.stringify(c.name);
    const bitAt = `base + ${layout.nullBitmapOffset + (c.index >> 3)}`;
    const mask = 1 << (c.index & 7);
    const p = `base + ${c.offset}`;
    enc.push(`v = ${columnReadSource('row', c.name)}; if (v === null || v === undefined) buf[${bitAt}] |= ${mask}; else ${writeExpr(c, p)};`);
    dec.push(`${key}: (buf[${bitAt}] & ${mask}) !== 0 ? null : ${readExpr(c, p)},`);
  }
  const source =
    `return {\n encode(buf, view, base, row) {\n let v;\n ${enc.join('\n ')}\n },\n` +
    ` decode(buf, view, base) {\n return {\n ${dec.join('\n ')}\n };\n }\n};`;
  const factory = new Function('writeVarchar', 'writeBytes', 'readVarchar', 'readBytes', source) as (
    ...helpers: unknown[]
  ) => RowCodec;
  return factory(writeVarchar, writeBytes, readVarchar, readBytes);
}

function writeExpr(c: ColumnSlot, p: string): string {
  switch (c.typeCode) {
    case TypeCode.int32:
      return `view.setInt32(${p}, v, true)`;
    case TypeCode.int64:
      return `view.setBigInt64(${p}, typeof v === 'bigint' ? v : BigInt(v), true)`;
    case TypeCode.float64:
      return `view.setFloat64(${p}, v, true)`;
    case TypeCode.bool:
      return `buf[${p}] = v ? 1 : 0`;
    case TypeCode.varchar:
      return `writeVarchar(buf, view, ${p}, ${c.sizeBytes}, v)`;
    default:
      return `writeBytes(buf, view, ${p}, v)`;
  }
}

function readExpr(c: ColumnSlot, p: string): string {
  switch (c.typeCode) {
    case TypeCode.int32:
      return `view.getInt32(${p}, true)`;
    case TypeCode.int64:
      return `view.getBigInt64(${p}, true)`;
    case TypeCode.float64:
      return `view.getFloat64(${p}, true)`;
    case TypeCode.bool:
      return `buf[${p}] !== 0`;
    case TypeCode.varchar:
      return `readVarchar(buf, view, ${p})`;
    default:
      return `readBytes(buf, view, ${p})`;
  }
}

/**
 * Structural check of a raw row image (checkpoint load): returns a reason if the bytes cannot be a
 * row of this layout, or undefined. Catches what decoding would silently misread.
 */
export function checkRawRow(buf: Buffer, view: DataView, base: number, layout: RowLayout): string | undefined {
  for (const col of layout.columns) {
    const isNull = isNullAt(buf, base, layout, col.index);
    if (isNull) {
      if (!col.nullable) return `NULL in non-null column "${col.name}"`;
      continue;
    }
    const p = base + col.offset;
    if (col.typeCode === TypeCode.bool && buf[p] > 1) return `column "${col.name}": bool byte ${buf[p]}`;
    if (col.typeCode >= TypeCode.varchar) {
      const n = view.getUint16(p, true);
      if (n > col.sizeBytes) return `column "${col.name}": length ${n} exceeds declared ${col.sizeBytes} bytes`;
    }
  }
  const unusedBits = layout.nullBitmapBytes * 8 - layout.columns.length;
  if (unusedBits > 0) {
    const last = buf[base + layout.nullBitmapOffset + layout.nullBitmapBytes - 1];
    if (last >> (8 - unusedBits) !== 0) return 'null bitmap has bits set past the last column';
  }
  return undefined;
}
