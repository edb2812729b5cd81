// Helpers for the checkpoint tests: a deterministic world (scheduler, virtual clock, simulated disk),
// an engine in it, a small random workload that records what each transaction wrote and whether it
// was acknowledged, the model state those acknowledgements imply, and the engine's state to compare.

import { Engine, type EngineOptions } from '../../src/engine.js';
import { SeededRandom, type Random } from '../../src/io/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { VirtualClock } from '../../src/sim/virtual-clock.js';
import { SimDisk, type DurableImage } from '../../src/sim/sim-disk.js';
import type { CrashModel } from '../../src/sim/faults.js';
import type { Row, TableDef } from '../../src/store/schema.js';

export const ACCOUNTS: TableDef = {
  name: 'acct',
  columns: [
    { name: 'id', type: 'int32', nullable: false },
    { name: 'balance', type: 'int64' },
    { name: 'note', type: 'varchar', size: 16 },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'acct_note', columns: ['note'] }],
};

/** Small WAL segments and checkpoint segments, so a few hundred rows span several files. */
export const SIM_CONFIG = {
  synchronous_commit: true,
  enable_group_commit: false,
  wal_segment_size: '1MB',
  redo_buffer_size: '64KB',
  checkpoint_interval: 0,
  checkpoint_wal_size_max: 0,
  checkpoint_workers: 2,
  checkpoint_recovery_workers: 2,
};

export interface World {
  scheduler: Scheduler;
  clock: VirtualClock;
  disk: SimDisk;
  seed: number;
}

/** A world from `seed`, on a fresh disk or a durable image; `startUs` continues virtual time after a restart. */
export function world(seed: number, image?: DurableImage, crashModel?: CrashModel, startUs = 0): World {
  const scheduler = new Scheduler({ startUs });
  const clock = new VirtualClock(scheduler);
  const opts = { scheduler, random: new SeededRandom(seed), latency: 'nvme' as const, crashModel };
  const disk = image ? SimDisk.fromSnapshot(image, opts) : new SimDisk(opts);
  return { scheduler, clock, disk, seed };
}

export function sim<T>(w: World, label: string, p: Promise<T>): Promise<T> {
  return w.scheduler.settle(label, p);
}

export function openEngine(w: World, config: Record<string, string | number | boolean> = {}, extra: Partial<EngineOptions> = {}): Promise<Engine> {
  return sim(
    w,
    'open',
    Engine.open('/db', {
      disk: w.disk,
      clock: w.clock,
      random: new SeededRandom(w.seed + 7),
      config: { ...SIM_CONFIG, ...config },
      onWarning: () => undefined,
      checkpointTuning: { segmentBytesMax: 2048, captureBatchRows: 4 },
      ...extra,
    }),
  );
}

/** Every row of every table, keyed "table/json(key)", as JSON with bigints as strings. */
export function engineState(engine: Engine): Map<string, string> {
  const out = new Map<string, string>();
  const tx = engine.openSession().begin();
  for (const t of engine.tables()) {
    for (const row of tx.scan(t.name)) out.set(`${t.name}/${row.id}`, show(row));
  }
  tx.rollback();
  return out;
}

export function show(row: Row): string {
  return JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** One transaction's effect: key -> full row after it, or undefined (deleted). */
export type Images = Map<string, string | undefined>;

export interface TxRecord {
  images: Images;
  csn: number;
}

export interface WorkloadLog {
  acked: TxRecord[];
  /** Transactions whose commit had started and not yet settled when `uncertainFrom()` was called. */
  inFlight: Set<Images>;
  committing: Set<Images>;
}

export function newLog(): WorkloadLog {
  return { acked: [], inFlight: new Set(), committing: new Set() };
}

/**
 * One random transaction on table acct over keys 0..keys-1: reads each key it touches and inserts,
 * updates or deletes it. Records its images and, once acknowledged, its CSN.
 */
export async function randomTransaction(engine: Engine, r: Random, keys: number, log: WorkloadLog, socketCore?: number): Promise<void> {
  const session = engine.openSession(socketCore === undefined ? {} : { core: socketCore });
  const tx = session.begin();
  const images: Images = new Map();
  try {
    const ops = 1 + r.int(3);
    for (let i = 0; i < ops; i++) {
      const id = r.int(keys);
      const cur = tx.get('acct', id);
      const choice = r.int(10);
      if (cur === undefined) {
        const row = { id, balance: BigInt(r.int(1000)), note: `n${r.int(5)}` };
        tx.insert('acct', row);
        images.set(`acct/${id}`, show(row));
      } else if (choice < 7) {
        const changes = { balance: BigInt(r.int(1000)) };
        tx.update('acct', id, changes);
        images.set(`acct/${id}`, show({ ...cur, ...changes }));
      } else {
        tx.delete('acct', id);
        images.set(`acct/${id}`, undefined);
      }
    }
    log.committing.add(images);
    const { csn } = await tx.commit();
    log.acked.push({ images, csn });
  } catch {
    // serialization failures, and commits cut by a crash (uncertain: recorded in inFlight)
  } finally {
    log.committing.delete(images);
    session.close();
  }
}

/** Snapshot the commits in flight now (call at the crash). */
export function markCrash(log: WorkloadLog): void {
  for (const i of log.committing) log.inFlight.add(i);
}

/** The state acknowledged commits imply, applied in CSN order (optionally only CSN <= upTo). */
export function modelState(log: WorkloadLog, upTo = Number.POSITIVE_INFINITY): Map<string, string> {
  const state = new Map<string, string>();
  for (const tx of [...log.acked].sort((a, b) => a.csn - b.csn)) {
    if (tx.csn > upTo) continue;
    for (const [k, v] of tx.images) {
      if (v === undefined) state.delete(k);
      else state.set(k, v);
    }
  }
  return state;
}

/**
 * Recovered state = acknowledged state plus, for each commit in flight at the crash, all of its
 * writes or none (a commit cut by the crash may or may not have reached the disk). Returns the
 * differences, empty when it holds.
 */
export function compareWithUncertain(recovered: Map<string, string>, log: WorkloadLog): string[] {
  const acked = modelState(log);
  const problems: string[] = [];
  const touched = new Set<string>();
  for (const images of log.inFlight) {
    const all = [...images].every(([k, v]) => recovered.get(k) === v);
    const none = [...images].every(([k]) => recovered.get(k) === acked.get(k));
    if (!all && !none) problems.push(`a commit in flight at the crash is partly applied: ${[...images.keys()].join(', ')}`);
    for (const k of images.keys()) touched.add(k);
  }
  const keys = new Set([...acked.keys(), ...recovered.keys()]);
  for (const k of keys) {
    if (touched.has(k)) continue;
    if (acked.get(k) !== recovered.get(k)) problems.push(`${k}: acknowledged ${acked.get(k) ?? '(none)'}, recovered ${recovered.get(k) ?? '(none)'}`);
  }
  return problems;
}

export function diff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) if (a.get(k) !== b.get(k)) out.push(`${k}: ${a.get(k) ?? '(none)'} vs ${b.get(k) ?? '(none)'}`);
  return out;
}
