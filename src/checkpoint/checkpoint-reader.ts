// Checkpoint recovery (cold start, before WAL replay): reads mot.ctrl, checks that the checkpoint it
// names and every checkpoint of its chain is complete (end marker), recreates the full one's tables, then `workers` loaders take (table, segment)
// tasks from one shared queue, have the executor verify each segment, and insert its rows with
// Table.insertRaw (which rebuilds the primary and secondary indexes: they are never persisted); then
// applies each incremental checkpoint of the chain in order (tables, tombstones, rows), serially.
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
  tombstoneFileName,
  verifySegment,
  parseCheckpointDirName,
  CHAIN_LENGTH_MAX,
  type ControlRecord,
  type EndMarker,
  type SegmentMap,
  type TablesMeta,
  type TombstoneBody,
} from './checkpoint-format.js';
import { readColumnAt } from '../store/row-layout.js';
import type { Value } from '../store/schema.js';

export interface CheckpointLoadReport {
  checkpointId: number;
  /** L0: WAL replay starts here. */
  lsn: number;
  /** C: WAL records with a commit CSN at or below it are already in the checkpoint. */
  csn: number;
  maxTxId: number;
  lastReplayLsn: number;
  directory: string;
  /** Checkpoint ids loaded, the full one first, then each increment. */
  chain: number[];
  tables: number;
  segments: number;
  rows: number;
  bytes: number;
  /** Loaders that ran: checkpoint_recovery_workers bounded by the cores and by the segments. */
  workers: number;
  executor: string;
  /** Worker threads started to verify segments (0 inline): at most `workers`. */
  threadsStarted: number;
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
 * Load the checkpoint named by mot.ctrl into `catalog` (which must be empty): its chain's full
 * checkpoint, then each increment in order. Returns undefined when there is no control file: an
 * empty start.
 */
export async function loadCheckpoint(
  disk: Disk,
  checkpointDir: string,
  catalog: Catalog,
  clock: Clock,
  opts: LoadCheckpointOptions,
): Promise<CheckpointLoadReport | undefined> {
  const control = await readControl(disk, checkpointDir);
  if (control === undefined) return undefined;
  return loadCheckpointChain(disk, checkpointDir, control.checkpointId, catalog, clock, opts, control);
}

/** One complete checkpoint directory: its id, path and end marker. */
export interface CheckpointInfo {
  id: number;
  dir: string;
  end: EndMarker;
}

/**
 * Load the chain ending at checkpoint `headId` (a full checkpoint, or an increment: its full one and
 * every increment up to it) into the empty `catalog`. With `control`, the head must agree with it.
 * Also used by point-in-time recovery to load a retained checkpoint into a scratch catalog.
 */
export async function loadCheckpointChain(
  disk: Disk,
  checkpointDir: string,
  headId: number,
  catalog: Catalog,
  clock: Clock,
  opts: LoadCheckpointOptions,
  control?: ControlRecord,
): Promise<CheckpointLoadReport> {
  const t0 = clock.nowUs();
  const chain = await readChain(disk, checkpointDir, headId, control !== undefined);
  const head = chain[chain.length - 1]!;
  const endPath = joinPath(head.dir, END_MARKER_FILE_NAME);
  if (control !== undefined) {
    const end = head.end;
    if (end.checkpointId !== control.checkpointId || end.lsn !== control.checkpointLsn || end.csn !== control.checkpointCsn) {
      throw Errors.corruption(endPath, 0, `end marker (checkpoint ${end.checkpointId}, LSN ${end.lsn}, CSN ${end.csn}) disagrees with the control file (checkpoint ${control.checkpointId}, LSN ${control.checkpointLsn}, CSN ${control.checkpointCsn})`);
    }
    if (control.chainBaseId !== chain[0]!.id) {
      throw Errors.corruption(joinPath(checkpointDir, CONTROL_FILE_NAME), 48, `control file names chain base ${control.chainBaseId}, the end markers lead to ${chain[0]!.id}`);
    }
  }
  const base = chain[0]!;
  const rowsExpected = new Map<Table, number>();
  const tasks = await recreateTables(disk, base.dir, catalog, base.id, rowsExpected);
  const t1 = clock.nowUs();
  const executor = opts.executorFactory(opts.workers);
  const loaders = Math.max(1, Math.min(opts.workers, executor.parallelism, tasks.length));
  let bytes = 0;
  try {
    bytes = await loadSegments(disk, tasks, loaders, opts.sockets, executor, rowsExpected, joinPath(base.dir, MAP_FILE_NAME));
  } finally {
    await executor.close();
  }
  let rows = tasks.reduce((n, t) => n + t.rows, 0);
  let segments = tasks.length;
  if (rows !== base.end.rows || tasks.length !== base.end.segments) {
    throw Errors.corruption(joinPath(base.dir, END_MARKER_FILE_NAME), 0, `end marker counts ${base.end.rows} rows in ${base.end.segments} segments, the map ${rows} rows in ${tasks.length}`);
  }
  for (const inc of chain.slice(1)) {
    const r = await applyIncrement(disk, inc, catalog, opts.sockets);
    rows += r.rows;
    segments += r.segments;
    bytes += r.bytes;
  }
  return {
    checkpointId: head.id,
    lsn: head.end.lsn,
    csn: head.end.csn,
    maxTxId: control?.maxTxId ?? 0,
    lastReplayLsn: control?.lastReplayLsn ?? head.end.lsn,
    directory: head.dir,
    chain: chain.map((c) => c.id),
    tables: head.end.tables,
    segments,
    rows,
    bytes,
    workers: loaders,
    executor: executor.kind,
    threadsStarted: executor.threadsStarted,
    metadataMs: (t1 - t0) / 1000,
    segmentsMs: (clock.nowUs() - t1) / 1000,
  };
}

/** The end marker of checkpoint `id`, or undefined when its directory has none (incomplete). */
export async function readEndMarker(disk: Disk, checkpointDir: string, id: number): Promise<EndMarker | undefined> {
  const endPath = joinPath(checkpointDir, checkpointDirName(id), END_MARKER_FILE_NAME);
  if (!(await disk.exists(endPath))) return undefined;
  const end = await readBody<EndMarker>(disk, endPath, EnvelopeKind.END);
  if (end.checkpointId !== id) throw Errors.corruption(endPath, 0, `end marker of checkpoint ${end.checkpointId} in the directory of checkpoint ${id}`);
  return end;
}

/**
 * The chain ending at `headId`, full checkpoint first, walking each increment's prevId (bounded by
 * CHAIN_LENGTH_MAX). A missing end marker or a broken link is an error naming the directory.
 */
export async function readChain(disk: Disk, checkpointDir: string, headId: number, namedByControl: boolean): Promise<CheckpointInfo[]> {
  const out: CheckpointInfo[] = [];
  let id = headId;
  for (let n = 0; n <= CHAIN_LENGTH_MAX; n++) {
    const dir = joinPath(checkpointDir, checkpointDirName(id));
    const end = await readEndMarker(disk, checkpointDir, id);
    if (end === undefined) {
      const who = id === headId && namedByControl ? `named by "${joinPath(checkpointDir, CONTROL_FILE_NAME)}"` : `(chain of checkpoint ${headId})`;
      throw Errors.recoveryFailed(
        `checkpoint directory "${dir}" ${who} has no end marker (${END_MARKER_FILE_NAME}): the checkpoint is incomplete or was damaged, and it cannot be loaded`,
      );
    }
    out.unshift({ id, dir, end });
    if (end.kind !== 'incremental') return out;
    if (end.prevId === undefined || end.baseId === undefined || end.prevId >= id) {
      throw Errors.corruption(joinPath(dir, END_MARKER_FILE_NAME), 0, `incremental checkpoint ${id} names no valid previous checkpoint (prevId ${end.prevId}, baseId ${end.baseId})`);
    }
    id = end.prevId;
  }
  throw Errors.corruption(joinPath(checkpointDir, checkpointDirName(headId), END_MARKER_FILE_NAME), 0, `the chain of checkpoint ${headId} is longer than ${CHAIN_LENGTH_MAX}`);
}

/** Every complete checkpoint directory under checkpoint_dir (end markers that read), by id. */
export async function listCheckpoints(disk: Disk, checkpointDir: string): Promise<CheckpointInfo[]> {
  const out: CheckpointInfo[] = [];
  for (const name of await disk.list(checkpointDir)) {
    const id = parseCheckpointDirName(name);
    if (id === undefined) continue;
    try {
      const end = await readEndMarker(disk, checkpointDir, id);
      if (end !== undefined) out.push({ id, dir: joinPath(checkpointDir, name), end });
    } catch {
      // a damaged directory is never a retention candidate; recovery reports it if it is the current one
    }
  }
  return out.sort((a, b) => a.id - b.id);
}

/**
 * Apply one incremental checkpoint on top of the catalog: tables created, dropped or replaced as its
 * metadata says, then each table's tombstones (removed keys), then its rows (each replaces the row
 * with its key). Serially: increments are small, and a later row must override an earlier one.
 */
async function applyIncrement(disk: Disk, inc: CheckpointInfo, catalog: Catalog, sockets: number): Promise<{ rows: number; segments: number; bytes: number }> {
  const metaPath = joinPath(inc.dir, TABLES_FILE_NAME);
  const mapPath = joinPath(inc.dir, MAP_FILE_NAME);
  const meta = await readBody<TablesMeta>(disk, metaPath, EnvelopeKind.TABLES);
  const map = await readBody<SegmentMap>(disk, mapPath, EnvelopeKind.MAP);
  if (meta.checkpointId !== inc.id || map.checkpointId !== inc.id) {
    throw Errors.corruption(metaPath, 0, `metadata of checkpoint ${meta.checkpointId} and map of checkpoint ${map.checkpointId} in the directory of checkpoint ${inc.id}`);
  }
  const inMeta = new Set(meta.tables.map((t) => t.id));
  for (const t of catalog.tables()) if (!inMeta.has(t.id)) catalog.drop(t);
  const byId = new Map<number, Table>();
  for (const t of meta.tables) {
    let table = catalog.byIdOrUndefined(t.id);
    if (table !== undefined && (t.replaceAll === true || JSON.stringify(table.schema.def) !== JSON.stringify(t.def))) {
      catalog.drop(table);
      table = undefined;
    }
    try {
      table ??= catalog.createFromDef(t.id, t.def);
    } catch (e) {
      throw Errors.corruption(metaPath, 0, `table id ${t.id} ("${t.def?.name}") cannot be recreated: ${describeCause(e)}`);
    }
    if (table.schema.rowBytes !== t.rowBytes) {
      throw Errors.corruption(metaPath, 0, `table "${table.name}" has ${table.schema.rowBytes}-byte rows, the checkpoint ${t.rowBytes}-byte rows: written by another row layout`);
    }
    byId.set(t.id, table);
  }
  let rows = 0;
  let segments = 0;
  let bytes = 0;
  let tombstones = 0;
  for (const m of map.tables) {
    const table = byId.get(m.id);
    if (table === undefined) throw Errors.corruption(mapPath, 0, `the map lists table id ${m.id}, which the metadata does not define`);
    const expected = (m as { tombstones?: number }).tombstones ?? 0;
    if (expected > 0) {
      const path = joinPath(inc.dir, tombstoneFileName(m.id));
      const body = await readBody<TombstoneBody>(disk, path, EnvelopeKind.TOMBSTONES);
      if (body.checkpointId !== inc.id || body.tableId !== m.id || body.keys.length !== expected) {
        throw Errors.corruption(path, 0, `tombstones of checkpoint ${body.checkpointId}, table ${body.tableId}, ${body.keys.length} keys; the map says checkpoint ${inc.id}, table ${m.id}, ${expected} keys`);
      }
      for (const key of body.keys) {
        const slot = table.lookup(key as Value | Value[]);
        if (slot !== undefined) table.remove(slot);
      }
      tombstones += expected;
    }
    let tableRows = 0;
    for (let s = 0; s < m.segments; s++) {
      const path = joinPath(inc.dir, segmentFileName(m.id, s));
      const raw = await readFile(disk, path);
      bytes += raw.length;
      const verified = verifySegment(raw, { tableId: m.id, segmentNumber: s, rowCount: 0, rowBytes: table.schema.rowBytes });
      if (isSegmentFault(verified)) throw Errors.corruption(path, verified.offset, `checkpoint segment: ${verified.reason}`);
      tableRows += upsertRows(table, path, raw, (segments + s) % sockets);
    }
    if (tableRows !== m.rows) throw Errors.corruption(mapPath, 0, `the map counts ${m.rows} rows of table "${table.name}", its segments hold ${tableRows}`);
    rows += tableRows;
    segments += m.segments;
  }
  const endPath = joinPath(inc.dir, END_MARKER_FILE_NAME);
  if (rows !== inc.end.rows || segments !== inc.end.segments || tombstones !== (inc.end.tombstones ?? 0)) {
    throw Errors.corruption(endPath, 0, `end marker counts ${inc.end.rows} rows in ${inc.end.segments} segments and ${inc.end.tombstones ?? 0} tombstones, the map ${rows} rows in ${segments} and ${tombstones}`);
  }
  return { rows, segments, bytes };
}

/** Insert each entry of a verified segment, replacing the row with the same primary key if there is one. */
function upsertRows(table: Table, path: string, bytes: Uint8Array, socket: number): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rowCount = view.getUint32(16, true);
  const rowBytes = table.schema.rowBytes;
  const pk = table.schema.primaryKey;
  const layout = table.schema.layout;
  let off = SEGMENT_HEADER_BYTES;
  for (let i = 0; i < rowCount; i++, off += rowBytes) {
    try {
      const values = pk.map((col) => readColumnAt(buf, view, off, layout, col));
      const existing = table.lookup(values.length === 1 ? values[0]! : values);
      if (existing !== undefined) table.remove(existing);
      table.insertRaw(bytes.subarray(off, off + rowBytes), socket, view.getFloat64(off, true));
    } catch (e) {
      throw Errors.corruption(path, off, `row ${i} of table "${table.name}" cannot be loaded: ${e instanceof MotError ? e.message + (e.detail ? ` (${e.detail})` : '') : describeCause(e)}`);
    }
  }
  return rowCount;
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
  workers: number,
  sockets: number,
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
  // Rows go into slots as segments arrive; each table's primary index is built once at the end
  // (Table.beginLoad/finishLoad: bottom-up from the keys, which a checkpoint writes in order).
  for (const table of rowsExpected.keys()) table.beginLoad();
  await Promise.all(Array.from({ length: workers }, (_, i) => loader(i % sockets)));
  if (failure !== undefined) throw failure;
  for (const table of rowsExpected.keys()) {
    try {
      table.finishLoad();
    } catch (e) {
      throw Errors.corruption(mapPath, 0, `rows of table "${table.name}" cannot be indexed: ${e instanceof MotError ? e.message + (e.detail ? ` (${e.detail})` : '') : describeCause(e)}`);
    }
  }
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

/** Bulk-load a verified segment's rows (the table is between beginLoad and finishLoad). */
function insertRows(task: SegmentTask, bytes: Uint8Array, socket: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rowCount = view.getUint32(16, true);
  const rowBytes = task.table.schema.rowBytes;
  const table = task.table;
  let off = SEGMENT_HEADER_BYTES;
  for (let i = 0; i < rowCount; i++, off += rowBytes) {
    try {
      table.loadRaw(bytes, off, socket, view.getFloat64(off, true));
    } catch (e) {
      throw Errors.corruption(task.path, off, `row ${i} of table "${table.name}" cannot be loaded: ${e instanceof MotError ? e.message + (e.detail ? ` (${e.detail})` : '') : describeCause(e)}`);
    }
  }
  return rowCount;
}

async function readBody<T extends TablesMeta | SegmentMap | EndMarker | TombstoneBody>(disk: Disk, path: string, kind: EnvelopeKind): Promise<T> {
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
