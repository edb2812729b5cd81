// The ledger of a simulated workload: every transaction it ran, its writes (row values name the
// transaction, so a partly visible one shows), and when it was handed to the log, acknowledged and
// made durable. Fed by the workload and by the engine's CommitObserver; read by the checker.
// Invariants: ids are unique across restarts; log positions follow placement order within an epoch.

import { createHash } from 'node:crypto';
import type { CommitObserver } from '../commit-group/redo-log-handler.js';
import { REDO_END_BLOCK_BYTES, RedoEndOp, RedoOp } from '../redo/redo-format.js';
import { decodeDdlBody, decodeRedoBuffer } from '../redo/redo-decoder.js';
import type { IndexDef, TableDef } from '../store/schema.js';
import { FRAME_HEADER_BYTES, type FramePayload } from '../wal/wal-format.js';
import { assert } from '../errors.js';
import type { DdlOp, RecordedOp } from './model.js';
import { entrySummary, formatEntryData } from './entry-data.js';

/** A row of the checked table as the workload wrote it: `v` is the writer's ledger id. */
export interface RowValue {
  v: number;
  pad: string;
}

/** A transaction's final effect on one key: a row, or null for a delete. */
export interface LedgerWrite {
  key: number;
  value: RowValue | null;
}

export type LedgerOutcome = 'active' | 'committing' | 'acked' | 'rejected' | 'rolled-back';

export interface LedgerEntry {
  /** Unique across restarts; written into every row the transaction writes. */
  readonly id: number;
  /** The engine incarnation it ran in (0, then +1 per restart). */
  readonly epoch: number;
  /** Engine transaction id (unique within an epoch only: lost ids are reused after a crash). */
  readonly txId: number;
  readonly session: number;
  readonly socket: number;
  writes: LedgerWrite[];
  outcome: LedgerOutcome;
  beganAtUs: number;
  commitCalledAtUs?: number;
  /** Its COMMIT frame was placed in the log (handed to the WAL). */
  loggedAtUs?: number;
  /** LSN of the frame holding its COMMIT buffer (several transactions may share one frame). */
  lsn?: number;
  /** End of that frame (its LSN + header + payload): the log must reach it for the commit to replay. */
  frameEndLsn?: number;
  /** Its position in the log order (COMMIT buffers in the order they were placed, within the epoch). */
  logPosition?: number;
  csn?: number;
  /** The engine said "committed". */
  ackAtUs?: number;
  /** A flush covering its COMMIT frame completed (the engine reported it). */
  durableAtUs?: number;
  rejectedAtUs?: number;
  /** Rolled back by the workload before the crash (for timelines; not in formatEntry, so hashes stay as they were). */
  rolledBackAtUs?: number;
  /** SQLSTATE and message of the rejection. */
  error?: string;
  /**
   * Rejected with 08007 (transaction_resolution_unknown): its redo may have reached the disk, so it
   * may or may not be there after recovery. Any other rejection means it must not be.
   */
  outcomeUnknown?: boolean;
  /** Committed with no write reaching the engine (CSN 0: nothing logged). */
  readOnly?: boolean;
  /**
   * At the crash its writes were applied and visible (the engine gave it `csn`) though its commit was
   * not answered yet (its session was waiting for the event loop's turn): other transactions may
   * have read it, so it has its place in the serial order (read from the engine's transaction).
   */
  appliedUnanswered?: boolean;
  /** Every operation the transaction ran, with the engine's answers (see src/sim/model.ts). */
  ops: RecordedOp[];
  /**
   * Read-only and acknowledged: its place in the serial order is just after this CSN
   * (CommitResult.snapshotCsn). A DDL statement: the last CSN assigned when the engine made its
   * checks (all of them run in the call's first synchronous step), so a refused one (a CREATE UNIQUE
   * INDEX over duplicate rows) has a place in the serial order where the refusal must be right.
   */
  snapshotCsn?: number;
  /** A DDL statement (CREATE/DROP/TRUNCATE TABLE, CREATE/DROP INDEX) rather than a row transaction. */
  ddl?: DdlOp;
}

/** One WAL frame placed by the engine (any transaction, including DDL). */
export interface LedgerFrame {
  epoch: number;
  lsn: number;
  payloadBytes: number;
  /** Ledger id of the transaction, if the workload ran it. */
  entryId: number | undefined;
}

/**
 * A flush the engine reported complete (CommitObserver.flushed): the log is durable up to `endLsn`.
 * Kept for the violation timelines (flush completions on the time axis).
 */
