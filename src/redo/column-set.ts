// Encodes and decodes a "column set" (see redo-format.ts): a bitmap of present columns, a null
// bitmap, then the present non-null values packed without padding. Used by redo entries (full rows,
// deltas and keys). Pure leaves: no knowledge of tables or transactions.

import type { ColumnDef, Row, Value } from '../store/schema.js';
import { bitmapBytes } from './redo-format.js';
import { Errors } from '../errors.js';
import { columnReadSource, columnValue } from '../store/column-access.js';

/** A growable little-endian byte writer, reused across commits (the commit path allocates little). */
export class ByteWriter {
  buf: Buffer;
  view: DataView;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/**
 * Append a column set for `row` (values by column name). `present(i)` selects the columns; columns
 * absent from `row` are not present. Throws a MotError if a value does not fit its column.
 */
export function writeColumnSet(
  w: ByteWriter,
  columns: readonly ColumnDef[],
  row: Row,
  present: ((index: number) => boolean) | null,
): void {
  if (present === null) {
    codecFor(columns).encode(w, row);
    return;
  }
  writeColumnSetGeneric(w, columns, row, present);
}

/** The column-by-column version (any subset of columns); the compiled one handles `present === null`. */
export function writeColumnSetGeneric(
  w: ByteWriter,
  columns: readonly ColumnDef[],
  row: Row,
  present: ((index: number) => boolean) | null,
): void {
  const n = columns.length;
  const mapBytes = bitmapBytes(n);
  w.ensure(mapBytes * 2);
  const presentAt = w.pos;
  const nullAt = presentAt + mapBytes;
  const buf = w.buf;
  for (let i = presentAt; i < nullAt + mapBytes; i++) buf[i] = 0; // a few bytes: cheaper than fill()
  w.pos = nullAt + mapBytes;
  for (let i = 0; i < n; i++) {
    const col = columns[i]!;
    if (present !== null && !present(i)) continue;
    const v = columnValue(row, col.name);
    if (v === undefined) continue;
    w.buf[presentAt + (i >> 3)]! |= 1 << (i & 7);
    if (v === null) {
      w.buf[nullAt + (i >> 3)]! |= 1 << (i & 7);
      continue;
    }
    writeValue(w, col, v);
  }
}

function writeValue(w: ByteWriter, col: ColumnDef, v: Value): void {
  switch (col.type) {
    case 'int32':
      w.ensure(4);
      w.view.setInt32(w.pos, v as number, true);
      w.pos += 4;
      return;
    case 'int64':
      w.ensure(8);
      w.view.setBigInt64(w.pos, typeof v === 'bigint' ? v : BigInt(v as number), true);
      w.pos += 8;
      return;
    case 'float64':
      w.f64(v as number);
      return;
    case 'bool':
      w.u8(v ? 1 : 0);
      return;
    case 'varchar': {
      const s = v as string;
      w.ensure(2 + s.length * 3);
      const len = w.buf.write(s, w.pos + 2, 'utf8');
      if (len > 0xffff) throw Errors.invalidArgument(`value of column "${col.name}"`, `${len} bytes do not fit a redo entry`);
      w.view.setUint16(w.pos, len, true);
      w.pos += 2 + len;
      return;
    }
    case 'bytes': {
      const b = v as Uint8Array;
      if (b.length > 0xffff) throw Errors.invalidArgument(`value of column "${col.name}"`, `${b.length} bytes do not fit a redo entry`);
      w.u16(b.length);
      w.bytes(b);
      return;
    }
  }
}

export interface DecodedColumnSet {
  /** Values of the present columns, by column name (null for SQL NULL). */
  row: Row;
  /** Indexes of the present columns, ascending. */
  present: number[];
}

/** Decode a column set. Throws a RangeError on truncated input (callers turn it into corruption). */
export function readColumnSet(bytes: Uint8Array, columns: readonly ColumnDef[]): DecodedColumnSet {
  return codecFor(columns).decode(bytes);
}

/** The column-by-column decoder (the reference the compiled one is tested against). */
export function readColumnSetGeneric(bytes: Uint8Array, columns: readonly ColumnDef[]): DecodedColumnSet {
  const n = columns.length;
  const mapBytes = bitmapBytes(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = mapBytes * 2;
  const row: Row = {};
  const present: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!(bytes[i >> 3]! & (1 << (i & 7)))) continue;
    present.push(i);
    const col = columns[i]!;
    if (bytes[mapBytes + (i >> 3)]! & (1 << (i & 7))) {
      row[col.name] = null;
      continue;
    }
    switch (col.type) {
      case 'int32':
        row[col.name] = view.getInt32(pos, true);
        pos += 4;
        break;
      case 'int64':
        row[col.name] = view.getBigInt64(pos, true);
        pos += 8;
        break;
      case 'float64':
        row[col.name] = view.getFloat64(pos, true);
        pos += 8;
        break;
      case 'bool':
        row[col.name] = view.getUint8(pos) !== 0;
        pos += 1;
        break;
      case 'varchar': {
        const len = view.getUint16(pos, true);
        if (pos + 2 + len > bytes.length) throw new RangeError('column set truncated');
        row[col.name] = Buffer.from(bytes.buffer, bytes.byteOffset + pos + 2, len).toString('utf8');
        pos += 2 + len;
        break;
      }
      case 'bytes': {
        const len = view.getUint16(pos, true);
        if (pos + 2 + len > bytes.length) throw new RangeError('column set truncated');
        row[col.name] = bytes.slice(pos + 2, pos + 2 + len);
        pos += 2 + len;
        break;
      }
    }
  }
  if (pos !== bytes.length) throw new RangeError(`column set has ${bytes.length - pos} trailing bytes`);
  return { row, present };
}

