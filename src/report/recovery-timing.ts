// Chart 6 of the report: recovery time of small databases on this machine's real disk, split into
// checkpoint load and WAL replay: without a checkpoint (the WAL grows with the history) and with a
// checkpoint taken every N transactions, recovering at the worst moment (just before the next one).
// Every database is built in a fresh temporary directory, removed afterwards.

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine.js';
import { SeededRandom } from '../io/random.js';
import { BENCH_TABLE, makeRow } from '../bench/workloads.js';

export interface RecoveryPoint {
  label: string;
  /** Transactions between checkpoints (undefined: no checkpoint). */
  checkpointEveryTx: number | undefined;
  /** Update transactions run after the preload. */
  historyTx: number;
  /** Transactions in the WAL recovery replayed (after the checkpoint, or all with none). */
  walTxReplayed: number;
  walBytesReplayed: number;
  checkpointRows: number;
  checkpointLoadMs: number;
  walReplayMs: number;
}

export interface RecoveryTiming {
  /** 'real disk' (measured here), with the directory's parent. */
  where: string;
  rows: number;
  repeats: number;
  points: RecoveryPoint[];
}

export interface RecoveryTimingOptions {
  /** Rows loaded first (default 5000). */
  rows?: number;
  /** History lengths without a checkpoint (default 2,000, 10,000, 20,000 transactions). */
  historiesTx?: number[];
  /** Checkpoint intervals in transactions, on the longest history (default 10,000, 5,000, 1,000). */
  intervalsTx?: number[];
  /** Recoveries timed per database; the fastest is kept (default 2). */
  repeats?: number;
  seed?: number;
  onPoint?: (done: number, total: number) => void;
}

/**
 * Segments are verified inline: on a database this small, starting the checkpoint_recovery_workers
 * threads (~100+ ms here) would dwarf the load itself and hide the trade-off the chart is about.
 */
const quiet = { onWarning: () => undefined, checkpointExecutor: 'inline' as const };
/** Asynchronous commit fills the log quickly; the WAL content is what recovery reads, whatever the mode. */
/** Small segments, not preallocated: the files read at recovery follow the WAL's length (a 16 MB segment would be read whole). */
const FILL_CONFIG = { synchronous_commit: false, wal_writer_delay: '5ms', wal_segment_size: '4MB', wal_preallocate: false };

export async function measureRecoveryTiming(o: RecoveryTimingOptions = {}): Promise<RecoveryTiming> {
  const rows = o.rows ?? 5000;
  const histories = o.historiesTx ?? [2000, 10_000, 20_000];
  const intervals = o.intervalsTx ?? [10_000, 5000, 1000];
  const repeats = o.repeats ?? 2;
  const longest = Math.max(...histories);
  const plan: Array<{ label: string; every: number | undefined; history: number }> = [
    ...histories.map((h) => ({ label: `no checkpoint, ${h.toLocaleString('en-US')} tx`, every: undefined, history: h })),
    ...intervals.map((x) => ({ label: `checkpoint every ${x.toLocaleString('en-US')} tx`, every: x, history: longest })),
  ];
  const parent = fs.mkdtempSync(join(os.tmpdir(), 'motsim-report-recovery-'));
  const points: RecoveryPoint[] = [];
  try {
    for (const [i, p] of plan.entries()) {
      const dir = join(parent, `db-${i}`);
      await buildDatabase(dir, rows, p.history, p.every, (o.seed ?? 1) + i);
      points.push(await timeRecovery(dir, p.label, p.every, p.history, repeats));
      fs.rmSync(dir, { recursive: true, force: true });
      o.onPoint?.(points.length, plan.length);
    }
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
  return { where: `the real disk (${os.tmpdir()}; checkpoint segments verified inline, no worker threads)`, rows, repeats, points };
}

/**
 * Preload `rows`, then run `history` one-row updates; with `every`, the last checkpoint is taken
 * `every` transactions before the end: the moment just before the next one is due (the worst case).
 */
async function buildDatabase(dir: string, rows: number, history: number, every: number | undefined, seed: number): Promise<void> {
  const engine = await Engine.open(dir, { ...quiet, config: FILL_CONFIG });
  try {
    await engine.createTable(BENCH_TABLE);
    const session = engine.openSession();
    for (let i = 0; i < rows; i += 1000) {
      const tx = session.begin();
      for (let j = i; j < Math.min(rows, i + 1000); j++) tx.insert(BENCH_TABLE.name, makeRow(j, 0));
      await tx.commit();
    }
    const random = new SeededRandom(seed);
    const checkpointAt = every === undefined ? -1 : Math.max(0, history - Math.min(every, history));
    for (let t = 0; t < history; t++) {
      if (t === checkpointAt) await engine.checkpoint();
      const tx = session.begin();
      tx.update(BENCH_TABLE.name, BigInt(random.int(rows)), { n: t });
      await tx.commit();
    }
    session.close();
  } finally {
    await engine.close();
  }
}

async function timeRecovery(dir: string, label: string, every: number | undefined, history: number, repeats: number): Promise<RecoveryPoint> {
  let best: RecoveryPoint | undefined;
  for (let r = 0; r < repeats; r++) {
    const engine = await Engine.open(dir, { ...quiet, config: FILL_CONFIG });
    const rec = engine.recovery;
    await engine.close();
    const point: RecoveryPoint = {
      label,
      checkpointEveryTx: every,
      historyTx: history,
      walTxReplayed: rec.wal.transactionsReplayed,
      walBytesReplayed: rec.wal.end.endLsn - (rec.checkpoint?.lsn ?? 0),
      checkpointRows: rec.checkpoint?.rows ?? 0,
      checkpointLoadMs: round2(rec.checkpointMs),
      walReplayMs: round2(rec.walMs),
    };
    if (!best || point.checkpointLoadMs + point.walReplayMs < best.checkpointLoadMs + best.walReplayMs) best = point;
  }
  return best!;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
