// Appends redo buffers to the WAL as frames (layout in wal-format.ts) and tells callers when they are
// durable. Space is reserved synchronously and in order (place), the bytes are written and flushed
// possibly in parallel on several I/O lanes (write), and durability is acknowledged strictly in LSN
// order: a batch is durable only when every batch before it is, so an acknowledged commit never sits
// behind a hole. After any write or flush failure the writer refuses all further work (a failed
// fsync is never reported as success, and nothing is written past a possible hole). Before it rejects
// the commits waiting on the failed batches it settles their fate: once no write is in flight, a
// failure of write() (ENOSPC, EIO) clears the log past the durable point (zeros over a preallocated
// segment, truncation otherwise, then fdatasync), so a rejected commit can never reappear after a crash;
// if that cleanup fails, or the failure came from fdatasync (the bytes may be on disk or not), they are
// rejected with 08007 (commitOutcomeUnknown) instead. A failure made only of ENOSPC from write() (no
// page dropped) can be undone by resumeAfterDiskFull(), which rewinds the log end to the durable point.

import type { Disk, DiskFile } from '../io/disk.js';
import { isIoError, joinPath, mkdirpDurable, writeFileAtomic } from '../io/disk.js';
import { WitnessReason, encodeWitness } from './witness-format.js';
import { Errors, MotError, assert, describeCause } from '../errors.js';
import { FRAME_HEADER_BYTES, FrameType, encodeFrameInto, frameBytes, parseSegmentFileName, payloadBytes, segmentFileName, type FramePayload } from './wal-format.js';

export interface WalWriterOptions {
  segmentBytes: number;
  /** Zero-fill each segment before use, so a flush never has to update the file size (faster fdatasync). */
  preallocate: boolean;
  /** Where the log ends (from recovery): the next frame goes here. */
  endLsn: number;
  /**
   * The WAL witness file (witness-format.ts): when the log is about to enter a new segment, the
   * durable LSN is recorded there before any byte of the new segment is written; the engine also
   * records it at open and at a clean close (recordWitness). Absent: no witness.
   */
  witnessPath?: string;
  /** The LSN the witness file holds now (from recovery), so an equal one is not rewritten. */
  witnessLsn?: number;
}

/** Bytes to write into one segment file at one offset. */
export interface SegmentWrite {
  segmentIndex: number;
  fileOffset: number;
  bytes: Uint8Array;
}

/** Frames laid out at the end of the log by place(), written by write(). */
export interface WalBatch {
  startLsn: number;
  endLsn: number;
  /** LSN of each payload's frame, in order. */
  frameLsns: number[];
  writes: SegmentWrite[];
}

interface Pending {
  batch: WalBatch;
  done: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const ZERO_CHUNK_BYTES = 1024 * 1024;
/** Bound on batches placed but not yet durable (each is a group, a sync commit or an async flush). */
export const WAL_BATCHES_IN_FLIGHT_MAX = 100_000;

export class WalWriter {
  private nextLsn: number;
  private durable: number;
  private readonly pending: Pending[] = [];
  private readonly segments = new Map<number, Promise<DiskFile>>();
  private failure: MotError | undefined;
  private bytesWrittenTotal = 0;
  private flushCount = 0;
  /** True while every failure since the last good state was ENOSPC from a write (see resumeAfterDiskFull). */
  private failureResumable = false;
  /** The first LSN of a batch that failed: batches wholly before it may still complete and be acknowledged. */
  private failedFromLsn = Number.POSITIVE_INFINITY;
  /** A failure may have left redo on disk that cannot be cleared (a failed fdatasync): outcome unknown. */
  private failureOutcomeUnknown = false;
  /** Settling a failure: wait for writes in flight, clear the tail, then reject the waiting batches. */
  private settling: Promise<void> | undefined;
  private writesInFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private resuming: Promise<boolean> | undefined;
  /** The highest LSN the witness file holds (durably), and the chain serializing its rewrites. */
  private witnessLsn: number;
  private witnessChain: Promise<void> = Promise.resolve();
  /** Segment the writer opened at: creating any later one is a segment switch (witnessed). */
  private readonly openIndex: number;

