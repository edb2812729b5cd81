// Checkpoint recovery (cold start, before WAL replay): reads mot.ctrl, checks that the checkpoint it
// names is complete (end marker), recreates its tables, then `workers` loaders take (table, segment)
// tasks from one shared queue, have the executor verify each segment, and insert its rows with
// Table.insertRaw (which rebuilds the primary and secondary indexes: they are never persisted).
// Invariants: a row is inserted only from a segment whose CRCs matched; any mismatch, missing file or
// count that disagrees with the map is a typed error naming the file, never a partial silent load.

import type { Disk } from '../io/disk.js';
import { joinPath } from '../io/disk.js';
import type { Clock } from '../io/clock.js';
import { Errors, MotError, describeCause } from '../errors.js';
import type { Catalog } from '../catalog.js';
import type { Table } from '../store/table.js';
import type { ExecutorFactory } from './executor.js';
import {
  CONTROL_FILE_NAME,
  END_MARKER_FILE_NAME,
  EnvelopeKind,
  MAP_FILE_NAME,
  SEGMENT_HEADER_BYTES,
  TABLES_FILE_NAME,
  checkpointDirName,
  decodeBody,
  decodeControl,
  isSegmentFault,
  segmentFileName,
  type ControlRecord,
  type EndMarker,
  type SegmentMap,
  type TablesMeta,
} from './checkpoint-format.js';

export interface CheckpointLoadReport {
  checkpointId: number;
  /** L0: WAL replay starts here. */
  lsn: number;
  /** C: WAL records with a commit CSN at or below it are already in the checkpoint. */
  csn: number;
  maxTxId: number;
  lastReplayLsn: number;
  directory: string;
  tables: number;
  segments: number;
  rows: number;
  bytes: number;
  workers: number;
  executor: string;
  /** Reading mot.ctrl, the end marker, metadata and map; recreating tables. */
  metadataMs: number;
  /** Loading the segments (read, verify, insert). */
  segmentsMs: number;
}

interface SegmentTask {
  table: Table;
  segmentNumber: number;
  rows: number;
  path: string;
}

/** Read mot.ctrl; undefined when there is none (no checkpoint yet). */
export async function readControl(disk: Disk, checkpointDir: string): Promise<ControlRecord | undefined> {
  const path = joinPath(checkpointDir, CONTROL_FILE_NAME);
  if (!(await disk.exists(path))) return undefined;
  const c = decodeControl(await readFile(disk, path));
  if (typeof c === 'string') throw Errors.corruption(path, 0, `checkpoint control file: ${c}`);
  return c;
}

export interface LoadCheckpointOptions {
  /** checkpoint_recovery_workers. */
  workers: number;
  /** Rows are spread over the simulated NUMA nodes, one node per loader. */
  sockets: number;
  executorFactory: ExecutorFactory;
}

/**
 * Load the checkpoint named by mot.ctrl into `catalog` (which must be empty). Returns undefined when
 * there is no control file: an empty start.
 */