// ---- Compiled codecs ----
// Generated once per table schema (like the store's row codec): straight-line code with constant
// bit positions and monomorphic property access is several times faster than the loops above on the
// commit path and in WAL replay. Only constants and JSON-quoted column names enter the source.

interface ColumnSetCodec {
  encode(w: ByteWriter, row: Row): void;
  decode(bytes: Uint8Array): DecodedColumnSet;
}

const codecs = new WeakMap<readonly ColumnDef[], ColumnSetCodec>();

function codecFor(columns: readonly ColumnDef[]): ColumnSetCodec {
  let c = codecs.get(columns);
  if (!c) {
    c = compileColumnSetCodec(columns);
    codecs.set(columns, c);
  }
  return c;
}

export function compileColumnSetCodec(columns: readonly ColumnDef[]): ColumnSetCodec {
  const n = columns.length;
  const mapBytes = bitmapBytes(n);
  const enc: string[] = [];
  const dec: string[] = [];
  columns.forEach((col, i) => {
    const key = JSON.stringify(col.name);
    const byte = i >> 3;
    const bit = 1 << (i & 7);
    enc.push(
      `v = ${columnReadSource('row', col.name)};`,
      `if (v !== undefined) { buf[p0 + ${byte}] |= ${bit};`,
      `  if (v === null) buf[p0 + ${mapBytes + byte}] |= ${bit}; else { ${encodeValue(col, i)} } }`,
    );
    dec.push(
      `if (bytes[${byte}] & ${bit}) { present.push(${i});`,
      `  if (bytes[${mapBytes + byte}] & ${bit}) row[${key}] = null; else { ${decodeValue(col, key)} } }`,
    );
  });
  const source = `return {
  encode(w, row) {
    w.ensure(${mapBytes * 2});
    let buf = w.buf;
    const p0 = w.pos;
    for (let i = 0; i < ${mapBytes * 2}; i++) buf[p0 + i] = 0;
    w.pos = p0 + ${mapBytes * 2};
    let v;
    ${enc.join('\n    ')}
  },
  decode(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = ${mapBytes * 2};
    const row = {};
    const present = [];
    let len;
    ${dec.join('\n    ')}
    if (pos !== bytes.length) throw new RangeError('column set has ' + (bytes.length - pos) + ' trailing bytes');
    return { row, present };
  }
};`;
  const factory = new Function('writeValue', 'columns', 'readUtf8', 'RangeError', source) as (...a: unknown[]) => ColumnSetCodec;
  return factory(writeValue, columns, readUtf8, RangeError);
}

function encodeValue(col: ColumnDef, index: number): string {
  // Fixed-size values inline; strings and bytes through writeValue (size checks). Any write may grow
  // (reallocate) the writer's buffer, hence `buf = w.buf` after it.
  switch (col.type) {
    case 'int32':
      return `w.ensure(4); buf = w.buf; w.view.setInt32(w.pos, v, true); w.pos += 4;`;
    case 'int64':
      return `w.ensure(8); buf = w.buf; w.view.setBigInt64(w.pos, typeof v === 'bigint' ? v : BigInt(v), true); w.pos += 8;`;
    case 'float64':
      return `w.ensure(8); buf = w.buf; w.view.setFloat64(w.pos, v, true); w.pos += 8;`;
    case 'bool':
      return `w.ensure(1); buf = w.buf; buf[w.pos++] = v ? 1 : 0;`;
    default:
      return `writeValue(w, columns[${index}], v); buf = w.buf;`;
  }
}

function decodeValue(col: ColumnDef, key: string): string {
  switch (col.type) {
    case 'int32':
      return `row[${key}] = view.getInt32(pos, true); pos += 4;`;
    case 'int64':
      return `row[${key}] = view.getBigInt64(pos, true); pos += 8;`;
    case 'float64':
      return `row[${key}] = view.getFloat64(pos, true); pos += 8;`;
    case 'bool':
      return `row[${key}] = view.getUint8(pos) !== 0; pos += 1;`;
    case 'varchar':
      return `len = view.getUint16(pos, true); if (pos + 2 + len > bytes.length) throw new RangeError('column set truncated'); row[${key}] = readUtf8(bytes, pos + 2, len); pos += 2 + len;`;
    case 'bytes':
      return `len = view.getUint16(pos, true); if (pos + 2 + len > bytes.length) throw new RangeError('column set truncated'); row[${key}] = bytes.slice(pos + 2, pos + 2 + len); pos += 2 + len;`;
  }
}

function readUtf8(bytes: Uint8Array, at: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString('utf8');
}