  private constructor(
    private readonly disk: Disk,
    readonly walDir: string,
    private readonly opts: WalWriterOptions,
  ) {
    this.nextLsn = opts.endLsn;
    this.durable = opts.endLsn;
    this.witnessLsn = opts.witnessLsn ?? 0;
    this.openIndex = Math.floor(opts.endLsn / opts.segmentBytes);
  }

  static async open(disk: Disk, walDir: string, opts: WalWriterOptions): Promise<WalWriter> {
    assert(opts.endLsn % 8 === 0, 'WAL end LSN is frame aligned');
    await mkdirpDurable(disk, walDir);
    const w = new WalWriter(disk, walDir, opts);
    await w.segment(w.segmentIndexOf(opts.endLsn));
    if (opts.preallocate) await w.completeLaterSegments();
    return w;
  }

  /**
   * Segment files past the one the log ends in, left by an earlier incarnation: remove stale
   * `<segment>.tmp` files of an interrupted preallocation, and fill to full size a segment a version
   * before atomic preallocation left short (a crash in the middle of its zero-fill), so that every
   * preallocated segment is full and a short one can only mean damage.
   */
  private async completeLaterSegments(): Promise<void> {
    // Bounded by the files in the WAL directory.
    for (const name of await this.disk.list(this.walDir)) {
      if (name.endsWith(SEGMENT_TEMP_SUFFIX)) {
        await this.disk.remove(joinPath(this.walDir, name));
        continue;
      }
      const first = parseSegmentFileName(name);
      if (first === undefined || first % this.opts.segmentBytes !== 0 || first / this.opts.segmentBytes <= this.openIndex) continue;
      const file = await this.disk.open(joinPath(this.walDir, name));
      try {
        const size = await file.size();
        if (size < this.opts.segmentBytes) await zeroFillFrom(file, size, this.opts.segmentBytes);
      } finally {
        await file.close();
      }
    }
  }

  /**
   * fdatasync the segments holding [fromLsn, end): recovery read the log from the page cache, where
   * bytes a killed process wrote but never synced may still sit; the witness recorded at open must not
   * claim them durable before they are.
   */
  async syncRecoveredLog(fromLsn: number): Promise<void> {
    // Bounded by the segments recovery read.
    for (let index = this.segmentIndexOf(fromLsn); index <= this.openIndex; index++) {
      if (index === this.openIndex) {
        await (await this.segment(index)).sync();
        continue;
      }
      const path = this.segmentPath(index);
      if (!(await this.disk.exists(path))) continue;
      const file = await this.disk.open(path);
      try {
        await file.sync();
      } finally {
        await file.close();
      }
    }
  }

  /**
   * Record durably in the witness file that the log was durable up to `lsn` (at most the durable
   * LSN now), unless it already says as much. Serialized; off the commit path.
   */
  recordWitness(lsn: number, reason: WitnessReason): Promise<void> {
    const path = this.opts.witnessPath;
    if (path === undefined) return Promise.resolve();
    const value = Math.min(lsn, this.durable);
    const run = this.witnessChain.then(async () => {
      if (value <= this.witnessLsn) return;
      await writeFileAtomic(this.disk, path, encodeWitness({ durableLsn: value, segmentBytes: this.opts.segmentBytes, reason }));
      this.witnessLsn = Math.max(this.witnessLsn, value);
    });
    this.witnessChain = run.catch(() => undefined);
    return run;
  }

  /** LSN up to which everything is durable (and acknowledged). */
  get durableLsn(): number {
    return this.durable;
  }
  /** LSN where the next frame will go. */
  get endLsn(): number {
    return this.nextLsn;
  }
  get failed(): MotError | undefined {
    return this.failure;
  }
  /** The writer failed, and only with "no space" on write: resumeAfterDiskFull() may bring it back. */
  get failedForSpace(): boolean {
    return this.failure !== undefined && this.failureResumable;
  }
  get stats(): { bytesWritten: number; flushes: number } {
    return { bytesWritten: this.bytesWrittenTotal, flushes: this.flushCount };
  }

