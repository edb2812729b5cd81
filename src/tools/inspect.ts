// Describes a data directory without changing it: the control file, the checkpoint directories (and
// whether each is complete), the WAL segment files, and what a cold start would do. The last part is
// recovery itself, by construction: recoverDirectory (src/recovery/recover.ts), the code Engine.open
// runs, loads the checkpoint chain and replays the WAL into a scratch catalog with every check recovery
// makes, except that a torn tail is reported, never cut. So inspect refuses exactly what recovery
// refuses; damage is reported as what recovery would refuse, never thrown. Nothing is written.

import type { Disk } from '../io/disk.js';
import { joinPath } from '../io/disk.js';
import { requireDirectory } from '../io/require-directory.js';
import { Errors, isMotError } from '../errors.js';
import type { WalEnd } from '../wal/wal-reader.js';
import { parseSegmentFileName } from '../wal/wal-format.js';
import { RealClock, type Clock } from '../io/clock.js';
import { Catalog } from '../catalog.js';
import { ChunkPools } from '../store/chunk-pool.js';
import { InlineExecutor } from '../checkpoint/executor.js';
import { defaultConfig, type EngineConfig } from '../config/config.js';
import { readDirectorySettings, type DirectorySettings } from '../config/directory-settings.js';
import { recoverDirectory } from '../recovery/recover.js';
import type { Witness } from '../wal/witness-format.js';
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
  /** The directory's recorded settings (directory.json), if it has them. */
  settings: DirectorySettings | undefined;
  /** The WAL witness file (wal.witness), if recovery got to read one. */
  witness: Witness | undefined;
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
    /** Frames from fromLsn to the end of the log. */
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
    /** The LSN the log had to reach (a witness), and which witness. */
    durableAtLeast?: { lsn: number; source: string };
    /** Rows the checkpoint would load. */
    checkpointRows?: number;
    /** What recovery refuses (corruption, an incomplete checkpoint), if anything: its error, as recovery reports it. */
    error?: string;
  };
}

export interface InspectOptions {
  /** checkpoint_dir (default: the data directory). */
  checkpointDir?: string;
  /** wal_segment_size (default: the directory's own, else inferred from the segment files). */
  segmentBytes?: number;
  /** The configuration recovery runs with (memory limits, sockets; default: the defaults). */
  config?: EngineConfig;
  /** Clock for the scratch recovery (only its timings depend on it). */
  clock?: Clock;
}

/** Segment size when neither the configuration nor the files tell (the wal_segment_size default). */
const SEGMENT_BYTES_FALLBACK = 16 * 1024 * 1024;

export async function inspectDataDir(disk: Disk, dir: string, o: InspectOptions = {}): Promise<InspectReport> {
  await requireDirectory(disk, dir, 'data directory');
  const config = o.config ?? defaultConfig();
  const checkpointDir = o.checkpointDir || dir;
  if (checkpointDir !== dir) await requireDirectory(disk, checkpointDir, 'checkpoint_dir');
  // No lock is taken: a running engine may change what is read, which the report says.
  const holder = await disk.directoryLockHolder(dir);
  const walDir = joinPath(dir, 'wal');
  const problems: string[] = [];
  const settings = await readDirectorySettings(disk, dir).catch((e: unknown) => {
    if (!isMotError(e)) throw e;
    problems.push(e.message);
    return undefined;
  });
  const { control, problem } = await readControlFile(disk, checkpointDir);
  const checkpoints = await listCheckpoints(disk, checkpointDir, control);
  const segments = await listSegments(disk, walDir);
  const segmentBytes = settings?.wal_segment_size ?? o.segmentBytes ?? inferSegmentBytes(segments);
  const tornCopies = (await listOr(disk, walDir)).filter((n) => /^torn-[0-9a-f]+(-\d+)?\.bin$/.test(n));
  const report: InspectReport = {
    dir,
    ...(holder ? { inUseByPid: holder.pid } : {}),
    checkpointDir,
    settings,
    witness: undefined,
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
  if (problems.length === 0) await recoverScratch(disk, dir, checkpointDir, walDir, segmentBytes, settings, config, o.clock, report, problems);
  if (problems.length > 0) report.recovery.error = `recovery would refuse to start: ${problems.join('; ')}`;
  return report;
}

/** Run recovery itself into a scratch catalog, without repairing anything; record what it found or refused. */
async function recoverScratch(
  disk: Disk,
  dir: string,
  checkpointDir: string,
  walDir: string,
  segmentBytes: number,
  settings: DirectorySettings | undefined,
  config: EngineConfig,
  clock: Clock | undefined,
  report: InspectReport,
  problems: string[],
): Promise<void> {
  const scratchClock = clock ?? new RealClock();
  const catalog = new Catalog(
    new ChunkPools({ sockets: config.sockets, globalBytesMax: config.maxMotGlobalMemoryBytes, localBytesMax: config.maxMotLocalMemoryBytes }),
  );
  const r = report.recovery;
  try {
    const recovered = await recoverDirectory(disk, catalog, scratchClock, {
      dir,
      checkpointDir,
      walDir,
      segmentBytes,
      // Without directory.json (a directory from before it) preallocation is unknown: not enforced, as recovery does.
      preallocated: settings?.wal_preallocate ?? false,
      sockets: config.sockets,
      recoveryWorkers: 1,
      executorFactory: () => new InlineExecutor(scratchClock, 0),
      repairTornTail: false,
    });
    const w = recovered.wal;
    report.witness = recovered.witness;
    r.end = w.end;
    r.frames = w.framesRead;
    r.walBytes = w.end.endLsn - r.fromLsn;
    r.transactionsToReplay = w.transactionsReplayed;
    r.transactionsSkipped = w.transactionsSkipped;
    r.transactionsIncomplete = w.transactionsDropped;
    r.checkpointRows = recovered.checkpoint?.rows;
    if (recovered.durableAtLeast !== undefined) r.durableAtLeast = recovered.durableAtLeast;
  } catch (e) {
    if (!isMotError(e)) throw e;
    problems.push(e.message);
  }
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
