// WAL redo recovery: replay, serially and in log order, the committed transactions found in the WAL
// after a starting LSN. Buffers of a transaction are held until its COMMIT buffer arrives; a
// transaction with no COMMIT (the crash came first) is dropped at the end, so no partial transaction
// is ever visible. MOT's rules: update of a missing row, duplicate insert, a row operation on a
// missing table and running out of memory are fatal; delete of a missing row and drop of a missing
// table are tolerated (counted and reported). CREATE_INDEX builds the index over the table's rows
// (a duplicate key of a unique index, a name the table already has, or a definition over MOT's
// limits is fatal: the engine checked all of it before logging); DROP_INDEX of an index the table
// does not have is tolerated, like a drop of a missing table.

import type { Disk } from '../io/disk.js';
import type { Clock } from '../io/clock.js';
import type { Catalog } from '../catalog.js';
import type { Row, Value } from '../store/schema.js';
import type { IndexDef, TableDef } from '../store/schema.js';
import type { Table } from '../store/table.js';
import { Errors, MotError, describeCause } from '../errors.js';
import { readWal, truncateTornTail, type WalEnd } from '../wal/wal-reader.js';
import { FrameType } from '../wal/wal-format.js';
import { decodeDdlBody, decodeRedoBuffer, RedoFormatError, type RedoBuffer, type RedoEntry } from '../redo/redo-decoder.js';
import { readColumnSet } from '../redo/column-set.js';
import { compileRowTranscoder, type RowTranscoder } from './row-transcoder.js';
import { RedoEndOp, RedoOp, redoOpName } from '../redo/redo-format.js';

export interface WalReplayOptions {
  segmentBytes: number;
  /** Start reading here (a frame boundary: the checkpoint's LSN, or 0). */
  fromLsn: number;
  /** Transactions whose commit CSN is at or below this were already in the checkpoint: skip them. */
  skipCsnAtOrBelow: number;
  sockets: number;
  /** Cut a torn tail (keeping a copy of the bytes). false: only report it (inspect, waldump). */
  repairTornTail: boolean;
  /** Segments are preallocated: a short one is damage (ReadWalOptions.preallocated). */
  preallocated?: boolean;
  /** An LSN the log was durable up to: ending before it is damage (ReadWalOptions.durableAtLeast). */
  durableAtLeast?: { lsn: number; source: string };
  /** Point-in-time recovery: replay only the commits this accepts (others are counted as skipped). */
  includeCommit?: (csn: number, commitWallMs: number) => boolean;
  /** Told of each row removed and table truncated or redefined by replay (the next incremental checkpoint needs them). */
  onRowRemoved?: (table: Table, key: Value | Value[], encodedKey: string | number | bigint, csn: number) => void;
  onTableTruncated?: (table: Table, csn: number) => void;
  /** CREATE_INDEX or DROP_INDEX replayed. */
  onTableRedefined?: (table: Table, csn: number) => void;
}

export interface WalReplayReport {
  segments: number;
  framesRead: number;
  transactionsReplayed: number;
  transactionsSkipped: number;
  entriesApplied: number;
  /** Transactions with buffers but no COMMIT (dropped). */
  transactionsDropped: number;
  toleratedErrors: number;
  toleratedSamples: string[];
  end: WalEnd;
  /** Bytes cut from a torn tail (copied to wal/torn-<lsn>.bin first). */
  tornBytesCut: number;
  maxCsn: number;
  maxTxId: number;
  elapsedMs: number;
}

export async function replayWal(disk: Disk, walDir: string, catalog: Catalog, clock: Clock, opts: WalReplayOptions): Promise<WalReplayReport> {
  const t0 = clock.nowUs();
  const scan = await readWal(disk, walDir, { segmentBytes: opts.segmentBytes, fromLsn: opts.fromLsn, preallocated: opts.preallocated, durableAtLeast: opts.durableAtLeast });
  const replayer = new Replayer(catalog, opts);
  for (const frame of scan.frames) {
    if (frame.type !== FrameType.REDO) continue;
    replayer.frame(frame.lsn, frame.segment, frame.payload);
  }
  let tornBytesCut = 0;
  if (scan.end.kind === 'torn' && opts.repairTornTail) {
    tornBytesCut = await truncateTornTail(disk, walDir, scan.end, opts.segmentBytes);
  }
  return {
    segments: scan.segments.length,
    framesRead: scan.frames.length,
    ...replayer.counts(),
    end: scan.end,
    tornBytesCut,
    elapsedMs: (clock.nowUs() - t0) / 1000,
  };
}

const NO_PARTS: readonly RedoBuffer[] = [];