  /** The largest payload one frame can carry in this log. */
  get payloadBytesMax(): number {
    return this.opts.segmentBytes - FRAME_HEADER_BYTES - 8;
  }

  /** Reserve space for one frame per payload at the end of the log and encode them. No I/O. */
  place(payloads: readonly FramePayload[]): WalBatch {
    if (this.failure) throw this.failure;
    if (this.pending.length >= WAL_BATCHES_IN_FLIGHT_MAX) {
      throw Errors.invalidState(`more than ${WAL_BATCHES_IN_FLIGHT_MAX} WAL writes in flight`);
    }
    const seg = this.opts.segmentBytes;
    const startLsn = this.nextLsn;
    const frameLsns: number[] = [];
    // First pass: positions (frames never straddle segments; a SEGMENT_END frame fills the gap).
    const layout: { lsn: number; type: FrameType; payload: FramePayload; size: number }[] = [];
    let lsn = startLsn;
    for (const p of payloads) {
      const size = frameBytes(payloadBytes(p));
      if (size > seg) {
        throw Errors.invalidArgument('redo buffer', `${size} bytes do not fit a WAL segment of ${seg} bytes (wal_segment_size)`);
      }
      const room = seg - (lsn % seg);
      if (size > room) {
        if (room >= FRAME_HEADER_BYTES) layout.push({ lsn, type: FrameType.SEGMENT_END, payload: EMPTY, size: FRAME_HEADER_BYTES });
        lsn += room;
      }
      layout.push({ lsn, type: FrameType.REDO, payload: p, size });
      frameLsns.push(lsn);
      lsn += size;
    }
    this.nextLsn = lsn;
    const writes = this.encode(layout, lsn);
    if (this.nextLsn % seg > seg * 0.5) void this.segment(this.segmentIndexOf(this.nextLsn) + 1).catch(() => undefined);
    return { startLsn, endLsn: lsn, frameLsns, writes };
  }

  private encode(layout: { lsn: number; type: FrameType; payload: FramePayload; size: number }[], endLsn: number): SegmentWrite[] {
    const seg = this.opts.segmentBytes;
    const writes: SegmentWrite[] = [];
    let i = 0;
    while (i < layout.length) {
      const segmentIndex = this.segmentIndexOf(layout[i]!.lsn);
      let j = i;
      while (j < layout.length && this.segmentIndexOf(layout[j]!.lsn) === segmentIndex) j++;
      const first = layout[i]!.lsn;
      const last = layout[j - 1]!;
      const end = Math.min(last.lsn + last.size, endLsn, (segmentIndex + 1) * seg);
      const bytes = new Uint8Array(end - first);
      for (let k = i; k < j; k++) {
        const f = layout[k]!;
        encodeFrameInto(bytes, f.lsn - first, f.type, f.lsn, this.durable, f.payload);
      }
      writes.push({ segmentIndex, fileOffset: first - segmentIndex * seg, bytes });
      i = j;
    }
    return writes;
  }

