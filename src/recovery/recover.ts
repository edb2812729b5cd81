// Cold start of a data directory, the one recovery path: load the checkpoint mot.ctrl names (its
// chain), then replay the WAL after its LSN, with every check recovery makes: checkpoint files,
// the WAL's frames, its segments' sizes (preallocated ones are never short), and a log end no earlier
// than what the control file and the WAL witness say was durable. Used by Engine.open (which repairs a
// torn tail) and by `motsim inspect` (which changes nothing and reports what recovery refuses).

import type { Disk } from '../io/disk.js';
import { joinPath } from '../io/disk.js';
import type { Clock } from '../io/clock.js';
import type { Catalog } from '../catalog.js';
import type { Table } from '../store/table.js';
import type { Value } from '../store/schema.js';
import { Errors } from '../errors.js';
import { loadCheckpoint, type CheckpointLoadReport } from '../checkpoint/checkpoint-reader.js';
import type { ExecutorFactory } from '../checkpoint/executor.js';
import { replayWal, type WalReplayReport } from './wal-replay.js';
import { WITNESS_FILE_NAME, decodeWitness, witnessReasonName, type Witness } from '../wal/witness-format.js';

export interface RecoverOptions {
  dir: string;
  checkpointDir: string;
  walDir: string;
  segmentBytes: number;
  /** The directory says its segments are preallocated (a short one is then damage). */
  preallocated: boolean;
  sockets: number;
  recoveryWorkers: number;
  executorFactory: ExecutorFactory;
  /** Cut a torn tail (Engine.open); false: change nothing (inspect). */
  repairTornTail: boolean;
  onRowRemoved?: (table: Table, key: Value | Value[], encodedKey: string | number | bigint, csn: number) => void;
  onTableTruncated?: (table: Table, csn: number) => void;
  onTableRedefined?: (table: Table, csn: number) => void;
}

export interface RecoveredDirectory {
  checkpoint: CheckpointLoadReport | undefined;
  wal: WalReplayReport;
  /** The WAL witness file as read (undefined: none). */
  witness: Witness | undefined;
  /** The LSN the log had to reach, and why (undefined: nothing known). */
  durableAtLeast: { lsn: number; source: string } | undefined;
  checkpointMs: number;
  walMs: number;
}

export function witnessPath(dir: string): string {
  return joinPath(dir, WITNESS_FILE_NAME);
}

/** The WAL witness file, or undefined when there is none; a damaged one is corruption naming it. */
export async function readWitness(disk: Disk, dir: string, segmentBytes: number): Promise<Witness | undefined> {
  const path = witnessPath(dir);
  if (!(await disk.exists(path))) return undefined;
  const w = decodeWitness(await disk.readFile(path));
  if (typeof w === 'string') throw Errors.corruption(path, 0, `WAL witness file: ${w}`);
  if (w.segmentBytes !== segmentBytes) {
    throw Errors.corruption(path, 16, `WAL witness file names a segment size of ${w.segmentBytes} bytes, the data directory ${segmentBytes}`);
  }
  return w;
}

/** Load the checkpoint and replay the WAL into the empty `catalog`, with all of recovery's checks. */
export async function recoverDirectory(disk: Disk, catalog: Catalog, clock: Clock, o: RecoverOptions): Promise<RecoveredDirectory> {
  const t0 = clock.nowUs();
  const checkpoint = await loadCheckpoint(disk, o.checkpointDir, catalog, clock, {
    workers: o.recoveryWorkers,
    sockets: o.sockets,
    executorFactory: o.executorFactory,
  });
  const t1 = clock.nowUs();
  const witness = await readWitness(disk, o.dir, o.segmentBytes);
  const durableAtLeast = knownDurable(checkpoint, witness, o.dir);
  const wal = await replayWal(disk, o.walDir, catalog, clock, {
    segmentBytes: o.segmentBytes,
    fromLsn: checkpoint?.lsn ?? 0,
    skipCsnAtOrBelow: checkpoint?.csn ?? 0,
    sockets: o.sockets,
    repairTornTail: o.repairTornTail,
    preallocated: o.preallocated,
    durableAtLeast,
    onRowRemoved: o.onRowRemoved,
    onTableTruncated: o.onTableTruncated,
    onTableRedefined: o.onTableRedefined,
  });
  return { checkpoint, wal, witness, durableAtLeast, checkpointMs: (t1 - t0) / 1000, walMs: (clock.nowUs() - t1) / 1000 };
}

/** The highest LSN a witness says was durable: the control file's lastReplayLsn, the witness file's. */
function knownDurable(checkpoint: CheckpointLoadReport | undefined, witness: Witness | undefined, dir: string): { lsn: number; source: string } | undefined {
  const fromControl = checkpoint === undefined ? undefined : { lsn: checkpoint.lastReplayLsn, source: `the control file of checkpoint ${checkpoint.checkpointId} says so (lastReplayLsn)` };
  const fromWitness = witness === undefined ? undefined : { lsn: witness.durableLsn, source: `the WAL witness ${witnessPath(dir)} says so (written at ${witnessReasonName(witness.reason)})` };
  if (fromControl === undefined) return fromWitness;
  if (fromWitness === undefined) return fromControl;
  return fromWitness.lsn > fromControl.lsn ? fromWitness : fromControl;
}
