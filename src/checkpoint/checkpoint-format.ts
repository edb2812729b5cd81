// The checkpoint's on-disk format, shared by the writer (checkpoint-writer.ts), the reader
// (checkpoint-reader.ts) and the segment worker, which never import each other: names, constants and
// the pure encode/verify leaves. Invariants: all integers little endian; every file carries a CRC;
// a checkpoint directory is complete iff its end marker exists (the control file names only those).
//
// Files under checkpoint_dir (docs/file-formats.md, "Checkpoint"):
//   mot.ctrl                       control file, 64 bytes, replaced atomically (tmp, fsync, rename, fsync dir)
//   chkpt_<id>/tables.meta         envelope(kind 1): msgpack { checkpointId, csn, tables: [{ id, def, rowBytes }] }
//   chkpt_<id>/tbl_<table>_<n>.seg data segment n (from 0) of table <table>, at most checkpoint_segsize bytes
//   chkpt_<id>/segments.map        envelope(kind 2): msgpack { checkpointId, tables: [{ id, segments, rows }] }
//   chkpt_<id>/end.marker          envelope(kind 3): msgpack { checkpointId, lsn, csn, tables, segments, rows,
//                                  kind?, baseId?, prevId?, prevCsn?, wallMs?, tombstones? }
//   chkpt_<id>/tbl_<table>.del     envelope(kind 4), incremental only: msgpack { checkpointId, tableId, keys }
//
// Chains: a full checkpoint (kind 'full', or no kind: written before increments existed) holds every
// row live at its CSN; an incremental one (kind 'incremental', baseId = the chain's full checkpoint,
// prevId/prevCsn = the checkpoint it follows) holds, per table, the rows whose state at its CSN was
// written after prevCsn (whole rows) and the keys removed since (tombstones), or the whole table when
// tables.meta marks it replaceAll (created or truncated since). Recovery loads the full one, then each
// increment in order (tombstones, then rows), then the WAL after the last one's LSN.
//
// Control file (64 bytes):
//   0 u32 magic 0x4c54434d ("MCTL")   4 u8 version 1   5 u8 0   6 u16 0
//   8 u64 checkpointId   16 u64 checkpointLsn (L0)   24 f64 checkpointCsn (C)   32 u64 lastReplayLsn
//   40 f64 maxTxId       48 u64 chainBaseId (the chain's full checkpoint; 0 = checkpointId itself)
//   56 u32 0   60 u32 crc32 of bytes 0..60
// Envelope (metadata, map, end marker):
//   0 u32 magic 0x4d4b434d ("MCKM")   4 u8 kind (1 tables, 2 map, 3 end)   5 u8 version 1   6 u16 0
//   8 u32 bodyBytes   12 u32 crc32 of bytes 0..12 then of the body   16 body (msgpack), file = 16 + bodyBytes
// Data segment:
//   0 u32 magic 0x534b434d ("MCKS")   4 u8 version 1   5 u8 0   6 u16 0
//   8 u32 tableId   12 u32 segmentNumber   16 u32 rowCount   20 u32 rowBytes
//   24 u32 crc32 of the body   28 u32 crc32 of bytes 0..28   32 body: rowCount entries of rowBytes each
//   entry = the row's slot image (store/row-layout.ts): f64 csn (its last writer, <= the checkpoint's
//   CSN) | u32 flags (1 = LIVE) | null bitmap | columns | zero padding; file = 32 + rowCount * rowBytes

import { crc32 } from 'node:zlib';
import { pack, unpack } from 'msgpackr';
import type { TableDef } from '../store/schema.js';

export const CONTROL_FILE_NAME = 'mot.ctrl';
export const CONTROL_FILE_BYTES = 64;
export const CONTROL_MAGIC = 0x4c54434d;
export const ENVELOPE_MAGIC = 0x4d4b434d;
export const SEGMENT_MAGIC = 0x534b434d;
export const FORMAT_VERSION = 1;
export const ENVELOPE_HEADER_BYTES = 16;
export const SEGMENT_HEADER_BYTES = 32;
export const TABLES_FILE_NAME = 'tables.meta';
export const MAP_FILE_NAME = 'segments.map';
export const END_MARKER_FILE_NAME = 'end.marker';
/** Longest chain (the full checkpoint plus its increments): past it, increment_checkpoint writes a full one. */
export const CHAIN_LENGTH_MAX = 64;
/** Slot flag of a live row (row-layout.ts ROW_FLAG_LIVE): every entry carries it. */
export const ENTRY_FLAG_LIVE = 1;
/** Offset of the flags inside an entry (after the f64 CSN). */
export const ENTRY_FLAGS_OFFSET = 8;

