// Parses redo buffers (layout in redo-format.ts) into entries, for recovery and waldump. It reports
// malformed input as a RedoFormatError with the offset inside the buffer; the caller, who knows the
// WAL file and position, decides what that means (it was inside a frame with a valid CRC, so it is
// corruption or a version mismatch, never a torn write).

import { Unpackr } from 'msgpackr';
import {
  REDO_BUFFER_HEADER_BYTES,
  REDO_END_BLOCK_BYTES,
  REDO_ENTRY_HEADER_BYTES,
  REDO_FORMAT_VERSION,
  RedoEndOp,
} from './redo-format.js';

export class RedoFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'RedoFormatError';
  }
}

export interface RedoEntry {
  op: number;
  tableId: number;
  /** Entry body (a view into the buffer): a column set for row ops, msgpack for DDL. */
  body: Uint8Array;
}

export interface RedoBuffer {
  endOp: number;
  txId: number;
  /** Commit sequence number (0 in PARTIAL buffers). */
  csn: number;
  commitWallMs: number;
  entries: RedoEntry[];
}

const ddlUnpackr = new Unpackr({ useRecords: false, int64AsType: 'bigint' });

export function decodeDdlBody<T>(body: Uint8Array): T {
  return ddlUnpackr.unpack(body) as T;
}

export function decodeRedoBuffer(bytes: Uint8Array): RedoBuffer {
  if (bytes.length < REDO_BUFFER_HEADER_BYTES + REDO_END_BLOCK_BYTES) {
    throw new RedoFormatError(`redo buffer of ${bytes.length} bytes is shorter than its header and end block`, 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = view.getUint32(0, true);
  if (total !== bytes.length) throw new RedoFormatError(`redo buffer says ${total} bytes but has ${bytes.length}`, 0);
  const e = total - REDO_END_BLOCK_BYTES;
  const endOp = view.getUint8(e);
  if (endOp !== RedoEndOp.COMMIT && endOp !== RedoEndOp.PARTIAL && endOp !== RedoEndOp.ROLLBACK) {
    throw new RedoFormatError(`unknown end-block operation ${endOp}`, e);
  }
  const version = view.getUint8(e + 1);
  if (version !== REDO_FORMAT_VERSION) throw new RedoFormatError(`redo format version ${version} is not supported`, e + 1);
  const entryCount = view.getUint32(e + 4, true);
  const entries: RedoEntry[] = [];
  let pos = REDO_BUFFER_HEADER_BYTES;
  for (let i = 0; i < entryCount; i++) {
    if (pos + REDO_ENTRY_HEADER_BYTES > e) throw new RedoFormatError(`entry ${i} header runs past the end block`, pos);
    const op = view.getUint8(pos);
    const tableId = view.getUint32(pos + 4, true);
    const bodyBytes = view.getUint32(pos + 8, true);
    const bodyAt = pos + REDO_ENTRY_HEADER_BYTES;
    if (bodyAt + bodyBytes > e) throw new RedoFormatError(`entry ${i} body runs past the end block`, pos);
    entries.push({ op, tableId, body: bytes.subarray(bodyAt, bodyAt + bodyBytes) });
    pos = bodyAt + bodyBytes;
  }
  if (pos !== e) throw new RedoFormatError(`${e - pos} unexplained bytes before the end block`, pos);
  return {
    endOp,
    csn: view.getFloat64(e + 8, true),
    txId: view.getFloat64(e + 16, true),
    commitWallMs: view.getFloat64(e + 24, true),
    entries,
  };
}
