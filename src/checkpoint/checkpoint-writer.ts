// Writes one checkpoint directory in the order recovery relies on: table metadata, data segments
// (sealed by the executor's workers, written and fsynced here, at most `inFlightMax` at once), the
// segment map, fsync of the directory, the end marker, fsync again; then the control file, atomically.
// Invariant: a directory is referenced by mot.ctrl only after its end marker is durable, so a crash at
// any point leaves the previous checkpoint (and the WAL after it) as the recovery point.

import type { Disk, DiskFile } from '../io/disk.js';
import { joinPath, writeFileAtomic } from '../io/disk.js';
import { MotError, assert, describeCause } from '../errors.js';
import type { Table } from '../store/table.js';
import type { EntrySink } from './capture.js';
import type { CheckpointExecutor } from './executor.js';
import {
  CONTROL_FILE_NAME,
  END_MARKER_FILE_NAME,
  EnvelopeKind,
  MAP_FILE_NAME,
  SEGMENT_HEADER_BYTES,
  TABLES_FILE_NAME,
  checkpointDirName,
  encodeBody,
  encodeControl,
  parseCheckpointDirName,
  segmentBytes,
  segmentFileName,
  tombstoneFileName,
  type ControlRecord,
  type EndMarker,
  type SegmentHeader,
  type SegmentMap,
  type TablesMeta,
  type TombstoneBody,
} from './checkpoint-format.js';

/** A disk operation on a checkpoint file failed: the checkpoint is abandoned, the previous one stays. */
export function checkpointIoError(file: string, operation: string, cause: unknown): MotError {
  if (cause instanceof MotError) return cause;
  const diskFull = (cause as { code?: string } | undefined)?.code === 'ENOSPC';
  return new MotError({
    code: 'MOT_ERROR_SYSTEM_FAILURE',
    rc: 'RC_ERROR',
    sqlstate: diskFull ? 'disk_full' : 'io_error',
    message: `could not ${operation} checkpoint file "${file}": ${describeCause(cause)}; the checkpoint was abandoned and the previous one stays in use`,
    cause,
  });
}

export interface WrittenTable {
  id: number;
  segments: number;
  rows: number;
}

export class CheckpointWriter {
  readonly dir: string;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: MotError | undefined;
  private bytesWritten = 0;
  private segmentsWritten = 0;

  constructor(
    private readonly disk: Disk,
    readonly checkpointDir: string,
    readonly id: number,
    private readonly executor: CheckpointExecutor,
    /** checkpoint_segsize, in bytes. */
    readonly segmentBytesMax: number,
    /** Segments sealed or being written at once (checkpoint_workers): bounds memory to that many segments. */
    private readonly inFlightMax: number,
  ) {
    this.dir = joinPath(checkpointDir, checkpointDirName(id));
  }

  get bytes(): number {
    return this.bytesWritten;
  }

  get segments(): number {
    return this.segmentsWritten;
  }

  /** Create the directory and make its entry durable before anything refers to it. */
  async begin(tables: TablesMeta): Promise<void> {
    await io(this.dir, 'create the directory of', () => this.disk.mkdirp(this.dir));
    await io(this.checkpointDir, 'sync the directory holding', () => this.disk.syncDir(this.checkpointDir));
    await this.writeFile(TABLES_FILE_NAME, encodeBody(EnvelopeKind.TABLES, tables));
  }

  /** The sink for one table's entries; call end() after its last entry. */
  table(table: Table, rowsEstimate: number): SegmentBuilder {
    return new SegmentBuilder(this, table.id, table.schema.rowBytes, this.segmentBytesMax, rowsEstimate);
  }

  /** Seal and write one segment in the background (the caller bounds it with room()). */
  submit(bytes: Uint8Array, header: SegmentHeader): void {
    const name = segmentFileName(header.tableId, header.segmentNumber);
    const job = this.executor
      .seal(bytes, header)
      .then((sealed) => this.writeFile(name, sealed))
      .catch((e: unknown) => {
        this.failure ??= checkpointIoError(joinPath(this.dir, name), 'write', e);
      });
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  /** Wait until fewer than inFlightMax segments are in flight; throws the first write failure. */
  async room(): Promise<void> {
    // Bounded: each iteration waits for one of at most inFlightMax jobs to finish.
    while (this.inFlight.size >= this.inFlightMax) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** Wait for every segment to be durable. */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
    if (this.failure) throw this.failure;
  }

  /** An incremental checkpoint's tombstones of one table (written before the map, so covered by the end marker). */
  async tombstones(body: TombstoneBody): Promise<void> {
    await this.writeFile(tombstoneFileName(body.tableId), encodeBody(EnvelopeKind.TOMBSTONES, body));
  }

  /** The map, fsync of the directory, the end marker, fsync again: the directory is now complete. */
  async complete(map: SegmentMap, end: EndMarker): Promise<void> {
    await this.drain();
    await this.writeFile(MAP_FILE_NAME, encodeBody(EnvelopeKind.MAP, map));
    await io(this.dir, 'sync directory', () => this.disk.syncDir(this.dir));
    await this.writeFile(END_MARKER_FILE_NAME, encodeBody(EnvelopeKind.END, end));
    await io(this.dir, 'sync directory', () => this.disk.syncDir(this.dir));
  }

  /** Point mot.ctrl at this checkpoint: write a new file, fsync, rename, fsync the directory. */
  async publish(control: ControlRecord): Promise<void> {
    assert(control.checkpointId === this.id, 'the control file names this checkpoint');
    const path = joinPath(this.checkpointDir, CONTROL_FILE_NAME);
    await io(path, 'replace', () => writeFileAtomic(this.disk, path, encodeControl(control)));
  }

  private async writeFile(name: string, bytes: Uint8Array): Promise<void> {
    const path = joinPath(this.dir, name);
    let file: DiskFile | undefined;
    try {
      file = await this.disk.open(path, { create: true });
      // Written and fsynced a piece at a time: dirty pages never pile up, so the WAL's own fdatasync
      // (the commits' latency) never waits behind a whole segment's writeback.
      for (let off = 0; off < bytes.length || off === 0; off += WRITE_PIECE_BYTES) {
        await file.write(off, bytes.subarray(off, Math.min(bytes.length, off + WRITE_PIECE_BYTES)));
        await file.sync();
        if (bytes.length === 0) break;
      }
    } catch (e) {
      throw checkpointIoError(path, 'write', e);
    } finally {
      await file?.close().catch(() => undefined);
    }
    this.bytesWritten += bytes.length;
    if (name.endsWith('.seg')) this.segmentsWritten++;
  }
}

/**
 * Collects one table's entries into segments of at most segmentBytesMax bytes. Buffers are sized by
 * the rows still expected (capped by the segment size), so a small table costs a small buffer.
 */
export class SegmentBuilder implements EntrySink {
  private buf: Uint8Array | undefined;
  private rowsInBuf = 0;
  private capacityRows = 0;
  private segmentNumber = 0;
  private rowsTotal = 0;
  private readonly rowsPerSegmentMax: number;