export interface LedgerFlush {
  epoch: number;
  /** The socket whose flush it was, when the redo handler names one (CommitObserver.flushed). */
  socket: number | undefined;
  startLsn: number;
  endLsn: number;
  atUs: number;
}

/** The ledger's state when the machine crashed (Ledger.crashed), kept per epoch for the checker. */
export interface CrashSnapshot {
  atUs: number;
  /** End of the last frame placed, and the durable LSN, at the crash: a flush was outstanding if placed > durable. */
  placedLsn: number;
  durableLsn: number;
  /** Ledger.knownDurableLsn at the crash. */
  knownDurableLsn: number;
}

/** Bound on entries one ledger keeps (a workload is small; this catches a runaway one). */
export const LEDGER_ENTRIES_MAX = 1_000_000;
/** Bound on flush completions one ledger keeps; later ones are counted, not kept (only timelines read them). */
export const LEDGER_FLUSHES_MAX = 100_000;

export class Ledger {
  private readonly all: LedgerEntry[] = [];
  private readonly byTxId = new Map<number, LedgerEntry>();
  /** Committing entries: the CSN their transaction committed at, once it did (Transaction.csn). */
  private readonly commitProbes = new Map<LedgerEntry, () => number | undefined>();
  /** Frames in the log as the ledger knows it (dropped past a recovered end by `truncatedAt`). */
  private framesList: LedgerFrame[] = [];
  private readonly flushList: LedgerFlush[] = [];
  private flushesDropped = 0;
  /** Entries logged but not yet known durable, in LSN order. */
  private notDurable: LedgerEntry[] = [];
  private epochNow = 0;
  private logPositionNext = 0;
  /** End of the last frame placed in this epoch (a frame placed below it means the log was rewound). */
  private placedEndLsn = 0;
  private durableLsnNow = 0;
  private walFailedAt: number | undefined;
  /** DDL statements requested and not yet seen in the log. */
  private pendingDdl: { entry: LedgerEntry; tableId: number | undefined }[] = [];
  /** The machine crashed in this epoch at this virtual time: answers arriving later reached no client. */
  private crashedAtUs: number | undefined;
  /** Per crashed epoch, the state at the crash (startEpoch resets the live fields). */
  private readonly crashSnapshots = new Map<number, CrashSnapshot>();
  /**
   * WAL segment size, when the harness tells it (walSegmentBytes): needed to follow the segment-switch
   * witness rule (knownDurableLsn).
   */
  walSegmentBytes: number | undefined;
  /** The highest LSN the engine's documented witnesses must let recovery know was durable. */
  private knownDurable = 0;
  /** Segment the log ended in when the epoch started (the writer opened there: no switch witness for it). */
  private openSegment = 0;
  /** Segment switch witnesses of this epoch: segment index -> the durable LSN the witness holds at least. */
  private switchWitness = new Map<number, number>();

  get entries(): readonly LedgerEntry[] {
    return this.all;
  }

  get frames(): readonly LedgerFrame[] {
    return this.framesList;
  }

  /** Flush completions reported before each crash, in the order reported (at most LEDGER_FLUSHES_MAX). */
  get flushes(): readonly LedgerFlush[] {
    return this.flushList;
  }

  /** Flush completions past LEDGER_FLUSHES_MAX, not kept. */
  get flushesNotKept(): number {
    return this.flushesDropped;
  }

  get epoch(): number {
    return this.epochNow;
  }

  /** LSN below which the engine reported everything durable (or recovery read it back). */
  get durableLsn(): number {
    return this.durableLsnNow;
  }

  /**
   * End of the last frame placed in this epoch. Above durableLsn: a flush was in flight (or failed)
   * when the engine last reported; at a crash, the redo the crash may take with it.
   */
  get placedLsn(): number {
    return this.placedEndLsn;
  }

  /** Virtual time of the first commit rejected because the WAL failed for good (EIO, read-only), if any. */
  get walFailedAtUs(): number | undefined {
    return this.walFailedAt;
  }