export async function loadCheckpoint(
  disk: Disk,
  checkpointDir: string,
  catalog: Catalog,
  clock: Clock,
  opts: LoadCheckpointOptions,
): Promise<CheckpointLoadReport | undefined> {
  const t0 = clock.nowUs();
  const control = await readControl(disk, checkpointDir);
  if (control === undefined) return undefined;
  const dir = joinPath(checkpointDir, checkpointDirName(control.checkpointId));
  const endPath = joinPath(dir, END_MARKER_FILE_NAME);
  if (!(await disk.exists(endPath))) {
    throw Errors.recoveryFailed(
      `checkpoint directory "${dir}" named by "${joinPath(checkpointDir, CONTROL_FILE_NAME)}" has no end marker (${END_MARKER_FILE_NAME}): the checkpoint is incomplete or was damaged, and it cannot be loaded`,
    );
  }
  const end = await readBody<EndMarker>(disk, endPath, EnvelopeKind.END);
  if (end.checkpointId !== control.checkpointId || end.lsn !== control.checkpointLsn || end.csn !== control.checkpointCsn) {
    throw Errors.corruption(endPath, 0, `end marker (checkpoint ${end.checkpointId}, LSN ${end.lsn}, CSN ${end.csn}) disagrees with the control file (checkpoint ${control.checkpointId}, LSN ${control.checkpointLsn}, CSN ${control.checkpointCsn})`);
  }
  const rowsExpected = new Map<Table, number>();
  const tasks = await recreateTables(disk, dir, catalog, control.checkpointId, rowsExpected);
  const t1 = clock.nowUs();
  const executor = opts.executorFactory(opts.workers);
  let bytes = 0;
  try {
    bytes = await loadSegments(disk, tasks, opts, executor, rowsExpected, joinPath(dir, MAP_FILE_NAME));
  } finally {
    await executor.close();
  }
  const rows = tasks.reduce((n, t) => n + t.rows, 0);
  if (rows !== end.rows || tasks.length !== end.segments) {
    throw Errors.corruption(endPath, 0, `end marker counts ${end.rows} rows in ${end.segments} segments, the map ${rows} rows in ${tasks.length}`);
  }
  return {
    checkpointId: control.checkpointId,
    lsn: control.checkpointLsn,
    csn: control.checkpointCsn,
    maxTxId: control.maxTxId,
    lastReplayLsn: control.lastReplayLsn,
    directory: dir,
    tables: end.tables,
    segments: tasks.length,
    rows,
    bytes,
    workers: opts.workers,
    executor: executor.kind,
    metadataMs: (t1 - t0) / 1000,
    segmentsMs: (clock.nowUs() - t1) / 1000,
  };
}

/** Tables from the metadata (serially, as MOT does), and the segment tasks from the map. */
async function recreateTables(disk: Disk, dir: string, catalog: Catalog, id: number, rowsExpected: Map<Table, number>): Promise<SegmentTask[]> {
  const metaPath = joinPath(dir, TABLES_FILE_NAME);
  const meta = await readBody<TablesMeta>(disk, metaPath, EnvelopeKind.TABLES);
  const mapPath = joinPath(dir, MAP_FILE_NAME);
  const map = await readBody<SegmentMap>(disk, mapPath, EnvelopeKind.MAP);
  if (meta.checkpointId !== id || map.checkpointId !== id) {
    throw Errors.corruption(metaPath, 0, `metadata of checkpoint ${meta.checkpointId} and map of checkpoint ${map.checkpointId} in the directory of checkpoint ${id}`);
  }
  const byId = new Map<number, Table>();
  for (const t of meta.tables) {
    let table: Table;
    try {
      table = catalog.createFromDef(t.id, t.def);
    } catch (e) {
      throw Errors.corruption(metaPath, 0, `table id ${t.id} ("${t.def?.name}") cannot be recreated: ${describeCause(e)}`);
    }
    if (table.schema.rowBytes !== t.rowBytes) {
      throw Errors.corruption(metaPath, 0, `table "${table.name}" has ${table.schema.rowBytes}-byte rows, the checkpoint ${t.rowBytes}-byte rows: written by another row layout`);
    }
    byId.set(t.id, table);
  }
  const tasks: SegmentTask[] = [];
  for (const m of map.tables) {
    const table = byId.get(m.id);
    if (table === undefined) throw Errors.corruption(mapPath, 0, `the map lists table id ${m.id}, which the metadata does not define`);
    for (let s = 0; s < m.segments; s++) {
      tasks.push({ table, segmentNumber: s, rows: 0, path: joinPath(dir, segmentFileName(m.id, s)) });
    }
    rowsExpected.set(table, m.rows);
  }
  if (rowsExpected.size !== byId.size) throw Errors.corruption(mapPath, 0, `the map lists ${rowsExpected.size} tables, the metadata ${byId.size}`);
  return tasks;
}

/**
 * `workers` loaders share one queue of tasks: each reads a segment and has it verified, in parallel
 * with the others; rows are inserted in task order (this thread owns the tables), so the primary
 * index grows at its right edge and a loader's read and verification overlap the others' inserts.
 * At most `workers` segments are held in memory.
 */
