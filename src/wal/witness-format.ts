// The WAL witness file, `wal.witness` in the data directory: a small durable record of an LSN up to
// which the log was known durable when it was written, so that recovery can tell a log whose end was
// lost or cut (damage) from a torn tail. Shared by the writer (wal-writer.ts) and recovery
// (src/recovery/recover.ts, via readWitness). Written whole and atomically (temp file, fdatasync, rename, directory fsync), off
// the commit path: when the engine opens (the recovered end), when the log is about to enter a new
// segment (before any byte of it is written) and at a clean close. Layout (32 bytes, little endian;
// docs/file-formats.md, "WAL witness"):
//
//   offset size field
//   0      u32  magic        0x5449574d ("MWIT")
//   4      u8   version      1
//   5      u8   reason       1 open, 2 segment switch, 3 clean close
//   6      u16  reserved     0
//   8      u64  durableLsn   the log was durable at least up to this LSN (low u32 at 8, high at 12)
//   16     u64  segmentBytes the WAL's segment size (must match the directory's)
//   24     u32  reserved     0
//   28     u32  crc          zlib crc32 of bytes 0..28

import { crc32 } from 'node:zlib';

export const WITNESS_FILE_NAME = 'wal.witness';
export const WITNESS_BYTES = 32;
const MAGIC = 0x5449574d;
const VERSION = 1;
const TWO_POW_32 = 0x1_0000_0000;

export const WitnessReason = { OPEN: 1, SEGMENT_SWITCH: 2, CLEAN_CLOSE: 3 } as const;
export type WitnessReason = (typeof WitnessReason)[keyof typeof WitnessReason];

export interface Witness {
  durableLsn: number;
  segmentBytes: number;
  reason: WitnessReason;
}

export function witnessReasonName(reason: number): string {
  return reason === WitnessReason.OPEN ? 'open' : reason === WitnessReason.SEGMENT_SWITCH ? 'segment switch' : reason === WitnessReason.CLEAN_CLOSE ? 'clean close' : `reason ${reason}`;
}

export function encodeWitness(w: Witness): Uint8Array {
  const bytes = new Uint8Array(WITNESS_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, VERSION);
  view.setUint8(5, w.reason);
  view.setUint32(8, w.durableLsn >>> 0, true);
  view.setUint32(12, Math.floor(w.durableLsn / TWO_POW_32), true);
  view.setUint32(16, w.segmentBytes >>> 0, true);
  view.setUint32(20, Math.floor(w.segmentBytes / TWO_POW_32), true);
  view.setUint32(28, crc32(bytes.subarray(0, 28)), true);
  return bytes;
}

/** The witness, or a string saying why the bytes are not one. */
export function decodeWitness(bytes: Uint8Array): Witness | string {
  if (bytes.length !== WITNESS_BYTES) return `${bytes.length} bytes, expected ${WITNESS_BYTES}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(28, true) !== crc32(bytes.subarray(0, 28))) return 'CRC mismatch';
  if (view.getUint32(0, true) !== MAGIC) return 'bad magic';
  if (view.getUint8(4) !== VERSION) return `version ${view.getUint8(4)} is not supported (expected ${VERSION})`;
  const reason = view.getUint8(5);
  if (reason < WitnessReason.OPEN || reason > WitnessReason.CLEAN_CLOSE) return `unknown reason ${reason}`;
  const durableLsn = view.getUint32(8, true) + view.getUint32(12, true) * TWO_POW_32;
  const segmentBytes = view.getUint32(16, true) + view.getUint32(20, true) * TWO_POW_32;
  return { durableLsn, segmentBytes, reason: reason as WitnessReason };
}
