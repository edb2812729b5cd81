// Serializes a committing transaction's changes into redo buffers (layout in redo-format.ts). One
// encoder is reused for every commit of an engine (the commit path is single-threaded JavaScript).
// A transaction bigger than one buffer becomes PARTIAL buffers followed by a COMMIT buffer; a single
// entry bigger than an empty buffer is an error.

import { Packr } from 'msgpackr';
import type { ColumnDef, Row } from '../store/schema.js';
import { ByteWriter, writeColumnSet } from './column-set.js';
import {
  REDO_BUFFER_HEADER_BYTES,
  REDO_END_BLOCK_BYTES,
  REDO_ENTRY_HEADER_BYTES,
  REDO_FORMAT_VERSION,
  RedoEndOp,
  type RedoEndOpCode,
  type RedoOpCode,
} from './redo-format.js';
import { MotError } from '../errors.js';

export const ddlPackr = new Packr({ useRecords: false, int64AsType: 'bigint' });

export class RedoEncoder {
  private readonly w = new ByteWriter();
  /** Start offset of each entry in `w`. */
  private readonly entryStarts: number[] = [];
  /** Entries in this transaction (entryStarts is reused; its length is not reset on the hot path). */
  private entries = 0;

  /** @param bufferBytesMax redo_buffer_size: the most bytes one redo buffer (one WAL frame payload) may hold. */
  constructor(readonly bufferBytesMax: number) {
    this.reset();
  }

  reset(): void {
    // Entries start after room for the buffer header, so a transaction that fits one buffer is
    // already laid out contiguously and finish() copies it out in one piece.
    this.w.pos = REDO_BUFFER_HEADER_BYTES;
    this.entries = 0;
  }

  get entryCount(): number {
    return this.entries;
  }

  /** A row entry whose body is a column set (CREATE_ROW: all columns; UPDATE_ROW: key + changed; REMOVE_ROW: key). */
  addRow(op: RedoOpCode, tableId: number, columns: readonly ColumnDef[], row: Row, present: ((i: number) => boolean) | null): void {
    const start = this.beginEntry(op, tableId);
    writeColumnSet(this.w, columns, row, present);
    this.endEntry(start);
  }

  /** A DDL entry whose body is msgpack (or empty). */
  addDdl(op: RedoOpCode, tableId: number, body: unknown): void {
    const start = this.beginEntry(op, tableId);
    if (body !== undefined) this.w.bytes(ddlPackr.pack(body));
    this.endEntry(start);
  }

  /**
   * Close the transaction: the redo buffers to write, in order (copies; the encoder is reusable at once).
   * Every buffer but the last ends with PARTIAL.
   */
  finish(txId: number, csn: number, commitWallMs: number, endOp: RedoEndOpCode = RedoEndOp.COMMIT): Uint8Array[] {
    const whole = this.w.pos + REDO_END_BLOCK_BYTES;
    if (whole <= this.bufferBytesMax) {
      const one = this.finishOne(txId, csn, commitWallMs, endOp);
      this.reset();
      return [one];
    }
    const out: Uint8Array[] = [];
    const starts = this.entryStarts.slice(0, this.entries);
    const end = this.w.pos;
    let first = 0;
    if (starts.length === 0) return [this.finishOne(txId, csn, commitWallMs, endOp)];
    while (first < starts.length || out.length === 0) {
      let last = first;
      let bytes = REDO_BUFFER_HEADER_BYTES + REDO_END_BLOCK_BYTES;
      while (last < starts.length) {
        const entryBytes = (last + 1 < starts.length ? starts[last + 1]! : end) - starts[last]!;
        if (bytes + entryBytes > this.bufferBytesMax) break;
        bytes += entryBytes;
        last++;
      }
      const isLast = last >= starts.length;
      out.push(this.cut(first, last, end, bytes, txId, isLast ? csn : 0, commitWallMs, isLast ? endOp : RedoEndOp.PARTIAL));
      first = last;
    }
    this.reset();
    return out;
  }

  /** The common case: everything fits one buffer, already contiguous after the header. */
  private finishOne(txId: number, csn: number, wallMs: number, endOp: number): Uint8Array {
    const w = this.w;
    const entries = this.entries;
    w.ensure(REDO_END_BLOCK_BYTES);
    const e = w.pos;
    const bytes = e + REDO_END_BLOCK_BYTES;
    const view = w.view;
    view.setUint32(0, bytes, true);
    view.setUint32(e, endOp | (REDO_FORMAT_VERSION << 8), true);
    view.setUint32(e + 4, entries, true);
    view.setFloat64(e + 8, csn, true);
    view.setFloat64(e + 16, txId, true);
    view.setFloat64(e + 24, wallMs, true);
    const out = Buffer.allocUnsafe(bytes);
    out.set(w.buf.subarray(0, bytes));
    return out;
  }

  private cut(first: number, last: number, end: number, bytes: number, txId: number, csn: number, wallMs: number, endOp: number): Uint8Array {
    const buf = new Uint8Array(bytes);
    const view = new DataView(buf.buffer);
    view.setUint32(0, bytes, true);
    const from = first < this.entries ? this.entryStarts[first]! : end;
    const to = last < this.entries ? this.entryStarts[last]! : end;
    buf.set(this.w.buf.subarray(from, to), REDO_BUFFER_HEADER_BYTES);
    const e = bytes - REDO_END_BLOCK_BYTES;
    view.setUint8(e, endOp);
    view.setUint8(e + 1, REDO_FORMAT_VERSION);
    view.setUint32(e + 4, last - first, true);
    view.setFloat64(e + 8, csn, true);
    view.setFloat64(e + 16, txId, true);
    view.setFloat64(e + 24, wallMs, true);
    return buf;
  }

  private beginEntry(op: RedoOpCode, tableId: number): number {
    const w = this.w;
    w.ensure(REDO_ENTRY_HEADER_BYTES);
    const start = w.pos;
    w.view.setUint32(start, op, true); // op, then three zero bytes
    w.view.setUint32(start + 4, tableId, true);
    w.view.setUint32(start + 8, 0, true); // body length, patched in endEntry
    w.pos = start + REDO_ENTRY_HEADER_BYTES;
    return start;
  }

  private endEntry(start: number): void {
    const bodyBytes = this.w.pos - start - REDO_ENTRY_HEADER_BYTES;
    this.w.view.setUint32(start + 8, bodyBytes, true);
    const entryBytes = this.w.pos - start;
    if (entryBytes + REDO_BUFFER_HEADER_BYTES + REDO_END_BLOCK_BYTES > this.bufferBytesMax) {
      this.w.pos = start;
      throw new MotError({
        code: 'MOT_ERROR_RESOURCE_LIMIT',
        rc: 'RC_ERROR',
        sqlstate: 'fdw_error',
        message: `a redo entry of ${entryBytes} bytes does not fit an empty redo buffer (redo_buffer_size = ${this.bufferBytesMax} bytes)`,
      });
    }
    this.entryStarts[this.entries++] = start;
  }
}