  /**
   * A new engine incarnation starts after recovery ended the log at `recoveredEndLsn`: frames past
   * it are gone (a torn tail was cut), and everything before it was read back, so it is durable.
   */
  startEpoch(epoch: number, recoveredEndLsn: number): void {
    assert(epoch >= this.epochNow, `epochs only grow (${epoch} after ${this.epochNow})`);
    this.epochNow = epoch;
    this.byTxId.clear();
    this.commitProbes.clear();
    this.pendingDdl = [];
    this.notDurable = [];
    this.framesList = this.framesList.filter((f) => f.lsn + FRAME_HEADER_BYTES + f.payloadBytes <= recoveredEndLsn);
    this.durableLsnNow = recoveredEndLsn;
    this.placedEndLsn = recoveredEndLsn;
    this.walFailedAt = undefined;
    this.crashedAtUs = undefined;
    // The engine records the recovered end in its witness before Engine.open resolves.
    this.knownDurable = recoveredEndLsn;
    this.openSegment = this.walSegmentBytes === undefined ? 0 : Math.floor(recoveredEndLsn / this.walSegmentBytes);
    this.switchWitness = new Map();
  }

  /**
   * The highest LSN that, by the engine's documented witness rules (docs/architecture.md, "What a
   * reader can tell apart"), recovery can know was durable: computed from what the engine reported
   * and when its witnesses were due, never read from the engine's files. A log ending before it must
   * be reported as damage. Rules: the recovered end at each open; a completed checkpoint's L0
   * (witnessed()); and when a frame in a segment past the one the epoch opened in is durable, the
   * durable LSN at the moment the writer prepared that segment (the log's end passing the middle of
   * the segment before it, or entering it).
   */
  get knownDurableLsn(): number {
    return this.knownDurable;
  }

  /** A durable witness of `lsn` exists (a completed checkpoint: its control file's lastReplayLsn >= its L0). */
  witnessed(lsn: number): void {
    this.knownDurable = Math.max(this.knownDurable, lsn);
  }

  /**
   * The machine crashed now: the engine's answers to commits still in flight (rejections of the
   * writes the crash aborted) never reach a client, so they are not recorded; those commits stay
   * 'committing' (they may or may not survive). The ledger's LSNs stay as they were at the crash.
   */
  crashed(atUs: number): void {
    if (this.crashedAtUs !== undefined) return;
    this.crashedAtUs = atUs;
    for (const [entry, probe] of this.commitProbes) {
      const csn = probe();
      if (entry.outcome === 'committing' && csn !== undefined && csn > 0) {
        entry.csn = csn;
        entry.appliedUnanswered = true;
      }
    }
    this.commitProbes.clear();
    this.crashSnapshots.set(this.epochNow, { atUs, placedLsn: this.placedEndLsn, durableLsn: this.durableLsnNow, knownDurableLsn: this.knownDurable });
  }

  /** The state when epoch `epoch` crashed, if crashed() was called then. */
  crashSnapshot(epoch: number): CrashSnapshot | undefined {
    return this.crashSnapshots.get(epoch);
  }

  /** Virtual time of this epoch's crash, once crashed() was called. */
  get crashedAt(): number | undefined {
    return this.crashedAtUs;
  }

  begin(txId: number, session: number, socket: number, atUs: number): LedgerEntry {
    assert(this.all.length < LEDGER_ENTRIES_MAX, `ledger full (LEDGER_ENTRIES_MAX = ${LEDGER_ENTRIES_MAX})`);
    const entry: LedgerEntry = { id: this.all.length + 1, epoch: this.epochNow, txId, session, socket, writes: [], ops: [], outcome: 'active', beganAtUs: atUs };
    this.all.push(entry);
    this.byTxId.set(txId, entry);
    return entry;
  }

  /** `committedCsn`: the transaction's CSN once it committed in memory (read at a crash; see appliedUnanswered). */
  commitCalled(entry: LedgerEntry, atUs: number, committedCsn?: () => number | undefined): void {
    entry.outcome = 'committing';
    entry.commitCalledAtUs = atUs;
    if (committedCsn !== undefined) this.commitProbes.set(entry, committedCsn);
  }

  acked(entry: LedgerEntry, csn: number, atUs: number, snapshotCsn?: number): void {
    this.commitProbes.delete(entry);
    if (this.afterCrash(entry)) return;
    entry.outcome = 'acked';
    entry.ackAtUs = atUs;
    if (csn > 0) entry.csn = csn;
    if (csn === 0) {
      entry.readOnly = true;
      entry.snapshotCsn = snapshotCsn;
    }
  }