export const EnvelopeKind = { TABLES: 1, MAP: 2, END: 3, TOMBSTONES: 4 } as const;
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];

const TWO_POW_32 = 0x1_0000_0000;

// ---- names ----

export function checkpointDirName(id: number): string {
  return `chkpt_${id}`;
}

/** The id of a `chkpt_<id>` directory name, or undefined for any other name. */
export function parseCheckpointDirName(name: string): number | undefined {
  const m = /^chkpt_([1-9][0-9]{0,14})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function segmentFileName(tableId: number, segmentNumber: number): string {
  return `tbl_${tableId}_${segmentNumber}.seg`;
}

/** The tombstones (keys removed since the previous checkpoint) of one table in an incremental checkpoint. */
export function tombstoneFileName(tableId: number): string {
  return `tbl_${tableId}.del`;
}

// ---- control file ----

export interface ControlRecord {
  checkpointId: number;
  /** L0: the WAL position where replay starts; every frame before it is in the checkpoint. */
  checkpointLsn: number;
  /** C: the consistency point; WAL records with a commit CSN <= C are in the checkpoint. */
  checkpointCsn: number;
  /** The WAL durable LSN when the control file was written (informational). */
  lastReplayLsn: number;
  /** Transaction ids are never reused below this. */
  maxTxId: number;
  /** The full checkpoint the chain starts at (= checkpointId for a full checkpoint). */
  chainBaseId: number;
}

export function encodeControl(c: ControlRecord): Uint8Array {
  const bytes = new Uint8Array(CONTROL_FILE_BYTES);
  const v = viewOf(bytes);
  v.setUint32(0, CONTROL_MAGIC, true);
  v.setUint8(4, FORMAT_VERSION);
  writeU64(v, 8, c.checkpointId);
  writeU64(v, 16, c.checkpointLsn);
  v.setFloat64(24, c.checkpointCsn, true);
  writeU64(v, 32, c.lastReplayLsn);
  v.setFloat64(40, c.maxTxId, true);
  writeU64(v, 48, c.chainBaseId === c.checkpointId ? 0 : c.chainBaseId);
  v.setUint32(60, crc32(bytes.subarray(0, 60)), true);
  return bytes;
}

/** The record, or the reason the bytes are not a valid control file. */
export function decodeControl(bytes: Uint8Array): ControlRecord | string {
  if (bytes.length !== CONTROL_FILE_BYTES) return `the file is ${bytes.length} bytes, expected ${CONTROL_FILE_BYTES}`;
  const v = viewOf(bytes);
  if (v.getUint32(60, true) !== crc32(bytes.subarray(0, 60))) return 'CRC mismatch';
  if (v.getUint32(0, true) !== CONTROL_MAGIC) return 'bad magic number';
  if (v.getUint8(4) !== FORMAT_VERSION) return `format version ${v.getUint8(4)}, expected ${FORMAT_VERSION}`;
  return {
    checkpointId: readU64(v, 8),
    checkpointLsn: readU64(v, 16),
    checkpointCsn: v.getFloat64(24, true),
    lastReplayLsn: readU64(v, 32),
    maxTxId: v.getFloat64(40, true),
    chainBaseId: readU64(v, 48) || readU64(v, 8),
  };
}

// ---- envelopes (msgpack bodies) ----

export function encodeEnvelope(kind: EnvelopeKind, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(ENVELOPE_HEADER_BYTES + body.length);
  const v = viewOf(bytes);
  v.setUint32(0, ENVELOPE_MAGIC, true);
  v.setUint8(4, kind);
  v.setUint8(5, FORMAT_VERSION);
  v.setUint32(8, body.length, true);
  bytes.set(body, ENVELOPE_HEADER_BYTES);
  v.setUint32(12, envelopeCrc(bytes), true);
  return bytes;
}

/** The body, or the reason the bytes are not a valid envelope of this kind. */
export function decodeEnvelope(bytes: Uint8Array, kind: EnvelopeKind): Uint8Array | string {
  if (bytes.length < ENVELOPE_HEADER_BYTES) return `the file is ${bytes.length} bytes, shorter than its ${ENVELOPE_HEADER_BYTES}-byte header`;
  const v = viewOf(bytes);
  if (v.getUint32(0, true) !== ENVELOPE_MAGIC) return 'bad magic number';
  const bodyBytes = v.getUint32(8, true);
  if (ENVELOPE_HEADER_BYTES + bodyBytes !== bytes.length) return `header says ${bodyBytes} body bytes, the file holds ${bytes.length - ENVELOPE_HEADER_BYTES}`;
  if (v.getUint32(12, true) !== envelopeCrc(bytes)) return 'CRC mismatch';
  if (v.getUint8(4) !== kind) return `kind ${v.getUint8(4)}, expected ${kind}`;
  if (v.getUint8(5) !== FORMAT_VERSION) return `format version ${v.getUint8(5)}, expected ${FORMAT_VERSION}`;
  return bytes.subarray(ENVELOPE_HEADER_BYTES);
}

function envelopeCrc(bytes: Uint8Array): number {
  return crc32(bytes.subarray(ENVELOPE_HEADER_BYTES), crc32(bytes.subarray(0, 12)));
}

// ---- the three msgpack bodies ----

export interface TablesMeta {
  checkpointId: number;
  csn: number;
  /** replaceAll (incremental only): the segments hold the whole table (created or truncated since the previous checkpoint). */
  tables: { id: number; def: TableDef; rowBytes: number; replaceAll?: boolean }[];
}

export interface SegmentMap {
  checkpointId: number;
  /** tombstones (incremental only): keys in the table's tombstone file (none: no file). */
  tables: { id: number; segments: number; rows: number; tombstones?: number }[];
}

export type CheckpointKind = 'full' | 'incremental';

export interface EndMarker {
  checkpointId: number;
  lsn: number;
  csn: number;
  tables: number;
  segments: number;
  rows: number;
  /** Absent in checkpoints written before increments existed: 'full'. */
  kind?: CheckpointKind;
  /** The chain's full checkpoint (incremental only). */
  baseId?: number;
  /** The checkpoint this increment follows, and its CSN (incremental only). */
  prevId?: number;
  prevCsn?: number;
  /** Wall clock (ms) at the consistency point: every commit it holds committed at or before it (PITR). */
  wallMs?: number;
  /** Keys in the tombstone files (incremental only). */
  tombstones?: number;
}

/** Tombstones of one table: primary keys (a value, or an array for a composite key) removed since prevCsn. */
export interface TombstoneBody {
  checkpointId: number;
  tableId: number;
  keys: unknown[];
}

export function encodeBody(kind: EnvelopeKind, body: TablesMeta | SegmentMap | EndMarker | TombstoneBody): Uint8Array {
  return encodeEnvelope(kind, pack(body));
}

/** The decoded body of an envelope of this kind, or the reason it is not one. */
export function decodeBody<T extends TablesMeta | SegmentMap | EndMarker | TombstoneBody>(bytes: Uint8Array, kind: EnvelopeKind): T | string {
  const body = decodeEnvelope(bytes, kind);
  if (typeof body === 'string') return body;
  let value: unknown;
  try {
    value = unpack(body);
  } catch (e) {
    return `msgpack body does not decode (${(e as Error).message})`;
  }
  const shape = SHAPES[kind];
  if (typeof value !== 'object' || value === null) return 'body is not a record';
  for (const [field, type] of Object.entries(shape)) {
    const got = (value as Record<string, unknown>)[field];
    if (type === 'array' ? !Array.isArray(got) : typeof got !== type) return `body field "${field}" is not a ${type}`;
  }
  return value as T;
}

const SHAPES: Record<EnvelopeKind, Record<string, 'number' | 'array'>> = {
  [EnvelopeKind.TABLES]: { checkpointId: 'number', csn: 'number', tables: 'array' },
  [EnvelopeKind.MAP]: { checkpointId: 'number', tables: 'array' },
  [EnvelopeKind.END]: { checkpointId: 'number', lsn: 'number', csn: 'number', tables: 'number', segments: 'number', rows: 'number' },
  [EnvelopeKind.TOMBSTONES]: { checkpointId: 'number', tableId: 'number', keys: 'array' },
};

/** The chain an end marker belongs to: its full checkpoint's id. */
export function chainBaseOf(end: EndMarker): number {
  return end.kind === 'incremental' ? (end.baseId ?? 0) : end.checkpointId;
}

// ---- data segments (run by the segment worker, or inline) ----

export interface SegmentHeader {
  tableId: number;
  segmentNumber: number;
  rowCount: number;
  rowBytes: number;
}

/** Bytes of a segment holding `rowCount` entries. */
export function segmentBytes(rowCount: number, rowBytes: number): number {
  return SEGMENT_HEADER_BYTES + rowCount * rowBytes;
}

/**
 * Fill in the header of a segment whose body (bytes 32..) is already written: counts and CRCs. In
 * place; `bytes` must be exactly segmentBytes(h.rowCount, h.rowBytes) long.
 */
export function sealSegment(bytes: Uint8Array, h: SegmentHeader): void {
  const v = viewOf(bytes);
  v.setUint32(0, SEGMENT_MAGIC, true);
  v.setUint8(4, FORMAT_VERSION);
  v.setUint8(5, 0);
  v.setUint16(6, 0, true);
  v.setUint32(8, h.tableId, true);
  v.setUint32(12, h.segmentNumber, true);
  v.setUint32(16, h.rowCount, true);
  v.setUint32(20, h.rowBytes, true);
  v.setUint32(24, crc32(bytes.subarray(SEGMENT_HEADER_BYTES)), true);
  v.setUint32(28, crc32(bytes.subarray(0, 28)), true);
}

/** Where a segment failed verification: a byte offset in the file and why. */
export interface SegmentFault {
  offset: number;
  reason: string;
}

/**
 * Verify a segment read back against what the map and metadata say it must hold. Returns the header
 * or a fault. The body's CRC covers every entry, so a caller may trust the entries afterwards.
 */
export function verifySegment(bytes: Uint8Array, expected: SegmentHeader): SegmentHeader | SegmentFault {
  if (bytes.length < SEGMENT_HEADER_BYTES) return { offset: 0, reason: `the file is ${bytes.length} bytes, shorter than its ${SEGMENT_HEADER_BYTES}-byte header` };
  const v = viewOf(bytes);
  if (v.getUint32(28, true) !== crc32(bytes.subarray(0, 28))) return { offset: 0, reason: 'header CRC mismatch' };
  if (v.getUint32(0, true) !== SEGMENT_MAGIC) return { offset: 0, reason: 'bad magic number' };
  if (v.getUint8(4) !== FORMAT_VERSION) return { offset: 4, reason: `format version ${v.getUint8(4)}, expected ${FORMAT_VERSION}` };
  const h: SegmentHeader = {
    tableId: v.getUint32(8, true),
    segmentNumber: v.getUint32(12, true),
    rowCount: v.getUint32(16, true),
    rowBytes: v.getUint32(20, true),
  };
  for (const field of ['tableId', 'segmentNumber', 'rowBytes'] as const) {
    if (h[field] !== expected[field]) return { offset: 0, reason: `header says ${field} ${h[field]}, expected ${expected[field]}` };
  }
  if (bytes.length !== segmentBytes(h.rowCount, h.rowBytes)) {
    return { offset: SEGMENT_HEADER_BYTES, reason: `header says ${h.rowCount} rows of ${h.rowBytes} bytes, the file is ${bytes.length} bytes` };
  }
  if (v.getUint32(24, true) !== crc32(bytes.subarray(SEGMENT_HEADER_BYTES))) return { offset: SEGMENT_HEADER_BYTES, reason: 'body CRC mismatch' };
  return h;
}

export function isSegmentFault<T>(r: T | SegmentFault): r is SegmentFault {
  return !(r instanceof Uint8Array) && typeof (r as SegmentFault).reason === 'string';
}

// ---- helpers ----

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function writeU64(v: DataView, offset: number, n: number): void {
  v.setUint32(offset, n % TWO_POW_32, true);
  v.setUint32(offset + 4, Math.floor(n / TWO_POW_32), true);
}

function readU64(v: DataView, offset: number): number {
  return v.getUint32(offset, true) + v.getUint32(offset + 4, true) * TWO_POW_32;
}