  /**
   * Write and flush a placed batch (on `lane`, or on the caller's thread without one). Resolves once
   * the batch and every batch placed before it are durable; rejects if any of them failed.
   */
  write(batch: WalBatch, lane?: number): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.pending.push({ batch, done: false, resolve, reject });
    });
    void this.doWrite(batch, lane);
    return done;
  }

  private async doWrite(batch: WalBatch, lane: number | undefined): Promise<void> {
    let file = '';
    this.writesInFlight++;
    try {
      if (this.failure) throw this.failure;
      for (const w of batch.writes) {
        const f = await this.segment(w.segmentIndex);
        file = f.path;
        await f.writeAndSync(w.fileOffset, w.bytes, lane);
        this.bytesWrittenTotal += w.bytes.length;
        this.flushCount++;
      }
      this.complete(batch);
    } catch (e) {
      if (!(e instanceof MotError)) {
        this.failureResumable = (this.failure === undefined || this.failureResumable) && isNoSpaceOnWrite(e);
        if (!isWriteFailure(e)) this.failureOutcomeUnknown = true;
      }
      this.failedFromLsn = Math.min(this.failedFromLsn, batch.startLsn);
      this.fail(e instanceof MotError ? e : Errors.walFailure(file || this.walDir, 'write and flush', e));
    } finally {
      if (--this.writesInFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /**
   * After a failure made only of ENOSPC on write (failedForSpace): wait until no write is in flight,
   * clear the log past the durable point (zeros over a preallocated segment, truncation otherwise,
   * then fdatasync), and rewind the log's end to the durable point. Nothing past it was ever
   * acknowledged: every batch there was rejected when the failure happened. Clearing matters: a stale
   * frame left after new, shorter frames could otherwise be replayed as if committed. Returns false
   * (still failed) if there is still no space or the failure is not of that kind.
   */
  resumeAfterDiskFull(): Promise<boolean> {
    this.resuming ??= this.tryResume().finally(() => (this.resuming = undefined));
    return this.resuming;
  }

  private async tryResume(): Promise<boolean> {
    if (!this.failedForSpace) return this.failure === undefined;
    if (this.writesInFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.settling;
    if (!this.failureResumable) return false;
    const seg = this.opts.segmentBytes;
    const from = this.durable;
    const to = this.nextLsn;
    try {
      // Bounded by the segments spanned by [from, to): at most the batches in flight at the failure.
      for (let index = this.segmentIndexOf(from); index * seg < to; index++) {
        const file = await this.segment(index);
        const start = Math.max(from, index * seg) - index * seg;
        const end = Math.min(to, (index + 1) * seg) - index * seg;
        // Zeros over the whole range: this also probes for space (beyond the end of a file they need
        // new blocks, as the refused batch did).
        const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, end - start));
        for (let off = start; off < end; off += zeros.length) await file.write(off, zeros.subarray(0, Math.min(zeros.length, end - off)));
        if (!this.opts.preallocate) await file.truncate(start);
        await file.sync();
      }
      // The probe: the segment the next frame goes to must exist (preallocated) before writes resume.
      await this.segment(this.segmentIndexOf(from));
    } catch {
      return false;
    }
    if (!this.failureResumable) return false;
    this.nextLsn = from;
    this.failure = undefined;
    this.failureResumable = false;
    this.failedFromLsn = Number.POSITIVE_INFINITY;
    this.failureOutcomeUnknown = false;
    this.settling = undefined;
    return true;
  }

  private complete(batch: WalBatch): void {
    const p = this.pending.find((x) => x.batch === batch);
    // After a write failure, a batch wholly before the failed one is still acknowledged once durable.
    // Never after a failed fdatasync: it may have dropped this batch's pages, and a later fdatasync
    // then succeeds without them (fsyncgate).
    if (!p || (this.failure && (this.failureOutcomeUnknown || batch.endLsn > this.failedFromLsn))) return;
    p.done = true;
    while (this.pending.length > 0 && this.pending[0]!.done) {
      const head = this.pending.shift()!;
      this.durable = head.batch.endLsn;
      head.resolve();
    }
    // No write can still be in flight into a segment wholly below the durable point.
    this.closeSegmentsBefore(this.segmentIndexOf(this.durable));
  }

  /**
   * Refuse all later work at once; then, once no write is in flight, settle the batches not yet
   * acknowledged: clear the log past the durable point and reject them as not committed, or, when
   * that cannot be guaranteed, reject them with 08007 (outcome unknown).
   */
  private fail(error: MotError): void {
    this.failure ??= error;
    // Chained: a batch failing after an earlier settling (its write refused at once) is settled too.
    this.settling = (this.settling ?? Promise.resolve()).then(() => this.settleFailure());
  }

  private async settleFailure(): Promise<void> {
    if (this.writesInFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.pending.length === 0) return;
    let cleared = false;
    let clearError: unknown;
    if (!this.failureOutcomeUnknown) {
      try {
        await this.clearTail(this.durable, this.nextLsn);
        cleared = true;
      } catch (e) {
        clearError = e;
      }
    }
    const failure = this.failure!;
    const error = cleared
      ? failure
      : Errors.commitOutcomeUnknown(
          this.segmentPath(this.segmentIndexOf(this.durable)),
          this.failureOutcomeUnknown
            ? `an fdatasync of the redo log failed (${failure.message}): its bytes may or may not have reached the disk`
            : `a write of the redo log failed (${failure.message}) and its partial bytes could not be cleared (${describeCause(clearError)})`,
          failure,
        );
    for (const p of this.pending.splice(0)) p.reject(error);
  }

  /**
   * Clear [from, to) of the log and make it durable: zeros over a preallocated segment, truncation of a
   * segment that grows with appends. Only segments this writer opened can hold bytes of that range.
   */
  private async clearTail(from: number, to: number): Promise<void> {
    const seg = this.opts.segmentBytes;
    // Bounded by the segments spanned by [from, to): at most the batches in flight at the failure.
    for (let index = this.segmentIndexOf(from); index * seg < to; index++) {
      const open = this.segments.get(index);
      const file = open === undefined ? undefined : await open.catch(() => undefined);
      if (file === undefined) continue;
      const start = Math.max(from, index * seg) - index * seg;
      const end = Math.min(to, (index + 1) * seg) - index * seg;
      if (this.opts.preallocate) {
        const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, end - start));
        for (let off = start; off < end; off += zeros.length) await file.write(off, zeros.subarray(0, Math.min(zeros.length, end - off)));
      } else {
        await file.truncate(start);
      }
      await file.sync();
    }
  }

  /** Wait until everything placed so far is durable (or the writer failed). */
  drain(): Promise<void> {
    if (this.pending.length === 0 && this.failure) return Promise.reject(this.failure);
    return this.whenDurable(this.nextLsn);
  }

  /**
   * Resolves once the log is durable up to `lsn` (at most the end placed so far); rejects if the
   * writer fails first. A checkpoint waits for its L0 with this (the write-ahead rule).
   */
  whenDurable(lsn: number): Promise<void> {
    if (lsn <= this.durable) return Promise.resolve();
    // The first batch reaching lsn: batches are acknowledged in order, so its resolution covers lsn.
    const covering = this.pending.find((p) => p.batch.endLsn >= lsn) ?? this.pending[this.pending.length - 1];
    if (!covering) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const orig = covering.resolve;
      const origReject = covering.reject;
      covering.resolve = () => {
        orig();
        resolve();
      };
      covering.reject = (e) => {
        origReject(e);
        reject(e);
      };
    });
  }

  segmentIndexOf(lsn: number): number {
    return Math.floor(lsn / this.opts.segmentBytes);
  }

  segmentPath(index: number): string {
    return joinPath(this.walDir, segmentFileName(index * this.opts.segmentBytes));
  }

  /** The open file of segment `index`, created (and zero-filled, and its directory entry synced) on first use. */
  private segment(index: number): Promise<DiskFile> {
    let p = this.segments.get(index);
    if (!p) {
      p = this.createSegment(index);
      this.segments.set(index, p);
      p.catch(() => this.segments.delete(index));
    }
    return p;
  }

  /**
   * Create (or open) segment `index`. Preallocated segments are created atomically: zero-filled and
   * synced under `<name>.tmp`, then renamed and the directory synced, so a segment file under its
   * own name is always full size. A segment past the one the writer opened at is a segment switch:
   * the witness file records the durable LSN of this moment before the segment is handed out, so
   * before any byte of it is written.
   */
  private async createSegment(index: number): Promise<DiskFile> {
    const durableNow = this.durable;
    const path = this.segmentPath(index);
    const exists = await this.disk.exists(path);
    let file: DiskFile;
    if (!this.opts.preallocate) {
      file = await this.disk.open(path, { create: true });
      if (!exists) await this.disk.syncDir(this.walDir);
    } else if (exists) {
      file = await this.disk.open(path);
      // Only a version before atomic preallocation left a short one, at the log's end: fill it.
      const size = await file.size();
      if (size < this.opts.segmentBytes) await zeroFillFrom(file, size, this.opts.segmentBytes);
    } else {
      const tmp = path + SEGMENT_TEMP_SUFFIX;
      const t = await this.disk.open(tmp, { create: true });
      try {
        await t.truncate(0);
        await zeroFillFrom(t, 0, this.opts.segmentBytes);
      } finally {
        await t.close();
      }
      await this.disk.rename(tmp, path);
      await this.disk.syncDir(this.walDir);
      file = await this.disk.open(path);
    }
    if (index > this.openIndex) {
      try {
        await this.recordWitness(durableNow, WitnessReason.SEGMENT_SWITCH);
      } catch (e) {
        await file.close().catch(() => undefined);
        throw e;
      }
    }
    return file;
  }

  private closeSegmentsBefore(index: number): void {
    for (const [i, p] of this.segments) {
      if (i < index) {
        this.segments.delete(i);
        void p.then((f) => f.close()).catch(() => undefined);
      }
    }
  }

  /**
   * Remove the segment files wholly below `lsn` (a checkpoint made them unnecessary), oldest first so
   * a crash leaves the rest contiguous, then sync the directory. A segment is kept while any part of
   * it is not yet durable (a write may still be in flight into it). Returns the files removed.
   */
  async removeSegmentsBelow(lsn: number): Promise<{ segments: number; bytes: number }> {
    const below = this.segmentIndexOf(Math.min(lsn, this.durable));
    const doomed: number[] = [];
    for (const name of await this.disk.list(this.walDir)) {
      const first = parseSegmentFileName(name);
      if (first !== undefined && first % this.opts.segmentBytes === 0 && first / this.opts.segmentBytes < below) doomed.push(first / this.opts.segmentBytes);
    }
    doomed.sort((a, b) => a - b);
    for (const index of doomed) {
      const open = this.segments.get(index);
      if (open) {
        this.segments.delete(index);
        await open.then((f) => f.close()).catch(() => undefined);
      }
      await this.disk.remove(this.segmentPath(index));
    }
    if (doomed.length > 0) await this.disk.syncDir(this.walDir);
    return { segments: doomed.length, bytes: doomed.length * this.opts.segmentBytes };
  }

  /** Close open segment files (after drain). */
  async close(): Promise<void> {
    const all = [...this.segments.values()];
    this.segments.clear();
    for (const p of all) {
      try {
        await (await p).close();
      } catch {
        // a segment that failed to open has nothing to close
      }
    }
  }
}