class Replayer {
  private readonly open = new Map<number, RedoBuffer[]>();
  private replayed = 0;
  private skipped = 0;
  private applied = 0;
  private tolerated = 0;
  private readonly samples: string[] = [];
  private maxCsn = 0;
  private maxTxId = 0;
  private nextSocket = 0;
  private lsn = 0;
  private segment = '';
  /** Rows written by the transaction being replayed, in tables with unique secondary indexes. */
  private readonly touched: { table: Table; slot: number }[] = [];

  constructor(
    private readonly catalog: Catalog,
    private readonly opts: WalReplayOptions,
  ) {}

  /** A REDO frame: one redo buffer, or several laid end to end (each starts with its length). */
  frame(lsn: number, segment: string, payload: Uint8Array): void {
    this.lsn = lsn;
    this.segment = segment;
    let at = 0;
    while (at < payload.length) {
      // u32 little endian, read without allocating a DataView per buffer (one per transaction).
      const bytes = at + 4 <= payload.length ? (payload[at]! | (payload[at + 1]! << 8) | (payload[at + 2]! << 16) | (payload[at + 3]! << 24)) >>> 0 : 0;
      if (bytes < 4 || at + bytes > payload.length) {
        throw Errors.corruption(segment, lsn % this.opts.segmentBytes, `redo buffer at byte ${at} of a valid frame claims ${bytes} bytes of ${payload.length - at} left`);
      }
      this.buffer(payload.subarray(at, at + bytes), at);
      at += bytes;
    }
  }

  private buffer(bytes: Uint8Array, at: number): void {
    let buf: RedoBuffer;
    try {
      buf = decodeRedoBuffer(bytes);
    } catch (e) {
      if (e instanceof RedoFormatError) {
        throw Errors.corruption(this.segment, this.lsn % this.opts.segmentBytes, `redo buffer at byte ${at} of a valid frame is malformed (${e.message} at byte ${e.offset})`);
      }
      throw e;
    }
    this.maxTxId = Math.max(this.maxTxId, buf.txId);
    if (buf.endOp === RedoEndOp.PARTIAL) {
      const list = this.open.get(buf.txId) ?? [];
      list.push(buf);
      this.open.set(buf.txId, list);
      return;
    }
    const parts = this.open.size === 0 ? NO_PARTS : (this.open.get(buf.txId) ?? NO_PARTS);
    if (parts !== NO_PARTS) this.open.delete(buf.txId);
    if (buf.endOp === RedoEndOp.ROLLBACK) return;
    this.maxCsn = Math.max(this.maxCsn, buf.csn);
    if (buf.csn <= this.opts.skipCsnAtOrBelow || (this.opts.includeCommit !== undefined && !this.opts.includeCommit(buf.csn, buf.commitWallMs))) {
      this.skipped++;
      return;
    }
    for (const p of parts) this.applyAll(p.entries, buf.csn);
    this.applyAll(buf.entries, buf.csn);
    this.checkUniqueKeys();
    this.replayed++;
  }

  counts() {
    return {
      transactionsReplayed: this.replayed,
      transactionsSkipped: this.skipped,
      entriesApplied: this.applied,
      transactionsDropped: this.open.size,
      toleratedErrors: this.tolerated,
      toleratedSamples: this.samples,
      maxCsn: this.maxCsn,
      maxTxId: this.maxTxId,
    };
  }

  /**
   * Rows of the transaction being replayed are written without per-row unique checks (its rows may
   * swap unique values); at its end each row it wrote must hold its unique keys alone, as it did
   * when the transaction committed.
   */
  private checkUniqueKeys(): void {
    for (const { table, slot } of this.touched) {
      if (!table.isLive(slot)) continue;
      const violation = table.uniqueViolationAt(slot);
      if (violation) throw this.fatal(`the transaction leaves a duplicate unique key: ${violation.message}`);
    }
    this.touched.length = 0;
  }

  private applyAll(entries: RedoEntry[], csn: number): void {
    for (const e of entries) {
      try {
        this.apply(e, csn);
      } catch (err) {
        if (err instanceof MotError && err.rc === 'RC_PANIC') throw err;
        throw this.fatal(`${redoOpName(e.op)} on table id ${e.tableId} failed: ${describeCause(err)}`, err);
      }
      this.applied++;
    }
  }

