// The WAL's on-disk format, shared by the writer and the reader (which never import each other):
// constants, frame encoder/decoder, segment naming. Invariants: frames are 8-byte aligned, never
// straddle a segment, carry their own LSN, and all integers are little endian.
//
// LSN = logical byte position in the log (a plain number < 2^53). The log is a sequence of segment
// files in the WAL directory, each covering LSNs [k*segmentBytes, (k+1)*segmentBytes) and named by
// its first LSN in 16 lowercase hex digits: `0000000001000000.wal`. Grammar (docs/file-formats.md):
//   log     := segment*
//   segment := frame* [SEGMENT_END frame] zeros        (a remainder < 32 bytes is skipped silently)
//
// Frame (32-byte header, payload, zero padding to a multiple of 8):
//   offset size field
//   0      u32  crc          zlib crc32 of bytes 4 .. 32+payloadLength of the frame (padding excluded)
//   4      u32  payloadLength
//   8      u8   type         1 = REDO, 2 = SEGMENT_END (rest of segment unused), 3 = CHECKPOINT_MARK
//   9      u8   version      1
//   10     u16  reserved     0
//   12     u32  reserved     0
//   16     u64  lsn          this frame's own LSN (low u32 at 16, high u32 at 20): catches stale data
//   24     u64  syncedLsn    LSN known durable when the frame was written (low at 24, high at 28)
//   32     ...  payload, then 0..7 zero bytes of padding

import { crc32 } from 'node:zlib';
import { assert } from '../errors.js';

/** A logical byte position in the log. */
export type Lsn = number;

export const FRAME_HEADER_BYTES = 32;
export const FRAME_ALIGN_BYTES = 8;
/** The unit a device writes atomically: a torn write leaves each sector wholly old or wholly new. */
export const SECTOR_BYTES = 512;
export const FRAME_VERSION = 1;
/** Segment sizes are whole sectors, so sector boundaries in a file are sector boundaries in LSN space. */
export const SEGMENT_BYTES_MIN = SECTOR_BYTES;
/** The reader holds a whole segment in one buffer. */
export const SEGMENT_BYTES_MAX = 1024 * 1024 * 1024;

export const FrameType = { REDO: 1, SEGMENT_END: 2, CHECKPOINT_MARK: 3 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Byte offsets of the header fields inside a frame. */
export const FrameOffset = {
  CRC: 0,
  PAYLOAD_LENGTH: 4,
  TYPE: 8,
  VERSION: 9,
  LSN: 16,
  SYNCED_LSN: 24,
  PAYLOAD: 32,
} as const;

const TWO_POW_32 = 0x1_0000_0000;
const PAYLOAD_BYTES_LIMIT = 0xffff_ffff;

export interface FrameHeader {
  crc: number;
  payloadLength: number;
  type: number;
  version: number;
  lsn: number;
  syncedLsn: number;
}

export function isFrameType(type: number): type is FrameType {
  return type === FrameType.REDO || type === FrameType.SEGMENT_END || type === FrameType.CHECKPOINT_MARK;
}

/** Total bytes a frame with this payload occupies in the log: header + payload, aligned up to 8. */
export function frameBytes(payloadLength: number): number {
  // Modulo rather than `& ~7`: payload lengths near 4 GiB overflow 32-bit bitwise operators.
  const unaligned = FRAME_HEADER_BYTES + payloadLength + FRAME_ALIGN_BYTES - 1;
  return unaligned - (unaligned % FRAME_ALIGN_BYTES);
}

/** crc32 of the CRC-covered part of a frame at `offset` (bytes 4 .. 32+payloadLength). */
export function frameCrc(bytes: Uint8Array, offset: number, payloadLength: number): number {
  return crc32Range(bytes, offset + FrameOffset.PAYLOAD_LENGTH, offset + FRAME_HEADER_BYTES + payloadLength);
}

/** Below this many bytes a JS loop beats zlib.crc32 (whose call and subarray cost ~300 ns). */
const CRC_NATIVE_BYTES_MIN = 128;

/** zlib's crc32 (CRC-32/ISO-HDLC) of bytes[start, end), computed in JS for short ranges. */
export function crc32Range(bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= CRC_NATIVE_BYTES_MIN) return crc32(bytes.subarray(start, end));
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      CRC_TABLE[1792 + (lo & 0xff)]! ^
      CRC_TABLE[1536 + ((lo >>> 8) & 0xff)]! ^
      CRC_TABLE[1280 + ((lo >>> 16) & 0xff)]! ^
      CRC_TABLE[1024 + (lo >>> 24)]! ^
      CRC_TABLE[768 + bytes[i + 4]!]! ^
      CRC_TABLE[512 + bytes[i + 5]!]! ^
      CRC_TABLE[256 + bytes[i + 6]!]! ^
      CRC_TABLE[bytes[i + 7]!]!;
  }
  for (; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Slice-by-8 tables for the reflected polynomial 0xedb88320: table t at [t*256, t*256+256). */
const CRC_TABLE = ((): Int32Array => {
  const table = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let t = 1; t < 8; t++) {
    for (let n = 0; n < 256; n++) {
      const prev = table[(t - 1) * 256 + n]!;
      table[t * 256 + n] = table[prev & 0xff]! ^ (prev >>> 8);
    }
  }
  return table;
})();

/** A frame's payload: one byte array, or several laid end to end (e.g. consecutive redo buffers). */
export type FramePayload = Uint8Array | readonly Uint8Array[];

export function payloadBytes(payload: FramePayload): number {
  if (payload instanceof Uint8Array) return payload.length;
  let n = 0;
  for (const p of payload) n += p.length;
  return n;
}