  constructor(
    private readonly writer: CheckpointWriter,
    readonly tableId: number,
    readonly rowBytes: number,
    segmentBytesMax: number,
    private readonly rowsEstimate: number,
  ) {
    this.rowsPerSegmentMax = Math.floor((segmentBytesMax - SEGMENT_HEADER_BYTES) / rowBytes);
    assert(this.rowsPerSegmentMax >= 1, `a ${segmentBytesMax}-byte segment holds a ${rowBytes}-byte row`);
  }

  /** True when the current buffer is full: the caller should submit it at its next pause. */
  get full(): boolean {
    return this.buf !== undefined && this.rowsInBuf === this.capacityRows;
  }

  add(bytes: Uint8Array): void {
    if (this.buf === undefined) this.open();
    else if (this.rowsInBuf === this.capacityRows) {
      this.flush();
      this.open();
    }
    this.buf!.set(bytes, SEGMENT_HEADER_BYTES + this.rowsInBuf * this.rowBytes);
    this.rowsInBuf++;
  }

  /** Submit the current buffer, if it holds rows. */
  flush(): void {
    if (this.buf === undefined || this.rowsInBuf === 0) return;
    const used = segmentBytes(this.rowsInBuf, this.rowBytes);
    const bytes = used === this.buf.length ? this.buf : this.buf.slice(0, used);
    this.writer.submit(bytes, { tableId: this.tableId, segmentNumber: this.segmentNumber, rowCount: this.rowsInBuf, rowBytes: this.rowBytes });
    this.segmentNumber++;
    this.rowsTotal += this.rowsInBuf;
    this.buf = undefined;
    this.rowsInBuf = 0;
  }

  /** After the table's last entry: the table's segment count and rows. */
  end(): WrittenTable {
    this.flush();
    return { id: this.tableId, segments: this.segmentNumber, rows: this.rowsTotal };
  }

  private open(): void {
    const expected = this.rowsEstimate - this.rowsTotal - this.rowsInBuf;
    this.capacityRows = Math.max(1, Math.min(this.rowsPerSegmentMax, expected + SEGMENT_SLACK_ROWS));
    this.buf = new Uint8Array(segmentBytes(this.capacityRows, this.rowBytes));
    this.rowsInBuf = 0;
  }
}

/** Bytes written (and fsynced) at a time by one segment write. */
export const WRITE_PIECE_BYTES = 1024 * 1024;

/** Rows a buffer holds beyond the estimate (rows inserted during the scan are mostly skipped anyway). */
const SEGMENT_SLACK_ROWS = 64;

/** The id for a new checkpoint: above the control file's and above any directory left by a crash. */
export async function nextCheckpointId(disk: Disk, checkpointDir: string, lastId: number): Promise<number> {
  let id = lastId;
  for (const name of await io(checkpointDir, 'list', () => disk.list(checkpointDir))) {
    const n = parseCheckpointDirName(name);
    if (n !== undefined && n > id) id = n;
  }
  return id + 1;
}

/** Remove every checkpoint directory but `keepId` (older ones, and any left incomplete by a crash). */
export async function removeOtherCheckpoints(disk: Disk, checkpointDir: string, keepId: number): Promise<number> {
  return removeCheckpointsExcept(disk, checkpointDir, new Set([keepId]));
}

/**
 * Remove every checkpoint directory not in `keep` (the current chain, a chain a PITR retains), older
 * ones first, then fsync checkpoint_dir. Only called after mot.ctrl names a checkpoint of `keep`.
 */
export async function removeCheckpointsExcept(disk: Disk, checkpointDir: string, keep: ReadonlySet<number>): Promise<number> {
  let removed = 0;
  const ids: number[] = [];
  for (const name of await io(checkpointDir, 'list', () => disk.list(checkpointDir))) {
    const n = parseCheckpointDirName(name);
    if (n !== undefined && !keep.has(n)) ids.push(n);
  }
  for (const n of ids.sort((a, b) => a - b)) {
    const name = checkpointDirName(n);
    const path = joinPath(checkpointDir, name);
    await io(path, 'remove', () => disk.remove(path));
    removed++;
  }
  if (removed > 0) await io(checkpointDir, 'sync directory', () => disk.syncDir(checkpointDir));
  return removed;
}

async function io<T>(file: string, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw checkpointIoError(file, operation, e);
  }
}
