// The engine's real CPU cost per committed transaction, the default of `motsim simulate`'s CPU model
// (src/sim/cpu-model.ts): 64 sessions in a closed loop on the in-memory disk, one JavaScript thread,
// so wall time per commit is CPU time per commit. Run: node dist/bench/sim-cpu-cost.js [--smoke]
// (--smoke: 20 ms warm-up, 100 ms measured, 1,000 preloaded rows, instead of 300 ms, 2 s, 10,000).

import { Engine } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import { BENCH_TABLE, buildOne, makeRow, type WorkloadName, type WorkloadState } from '../src/bench/workloads.js';
import { SeededRandom } from '../src/io/random.js';
import { isMotError } from '../src/errors.js';
import { TX_CPU_US_DEFAULT } from '../src/sim/cpu-model.js';
import { printTable, runBench, sized, writeResult } from './report.js';

const MODES = {
  synchronous: { synchronous_commit: true, enable_group_commit: false },
  group: { enable_group_commit: true, group_commit_size: 16, group_commit_timeout: '10ms' },
  asynchronous: { synchronous_commit: false, wal_writer_delay: '10ms' },
} as const;
const SESSIONS = 64;
const WARMUP_MS = sized(300, 20);
const MEASURE_MS = sized(2000, 100);
/** Rows loaded before the update-mix workload (it updates and reads them). */
const PRELOAD_ROWS = sized(10_000, 1_000);

async function measure(mode: keyof typeof MODES, workload: WorkloadName): Promise<{ usPerCommit: number; commits: number }> {
  const engine = await Engine.open('/cpu', {
    disk: new MemDisk(),
    config: { ...MODES[mode], wal_flusher: 'committer', sockets: 2, cores_per_socket: SESSIONS / 2, affinity_mode: 'equal-per-socket' },
    onWarning: () => undefined,
  });
  await engine.createTable(BENCH_TABLE);
  const state: WorkloadState = { nextId: 0, preloadedRows: 0 };
  if (workload === 'update-mix') {
    const s = engine.openSession();
    for (let i = 0; i < PRELOAD_ROWS; i += 1000) {
      const tx = s.begin();
      for (let j = i; j < i + 1000; j++) tx.insert('bench', makeRow(j, 0));
      await tx.commit();
    }
    s.close();
    state.nextId = state.preloadedRows = PRELOAD_ROWS;
  }
  const random = new SeededRandom(1);
  let commits = 0;
  let stop = false;
  let failure: unknown;
  const loop = async (): Promise<void> => {
    const session = engine.openSession();
    // Bounded by `stop`, set after MEASURE_MS; yields every 64 transactions so timers run.
    for (let n = 1; !stop; n++) {
      if ((n & 63) === 0) await new Promise((resolve) => setImmediate(resolve));
      try {
        const { tx } = buildOne(workload, session, state, random);
        await tx.commit();
        commits++;
      } catch (e) {
        // A serialization failure is part of the workload; anything else stops every loop and fails the benchmark.
        if (!(isMotError(e) && e.sqlstate === '40001')) {
          failure ??= e;
          stop = true;
        }
      }
    }
    session.close();
  };
  const loops = Array.from({ length: SESSIONS }, loop);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const c0 = commits;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  const n = commits - c0;
  const us = ((performance.now() - t0) * 1000) / n;
  stop = true;
  await Promise.all(loops);
  await engine.close();
  if (failure !== undefined) throw failure;
  if (n === 0) throw new Error(`${mode}, ${workload}: no transaction committed in the ${MEASURE_MS} ms measured`);
  return { usPerCommit: us, commits: n };
}

async function main(): Promise<void> {
  const rows: string[][] = [['mode', 'workload', 'µs per commit', 'commits']];
  const result: Record<string, Record<string, number>> = {};
  for (const workload of ['insert', 'update-mix'] as const) {
    for (const mode of Object.keys(MODES) as (keyof typeof MODES)[]) {
      const r = await measure(mode, workload);
      rows.push([mode, workload, r.usPerCommit.toFixed(2), String(r.commits)]);
      (result[workload] ??= {})[mode] = Math.round(r.usPerCommit * 100) / 100;
    }
  }
  printTable(`CPU per committed transaction (default in src/sim/cpu-model.ts: insert ${TX_CPU_US_DEFAULT.insert} µs, update-mix ${TX_CPU_US_DEFAULT['update-mix']} µs)`, rows);
  writeResult('sim-cpu-cost', { sessions: SESSIONS, usPerCommit: result, defaults: TX_CPU_US_DEFAULT });
}

runBench('sim-cpu-cost', main);