/**
 * Encode one frame at `target[offset..]`, padding included (so a reused buffer needs no clearing).
 * Returns the bytes written, frameBytes(payload length).
 */
export function encodeFrameInto(
  target: Uint8Array,
  offset: number,
  type: FrameType,
  lsn: Lsn,
  syncedLsn: Lsn,
  payload: FramePayload,
): number {
  const length = payloadBytes(payload);
  const total = frameBytes(length);
  // Checked as one condition so the messages are only built on failure (this is the commit path).
  if (
    !isFrameType(type) ||
    !(Number.isSafeInteger(lsn) && lsn >= 0 && lsn % FRAME_ALIGN_BYTES === 0) ||
    !(Number.isSafeInteger(syncedLsn) && syncedLsn >= 0 && syncedLsn <= lsn) ||
    length > PAYLOAD_BYTES_LIMIT - FRAME_HEADER_BYTES ||
    !(Number.isInteger(offset) && offset >= 0 && offset + total <= target.length)
  ) {
    assert(isFrameType(type), `frame type ${type} is known`);
    assert(Number.isSafeInteger(lsn) && lsn >= 0 && lsn % FRAME_ALIGN_BYTES === 0, `frame LSN ${lsn} is aligned`);
    assert(Number.isSafeInteger(syncedLsn) && syncedLsn >= 0 && syncedLsn <= lsn, `syncedLsn ${syncedLsn} <= lsn ${lsn}`);
    assert(length <= PAYLOAD_BYTES_LIMIT - FRAME_HEADER_BYTES, `payload of ${length} bytes fits a u32`);
    assert(false, `frame of ${total} bytes at offset ${offset} fits the target buffer of ${target.length} bytes`);
  }
  writeU32(target, offset + FrameOffset.PAYLOAD_LENGTH, length);
  target[offset + FrameOffset.TYPE] = type;
  target[offset + FrameOffset.VERSION] = FRAME_VERSION;
  target[offset + 10] = 0;
  target[offset + 11] = 0;
  writeU32(target, offset + 12, 0);
  writeU64(target, offset + FrameOffset.LSN, lsn);
  writeU64(target, offset + FrameOffset.SYNCED_LSN, syncedLsn);
  if (payload instanceof Uint8Array) {
    target.set(payload, offset + FrameOffset.PAYLOAD);
  } else {
    let at = offset + FrameOffset.PAYLOAD;
    for (const p of payload) {
      target.set(p, at);
      at += p.length;
    }
  }
  for (let i = offset + FRAME_HEADER_BYTES + length; i < offset + total; i++) target[i] = 0;
  writeU32(target, offset + FrameOffset.CRC, frameCrc(target, offset, length));
  return total;
}

/** Encode one frame into a new buffer of frameBytes(payload.length) bytes. */
export function encodeFrame(type: FrameType, lsn: Lsn, syncedLsn: Lsn, payload: FramePayload): Uint8Array {
  const bytes = new Uint8Array(frameBytes(payloadBytes(payload)));
  encodeFrameInto(bytes, 0, type, lsn, syncedLsn, payload);
  return bytes;
}

/** Decode the 32-byte header at `offset` (no validation: the reader decides what a bad header means). */
export function decodeFrameHeader(bytes: Uint8Array, offset: number): FrameHeader {
  assert(offset >= 0 && offset + FRAME_HEADER_BYTES <= bytes.length, 'a whole header is present');
  return {
    crc: readU32(bytes, offset + FrameOffset.CRC),
    payloadLength: readU32(bytes, offset + FrameOffset.PAYLOAD_LENGTH),
    type: bytes[offset + FrameOffset.TYPE]!,
    version: bytes[offset + FrameOffset.VERSION]!,
    lsn: readU64(bytes, offset + FrameOffset.LSN),
    syncedLsn: readU64(bytes, offset + FrameOffset.SYNCED_LSN),
  };
}

/** Name (not path) of the segment file whose first LSN is `firstLsn`. */
export function segmentFileName(firstLsn: Lsn): string {
  assert(Number.isSafeInteger(firstLsn) && firstLsn >= 0, `segment LSN ${firstLsn} is a safe integer`);
  return `${hex16(firstLsn)}.wal`;
}

const SEGMENT_NAME = /^([0-9a-f]{16})\.wal$/;

/** First LSN of a segment file from its name; undefined for any other file name. */
export function parseSegmentFileName(name: string): Lsn | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  const lsn = parseInt(m[1]!, 16);
  return Number.isSafeInteger(lsn) ? lsn : undefined;
}

/**
 * Name of the file keeping the bytes a torn-tail repair cut at `endLsn`: `torn-<16 hex>.bin`, or
 * `torn-<16 hex>-<copy>.bin` for a later repair at the same LSN (a copy is never overwritten).
 */
export function tornCopyFileName(endLsn: Lsn, copy = 0): string {
  return copy === 0 ? `torn-${hex16(endLsn)}.bin` : `torn-${hex16(endLsn)}-${copy}.bin`;
}

/** A segment size the format supports: whole sectors, between SEGMENT_BYTES_MIN and SEGMENT_BYTES_MAX. */
export function isValidSegmentBytes(segmentBytes: number): boolean {
  return (
    Number.isInteger(segmentBytes) &&
    segmentBytes >= SEGMENT_BYTES_MIN &&
    segmentBytes <= SEGMENT_BYTES_MAX &&
    segmentBytes % SECTOR_BYTES === 0
  );
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

function readU64(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) + readU32(bytes, offset + 4) * TWO_POW_32;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

function writeU64(bytes: Uint8Array, offset: number, value: number): void {
  writeU32(bytes, offset, value >>> 0);
  writeU32(bytes, offset + 4, Math.floor(value / TWO_POW_32));
}