  rejected(entry: LedgerEntry, error: string, walFailure: boolean, atUs: number, outcomeUnknown = false): void {
    this.commitProbes.delete(entry);
    // A DDL statement refused before it reached the log must not be matched to a later one's record.
    this.pendingDdl = this.pendingDdl.filter((p) => p.entry !== entry);
    if (this.afterCrash(entry)) return;
    entry.outcome = 'rejected';
    entry.rejectedAtUs = atUs;
    entry.error = error;
    if (outcomeUnknown) entry.outcomeUnknown = true;
    if (walFailure) this.walFailedAt ??= atUs;
  }

  private afterCrash(entry: LedgerEntry): boolean {
    return this.crashedAtUs !== undefined && entry.epoch === this.epochNow;
  }

  /** `atUs`: when, unless it comes after the crash (a body that was waiting when the power was cut). */
  rolledBack(entry: LedgerEntry, atUs?: number): void {
    entry.outcome = 'rolled-back';
    if (atUs !== undefined && !this.afterCrash(entry)) entry.rolledBackAtUs = atUs;
  }

  /** The engine-side events that place each transaction in the log and make it durable. */
  observer(): CommitObserver {
    return {
      logged: (_socket, frameLsns, buffers, atUs) => this.logged(frameLsns, buffers, atUs),
      flushed: (socket, startLsn, endLsn, _transactions, _bytes, atUs) => this.flushed(socket, startLsn, endLsn, atUs),
    };
  }

