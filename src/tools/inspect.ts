// Describes a data directory without changing it: the control file, the checkpoint directories (and
// whether each is complete), the WAL segment files, and what a cold start would do (which checkpoint,
// how many WAL frames and transactions after its LSN, whether the log ends torn). Reads only: a torn
// tail is reported, never cut; damage is reported as what recovery would refuse, never thrown.

import type { Disk } from '../io/disk.js';
import { joinPath } from '../io/disk.js';
import { requireDirectory } from '../io/require-directory.js';
import { Errors, isMotError } from '../errors.js';
import { readWal, type WalEnd } from '../wal/wal-reader.js';
import { FrameType, parseSegmentFileName } from '../wal/wal-format.js';
import { REDO_END_BLOCK_BYTES, RedoEndOp } from '../redo/redo-format.js';
import {
  CONTROL_FILE_NAME,
  END_MARKER_FILE_NAME,
  EnvelopeKind,
  checkpointDirName,
  decodeBody,
  decodeControl,
  parseCheckpointDirName,
  type ControlRecord,
  type EndMarker,
} from '../checkpoint/checkpoint-format.js';

export interface InspectedCheckpoint {
  id: number;
  directory: string;
  /** Its end marker exists and decodes: recovery may load it. */
  complete: boolean;
  /** Named by the control file. */
  current: boolean;
  files: number;
  bytes: number;
  /** From the end marker, when complete. */
  lsn?: number;
  csn?: number;
  rows?: number;
  segments?: number;
  kind?: string;
  /** Why the end marker is missing or unreadable. */
  problem?: string;
}

export interface InspectedSegment {
  name: string;
  firstLsn: number;
  bytes: number;
}

export interface InspectReport {
  dir: string;
  /**
   * The pid of the engine that has the directory open, if one has: inspect reads without the lock,
   * so what it shows may be changing (a torn tail may be a write in progress).
   */
  inUseByPid?: number;
  checkpointDir: string;
  control: ControlRecord | null;
  /** The control file exists but does not decode. */
  controlProblem?: string;
  checkpoints: InspectedCheckpoint[];
  wal: {
    dir: string;
    segmentBytes: number;
    segments: InspectedSegment[];
    /** Sum of the segment files' sizes (preallocated segments count in full). */
    fileBytes: number;
    /** Copies of torn tails cut by earlier recoveries (torn-*.bin). */
    tornCopies: string[];
  };
  recovery: {
    /** The checkpoint a cold start would load (undefined: none, WAL from LSN 0). */
    checkpointId: number | undefined;
    fromLsn: number;
    /** REDO frames from fromLsn to the end of the log. */
    frames: number;
    /** WAL bytes from fromLsn to the end of the log. */
    walBytes: number;
    /** Committed transactions it would replay (CSN above the checkpoint's). */
    transactionsToReplay: number;
    /** Committed transactions already in the checkpoint (CSN at or below it). */
    transactionsSkipped: number;
    /** PARTIAL buffers with no COMMIT buffer: dropped. */
    transactionsIncomplete: number;
    end: WalEnd | undefined;
    /** What recovery would refuse (corruption, an incomplete checkpoint), if anything. */
    error?: string;
  };
}

export interface InspectOptions {
  /** checkpoint_dir (default: the data directory). */
  checkpointDir?: string;
  /** wal_segment_size (default: inferred from the segment files). */
  segmentBytes?: number;
}

/** Segment size when neither the configuration nor the files tell (the wal_segment_size default). */
const SEGMENT_BYTES_FALLBACK = 16 * 1024 * 1024;

export async function inspectDataDir(disk: Disk, dir: string, o: InspectOptions = {}): Promise<InspectReport> {
  await requireDirectory(disk, dir, 'data directory');
  const checkpointDir = o.checkpointDir || dir;
  if (checkpointDir !== dir) await requireDirectory(disk, checkpointDir, 'checkpoint_dir');
  // No lock is taken: a running engine may change what is read, which the report says.
  const holder = await disk.directoryLockHolder(dir);
  const walDir = joinPath(dir, 'wal');
  const { control, problem } = await readControlFile(disk, checkpointDir);
  const checkpoints = await listCheckpoints(disk, checkpointDir, control);
  const segments = await listSegments(disk, walDir);
  const segmentBytes = o.segmentBytes ?? inferSegmentBytes(segments);
  const tornCopies = (await listOr(disk, walDir)).filter((n) => /^torn-[0-9a-f]+(-\d+)?\.bin$/.test(n));
  const report: InspectReport = {
    dir,
    ...(holder ? { inUseByPid: holder.pid } : {}),
    checkpointDir,
    control,
    ...(problem ? { controlProblem: problem } : {}),
    checkpoints,
    wal: { dir: walDir, segmentBytes, segments, fileBytes: segments.reduce((n, s) => n + s.bytes, 0), tornCopies },
    recovery: {
      checkpointId: control?.checkpointId,
      fromLsn: control?.checkpointLsn ?? 0,
      frames: 0,
      walBytes: 0,
      transactionsToReplay: 0,
      transactionsSkipped: 0,
      transactionsIncomplete: 0,
      end: undefined,
    },
  };
  const current = checkpoints.find((c) => c.current);
  if (problem) report.recovery.error = `the control file "${joinPath(checkpointDir, CONTROL_FILE_NAME)}" is damaged (${problem}): recovery would refuse to start`;
  else if (control && !current?.complete) {
    report.recovery.error = `checkpoint ${control.checkpointId} named by the control file is not complete (${current?.problem ?? 'its directory is missing'}): recovery would refuse to start`;
  }
  if (segments.length > 0) await planReplay(disk, walDir, segmentBytes, control, report);
  return report;
}