const EMPTY = new Uint8Array(0);
/** Suffix of a segment being preallocated (renamed to the segment's name once full and synced). */
export const SEGMENT_TEMP_SUFFIX = '.tmp';

/** Write zeros over [from, to) of `file` and fdatasync it. */
async function zeroFillFrom(file: DiskFile, from: number, to: number): Promise<void> {
  const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, Math.max(0, to - from)));
  // Bounded: (to - from) / ZERO_CHUNK_BYTES writes.
  for (let off = from; off < to; off += zeros.length) await file.write(off, zeros.subarray(0, Math.min(zeros.length, to - off)));
  await file.sync();
}

/**
 * ENOSPC (or EDQUOT) from write() or open(): the file system refused to allocate. Whatever part of the
 * request did land (a short write before the error) is still in the page cache, and the clearing in
 * tryResume() overwrites or truncates it; no dirty page was dropped. Not from fsync/fdatasync: there
 * it means a writeback failed, and the kernel may have dropped pages (as with EIO): reopen only.
 */
function isNoSpaceOnWrite(e: unknown): boolean {
  const { code, syscall } = (e ?? {}) as { code?: string; syscall?: string };
  return (code === 'ENOSPC' || code === 'EDQUOT') && (syscall === 'write' || syscall === 'open');
}

/**
 * The failure came from write() or open() (or the segment's preparation), not from fdatasync: nothing
 * the kernel reported written was dropped, so clearing the range in the page cache and syncing it
 * settles it. Anything else (fdatasync, or no syscall known) may have left bytes on disk or not.
 */
function isWriteFailure(e: unknown): boolean {
  const { syscall } = (e ?? {}) as { syscall?: string };
  return syscall === 'write' || syscall === 'open' || syscall === 'ftruncate';
}