  private logged(frameLsns: readonly number[], payloads: readonly FramePayload[], atUs: number): void {
    if (this.crashedAtUs !== undefined) return; // the abandoned engine placed it after the power cut
    if (frameLsns.length > 0 && frameLsns[0]! < this.placedEndLsn) this.rewound(frameLsns[0]!);
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i]!;
      const buffers = payload instanceof Uint8Array ? [payload] : payload;
      let bytes = 0;
      let firstEntry: LedgerEntry | undefined;
      const committed: LedgerEntry[] = [];
      for (const buffer of buffers) {
        bytes += buffer.length;
        const entry = this.placed(buffer, frameLsns[i]!, atUs);
        firstEntry ??= entry;
        if (entry?.lsn === frameLsns[i]) committed.push(entry);
      }
      for (const e of committed) e.frameEndLsn = frameLsns[i]! + FRAME_HEADER_BYTES + bytes;
      this.framesList.push({ epoch: this.epochNow, lsn: frameLsns[i]!, payloadBytes: bytes, entryId: firstEntry?.id });
      this.placedEndLsn = frameLsns[i]! + FRAME_HEADER_BYTES + bytes;
      this.segmentPrepared(Math.floor(frameLsns[i]! / (this.walSegmentBytes ?? Number.POSITIVE_INFINITY)));
    }
    const seg = this.walSegmentBytes;
    if (seg !== undefined && frameLsns.length > 0) {
      // The writer prepares the next segment once its end passes the middle of the current one.
      const end = this.placedEndLsn;
      if (end % seg > seg * 0.5) this.segmentPrepared(Math.floor(end / seg) + 1);
    }
  }

  /** The writer prepares segment `index` now (or has earlier): its witness holds the durable LSN of now at least. */
  private segmentPrepared(index: number): void {
    if (this.walSegmentBytes === undefined || !Number.isFinite(index) || index <= this.openSegment || this.switchWitness.has(index)) return;
    this.switchWitness.set(index, this.durableLsnNow);
  }

  /**
   * The log was rewound to `lsn` (the WAL writer resumed after a disk-full failure and cleared what
   * was past its durable point): transactions placed from there on are no longer in the log.
   */
  private rewound(lsn: number): void {
    for (const e of this.all) {
      if (e.epoch !== this.epochNow || e.lsn === undefined || e.lsn < lsn) continue;
      e.lsn = undefined;
      e.frameEndLsn = undefined;
      e.logPosition = undefined;
      e.loggedAtUs = undefined;
      e.error = `${e.error ?? ''} (cleared from the log when it was rewound to LSN ${lsn})`.trim();
    }
    this.notDurable = this.notDurable.filter((e) => e.lsn !== undefined);
    this.framesList = this.framesList.filter((f) => f.epoch !== this.epochNow || f.lsn < lsn);
  }

  /**
   * A workload asks the engine for a DDL statement: the entry is linked to the DDL transaction the
   * engine places in the log (matched by operation and table, see placed()). `tableId`: the table's
   * id for DROP, TRUNCATE, CREATE INDEX and DROP INDEX (CREATE is matched by name; an index DDL by its
   * index's name too).
   */
  ddlRequested(ddl: DdlOp, tableId: number | undefined, session: number, atUs: number): LedgerEntry {
    const entry = this.begin(-1, session, 0, atUs);
    this.byTxId.delete(-1);
    entry.ddl = ddl;
    this.commitCalled(entry, atUs);
    this.pendingDdl.push({ entry, tableId });
    return entry;
  }

  /** The DDL entry a buffer of an unknown transaction belongs to, if it is a requested DDL statement. */
  private ddlEntryOf(buffer: Uint8Array): LedgerEntry | undefined {
    if (this.pendingDdl.length === 0) return undefined;
    let redo;
    try {
      redo = decodeRedoBuffer(buffer);
    } catch {
      return undefined;
    }
    const first = redo.entries[0];
    if (first === undefined) return undefined;
    const i = this.pendingDdl.findIndex(({ entry, tableId }) => {
      const ddl = entry.ddl!;
      if (ddl.ddl === 'create') return first.op === RedoOp.CREATE_TABLE && decodeDdlBody<TableDef>(first.body).name === ddl.table;
      if (first.tableId !== tableId) return false;
      if (ddl.ddl === 'create-index') return first.op === RedoOp.CREATE_INDEX && decodeDdlBody<IndexDef>(first.body).name === ddl.index.name;
      if (ddl.ddl === 'drop-index') return first.op === RedoOp.DROP_INDEX && decodeDdlBody<string>(first.body) === ddl.index;
      return first.op === (ddl.ddl === 'drop' ? RedoOp.DROP_TABLE : RedoOp.TRUNCATE_TABLE);
    });
    if (i < 0) return undefined;
    const [{ entry }] = this.pendingDdl.splice(i, 1);
    this.byTxId.set(redo.txId, entry!);
    return entry;
  }

  /** One redo buffer placed in the frame at `lsn`: a COMMIT buffer gives its transaction a log position. */
  private placed(buffer: Uint8Array, lsn: number, atUs: number): LedgerEntry | undefined {
    const end = buffer.length - REDO_END_BLOCK_BYTES;
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const entry = this.byTxId.get(view.getFloat64(end + 16, true)) ?? this.ddlEntryOf(buffer);
    if (entry === undefined || view.getUint8(end) !== RedoEndOp.COMMIT) return entry;
    entry.lsn = lsn;
    entry.logPosition = this.logPositionNext++;
    entry.csn = view.getFloat64(end + 8, true);
    entry.loggedAtUs = atUs;
    this.notDurable.push(entry);
    return entry;
  }

  private flushed(socket: number | undefined, startLsn: number, endLsn: number, atUs: number): void {
    if (this.crashedAtUs !== undefined) return; // the abandoned engine's flush completed after the power cut
    if (this.flushList.length < LEDGER_FLUSHES_MAX) this.flushList.push({ epoch: this.epochNow, socket, startLsn, endLsn, atUs });
    else this.flushesDropped++;
    if (endLsn <= this.durableLsnNow) return;
    this.durableLsnNow = endLsn;
    const seg = this.walSegmentBytes;
    if (seg !== undefined) {
      // A frame in segment j is durable: the writer wrote the switch witness for j before any byte of j.
      // Entries stay (bounded by the segments of the epoch): a segment is prepared once per writer.
      for (const [index, witness] of this.switchWitness) if (endLsn > index * seg) this.knownDurable = Math.max(this.knownDurable, witness);
    }
    let n = 0;
    while (n < this.notDurable.length && this.notDurable[n]!.lsn! < endLsn) this.notDurable[n++]!.durableAtUs = atUs;
    if (n > 0) this.notDurable = this.notDurable.slice(n);
  }

  /** Entries of one epoch that reached the log, in log order. */
  logOrder(epoch: number): LedgerEntry[] {
    return this.all.filter((e) => e.epoch === epoch && e.logPosition !== undefined && !e.readOnly).sort((a, b) => a.logPosition! - b.logPosition!);
  }

  entry(id: number): LedgerEntry | undefined {
    return this.all[id - 1];
  }

  /** A digest of every entry (ids, writes, times, outcomes, positions): equal runs hash equal. */
  hash(): string {
    const h = createHash('sha256');
    for (const e of this.all) h.update(`${formatEntry(e)}\n`);
    return h.digest('hex');
  }
}

/** One line per entry, for traces and the hash (see entry-data.ts: an entry's data prints the same). */
export function formatEntry(e: LedgerEntry): string {
  return formatEntryData(entrySummary(e));
}