async function readControlFile(disk: Disk, checkpointDir: string): Promise<{ control: ControlRecord | null; problem?: string }> {
  const path = joinPath(checkpointDir, CONTROL_FILE_NAME);
  if (!(await disk.exists(path))) return { control: null };
  const decoded = decodeControl(await disk.readFile(path));
  return typeof decoded === 'string' ? { control: null, problem: decoded } : { control: decoded };
}

async function listCheckpoints(disk: Disk, checkpointDir: string, control: ControlRecord | null): Promise<InspectedCheckpoint[]> {
  const out: InspectedCheckpoint[] = [];
  for (const name of await listOr(disk, checkpointDir)) {
    const id = parseCheckpointDirName(name);
    if (id === undefined) continue;
    const directory = joinPath(checkpointDir, checkpointDirName(id));
    const files = await listOr(disk, directory);
    let bytes = 0;
    for (const f of files) bytes += (await disk.readFile(joinPath(directory, f))).length;
    const c: InspectedCheckpoint = { id, directory, complete: false, current: control?.checkpointId === id, files: files.length, bytes };
    if (!files.includes(END_MARKER_FILE_NAME)) c.problem = `no ${END_MARKER_FILE_NAME}: a checkpoint interrupted before it completed`;
    else {
      const end = decodeBody<EndMarker>(await disk.readFile(joinPath(directory, END_MARKER_FILE_NAME)), EnvelopeKind.END);
      if (typeof end === 'string') c.problem = `${END_MARKER_FILE_NAME} is damaged (${end})`;
      else Object.assign(c, { complete: true, lsn: end.lsn, csn: end.csn, rows: end.rows, segments: end.segments, kind: (end as EndMarker & { kind?: string }).kind ?? 'full' });
    }
    out.push(c);
  }
  return out.sort((a, b) => a.id - b.id);
}

async function listSegments(disk: Disk, walDir: string): Promise<InspectedSegment[]> {
  const out: InspectedSegment[] = [];
  for (const name of await listOr(disk, walDir)) {
    const firstLsn = parseSegmentFileName(name);
    if (firstLsn === undefined) continue;
    const f = await disk.open(joinPath(walDir, name));
    try {
      out.push({ name, firstLsn, bytes: await f.size() });
    } finally {
      await f.close();
    }
  }
  return out.sort((a, b) => a.firstLsn - b.firstLsn);
}

/**
 * The WAL segment size, from the files alone (waldump and inspect without a mot.conf): segment k
 * starts at k x size, so two or more first LSNs give it as their gcd; otherwise a preallocated
 * segment's file size (a power of two); else the default.
 */
export function inferSegmentBytes(segments: readonly { firstLsn: number; bytes: number }[]): number {
  const firsts = segments.map((s) => s.firstLsn).filter((l) => l > 0);
  if (firsts.length >= 2 || (firsts.length === 1 && segments.length >= 2)) return firsts.reduce((a, b) => gcd(a, b));
  const sized = segments.find((s) => s.bytes > 0 && (s.bytes & (s.bytes - 1)) === 0 && s.firstLsn % s.bytes === 0);
  if (sized) return sized.bytes;
  return SEGMENT_BYTES_FALLBACK;
}

/** Read the log from the checkpoint's LSN as recovery would (without repairing) and count what it would replay. */
async function planReplay(disk: Disk, walDir: string, segmentBytes: number, control: ControlRecord | null, report: InspectReport): Promise<void> {
  const fromLsn = control?.checkpointLsn ?? 0;
  const skipAtOrBelow = control?.checkpointCsn ?? 0;
  const r = report.recovery;
  try {
    const scan = await readWal(disk, walDir, { segmentBytes, fromLsn });
    r.end = scan.end;
    r.walBytes = scan.end.endLsn - fromLsn;
    const partial = new Set<number>();
    for (const frame of scan.frames) {
      if (frame.type !== FrameType.REDO) continue;
      r.frames++;
      forEachEndBlock(frame.payload, (endOp, txId, csn) => {
        if (endOp === RedoEndOp.PARTIAL) partial.add(txId);
        else if (endOp === RedoEndOp.COMMIT) {
          partial.delete(txId);
          if (csn <= skipAtOrBelow) r.transactionsSkipped++;
          else r.transactionsToReplay++;
        }
      });
    }
    r.transactionsIncomplete = partial.size;
  } catch (e) {
    if (!isMotError(e)) throw e;
    r.error = `${r.error ? `${r.error}; ` : ''}the WAL would be refused: ${e.message}`;
  }
}

/** The end block (op, transaction id, CSN) of every redo buffer laid end to end in a frame's payload. */
function forEachEndBlock(payload: Uint8Array, visit: (endOp: number, txId: number, csn: number) => void): void {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = 0;
  // Bounded: each step advances by a buffer's length, which is at least its end block.
  while (at + 4 <= payload.length) {
    const bytes = view.getUint32(at, true);
    if (bytes < REDO_END_BLOCK_BYTES || at + bytes > payload.length) return;
    const end = at + bytes - REDO_END_BLOCK_BYTES;
    visit(view.getUint8(end), view.getFloat64(end + 16, true), view.getFloat64(end + 8, true));
    at += bytes;
  }
}

async function listOr(disk: Disk, dir: string): Promise<string[]> {
  try {
    return await disk.list(dir);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT' || (e as { code?: string }).code === 'ENOTDIR') return [];
    throw e;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