  private apply(e: RedoEntry, csn: number): void {
    switch (e.op) {
      case RedoOp.CREATE_TABLE: {
        if (this.catalog.byIdOrUndefined(e.tableId)) throw this.fatal(`table id ${e.tableId} is created twice`);
        this.catalog.createFromDef(e.tableId, decodeDdlBody<TableDef>(e.body));
        return;
      }
      case RedoOp.DROP_TABLE: {
        const t = this.catalog.byIdOrUndefined(e.tableId);
        if (!t) return this.tolerate(`drop of missing table id ${e.tableId}`);
        this.catalog.drop(t);
        return;
      }
      case RedoOp.TRUNCATE_TABLE: {
        const t = this.table(e);
        t.truncate();
        this.opts.onTableTruncated?.(t, csn);
        return;
      }
      case RedoOp.CREATE_INDEX: {
        const t = this.table(e);
        const def = decodeDdlBody<IndexDef>(e.body);
        if (def === null || typeof def !== 'object' || typeof def.name !== 'string') throw this.fatal(`CREATE_INDEX on table "${t.name}" has no index definition`);
        if (t.schema.index(def.name) !== undefined) throw this.fatal(`index "${def.name}" of table "${t.name}" is created twice`);
        // A duplicate key of a unique index throws 23505 here: fatal (applyAll), as the engine checked the rows before logging.
        t.redefine(t.schema.withIndex(def));
        this.opts.onTableRedefined?.(t, csn);
        return;
      }
      case RedoOp.DROP_INDEX: {
        const t = this.table(e);
        const name = decodeDdlBody<unknown>(e.body);
        if (typeof name !== 'string') throw this.fatal(`DROP_INDEX on table "${t.name}" has no index name`);
        if (t.schema.index(name) === undefined) return this.tolerate(`drop of missing index "${name}" of table "${t.name}"`);
        t.redefine(t.schema.withoutIndex(name));
        this.opts.onTableRedefined?.(t, csn);
        return;
      }
      case RedoOp.CREATE_ROW: {
        const t = this.table(e);
        const transcode = transcoderFor(t);
        const body = e.body;
        try {
          // Straight from the redo bytes into the slot; the primary index refuses a duplicate key.
          const slot = t.insertFilled(this.socket(), csn, (buf, _view, base) => transcode(body, buf, base), true);
          if (t.uniqueIndexNames.length > 0) this.touched.push({ table: t, slot });
        } catch (err) {
          if (err instanceof MotError && err.rc === 'RC_UNIQUE_VIOLATION') {
            const { row } = readColumnSet(body, t.schema.def.columns);
            throw this.fatal(`duplicate insert of key ${t.formatKey(t.keyOf(row))} into table "${t.name}"`);
          }
          throw err;
        }
        return;
      }
      case RedoOp.UPDATE_ROW: {
        const t = this.table(e);
        const { row } = readColumnSet(e.body, t.schema.def.columns);
        const key = t.keyOf(row);
        const slot = t.lookup(key);
        if (slot === undefined) throw this.fatal(`update of missing row ${t.formatKey(key)} in table "${t.name}"`);
        t.update(slot, t.withoutKeyColumns(row), csn, true);
        if (t.uniqueIndexNames.length > 0) this.touched.push({ table: t, slot });
        return;
      }
      case RedoOp.REMOVE_ROW: {
        const t = this.table(e);
        const { row } = readColumnSet(e.body, t.schema.def.columns);
        const key = t.keyOf(row);
        const slot = t.lookup(key);
        if (slot === undefined) return this.tolerate(`delete of missing row ${t.formatKey(key)} in table "${t.name}"`);
        this.opts.onRowRemoved?.(t, key, t.encodeKey(key), csn);
        t.remove(slot);
        return;
      }
      default:
        throw this.fatal(`redo operation ${redoOpName(e.op)} is not supported by this version`);
    }
  }

  private table(e: RedoEntry): Table {
    const t = this.catalog.byIdOrUndefined(e.tableId);
    if (!t) throw this.fatal(`${redoOpName(e.op)} on missing table id ${e.tableId}`);
    return t;
  }

  private socket(): number {
    const s = this.nextSocket;
    this.nextSocket = (s + 1) % this.opts.sockets;
    return s;
  }

  private tolerate(what: string): void {
    this.tolerated++;
    if (this.samples.length < 20) this.samples.push(`${what} (LSN ${this.lsn})`);
  }

  private fatal(what: string, cause?: unknown): MotError {
    return Errors.recoveryFailed(`${what} (WAL record at LSN ${this.lsn}, file ${this.segment})`, cause);
  }
}

const transcoders = new WeakMap<Table, RowTranscoder>();

function transcoderFor(t: Table): RowTranscoder {
  let f = transcoders.get(t);
  if (!f) {
    f = compileRowTranscoder(t.schema.def.columns, t.schema.layout);
    transcoders.set(t, f);
  }
  return f;
}