async function loadSegments(
  disk: Disk,
  tasks: SegmentTask[],
  opts: LoadCheckpointOptions,
  executor: ReturnType<ExecutorFactory>,
  rowsExpected: Map<Table, number>,
  mapPath: string,
): Promise<number> {
  let next = 0;
  let bytes = 0;
  let failure: unknown;
  const rowsSeen = new Map<Table, number>();
  // inserted[k] resolves once task k's rows are in (or it failed): task k + 1 inserts after it.
  const turns = tasks.map(() => deferred());
  const loader = async (socket: number): Promise<void> => {
    // Bounded: each iteration takes one task from the queue.
    while (next < tasks.length) {
      const k = next++;
      const task = tasks[k]!;
      try {
        if (failure !== undefined) continue;
        const raw = await readFile(disk, task.path);
        bytes += raw.length;
        const verified = await executor.verify(raw, { tableId: task.table.id, segmentNumber: task.segmentNumber, rowCount: 0, rowBytes: task.table.schema.rowBytes });
        if (isSegmentFault(verified)) throw Errors.corruption(task.path, verified.offset, `checkpoint segment: ${verified.reason}`);
        if (k > 0) await turns[k - 1]!.promise;
        if (failure !== undefined) continue;
        const n = insertRows(task, verified, socket);
        rowsSeen.set(task.table, (rowsSeen.get(task.table) ?? 0) + n);
        task.rows = n;
      } catch (e) {
        failure ??= e;
      } finally {
        turns[k]!.resolve();
      }
    }
  };
  const workers = Math.max(1, Math.min(opts.workers, tasks.length));
  await Promise.all(Array.from({ length: workers }, (_, i) => loader(i % opts.sockets)));
  if (failure !== undefined) throw failure;
  for (const [table, rows] of rowsExpected) {
    const got = rowsSeen.get(table) ?? 0;
    if (got !== rows) throw Errors.corruption(mapPath, 0, `the map counts ${rows} rows of table "${table.name}", its segments hold ${got}`);
  }
  return bytes;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function insertRows(task: SegmentTask, bytes: Uint8Array, socket: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rowCount = view.getUint32(16, true);
  const rowBytes = task.table.schema.rowBytes;
  const table = task.table;
  let off = SEGMENT_HEADER_BYTES;
  for (let i = 0; i < rowCount; i++, off += rowBytes) {
    try {
      table.insertRaw(bytes.subarray(off, off + rowBytes), socket, view.getFloat64(off, true));
    } catch (e) {
      throw Errors.corruption(task.path, off, `row ${i} of table "${table.name}" cannot be loaded: ${e instanceof MotError ? e.message + (e.detail ? ` (${e.detail})` : '') : describeCause(e)}`);
    }
  }
  return rowCount;
}

async function readBody<T extends TablesMeta | SegmentMap | EndMarker>(disk: Disk, path: string, kind: EnvelopeKind): Promise<T> {
  if (!(await disk.exists(path))) throw Errors.recoveryFailed(`checkpoint file "${path}" is missing`);
  const body = decodeBody<T>(await readFile(disk, path), kind);
  if (typeof body === 'string') throw Errors.corruption(path, 0, body);
  return body;
}

/** The whole file, with one read into a buffer of its size (no zero-fill, no copy). */
async function readFile(disk: Disk, path: string): Promise<Uint8Array> {
  try {
    const file = await disk.open(path);
    try {
      const size = await file.size();
      let bytes = await file.read(0, size);
      // Bounded: each round reads at least one more byte or stops at end of file.
      while (bytes.length < size) {
        const more = await file.read(bytes.length, size - bytes.length);
        if (more.length === 0) break;
        const all = new Uint8Array(bytes.length + more.length);
        all.set(bytes);
        all.set(more, bytes.length);
        bytes = all;
      }
      return bytes;
    } finally {
      await file.close();
    }
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw Errors.recoveryFailed(`checkpoint file "${path}" is missing`, e);
    throw new MotError({
      code: 'MOT_ERROR_SYSTEM_FAILURE',
      rc: 'RC_ERROR',
      sqlstate: 'io_error',
      message: `could not read checkpoint file "${path}": ${describeCause(e)}`,
      cause: e,
    });
  }
}
