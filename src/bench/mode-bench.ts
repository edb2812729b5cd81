// One benchmark run: an engine in a fresh directory with one logging mode, N sessions running a
// workload in a closed loop for a fixed time; latencies go into an HdrHistogram. After a clean
// close the directory is reopened and the rows counted, so "nothing acknowledged was lost" is
// checked, not assumed.

import fs from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { Engine } from '../engine.js';
import type { LoggingMode } from '../config/config.js';
import type { Clock } from '../io/clock.js';
import type { Disk } from '../io/disk.js';
import type { Random } from '../io/random.js';
import type { Session } from '../transaction/session.js';
import { SeededRandom } from '../io/random.js';
import { isMotError } from '../errors.js';
import { BENCH_TABLE, buildOne, makeRow, type WorkloadName, type WorkloadState } from './workloads.js';

export interface BenchRunSpec {
  mode: Exclude<LoggingMode, 'off'> | 'off';
  workload: WorkloadName;
  sessions: number;
  sockets: number;
  durationMs: number;
  groupCommitSize: number;
  groupCommitTimeoutUs: number;
  walWriterDelayMs: number;
  /** wal_flusher: who writes and flushes on the real disk. */
  flusher: 'auto' | 'committer' | 'thread-pool' | 'socket-threads';
  preloadRows: number;
  /** Parent directory; the run uses (and removes) a subdirectory. */
  dir: string;
  seed: number;
  /** Reopen after close and count rows (the durability check). */
  verify: boolean;
  /**
   * Simulation: a disk, clock and random to run on instead of the real ones; `cpu` charges one
   * transaction's CPU time on its session's core in virtual time (src/sim/cpu-model.ts).
   */
  world?: { disk: Disk; clock: Clock; random: Random; yieldEvery?: () => Promise<void>; cpu?: (session: Session) => Promise<void> };
  /** Called about every 100 ms of the run with the fraction done (0..1). */
  onProgress?: (fraction: number) => void;
}

export interface LatencySummaryUs {
  avg: number;
  p50: number;
  p99: number;
  max: number;
}

export interface BenchRunResult {
  mode: string;
  workload: WorkloadName;
  sessions: number;
  sockets: number;
  commits: number;
  aborts: number;
  commitsPerSec: number;
  ratioToCeiling: number | null;
  latencyUs: LatencySummaryUs;
  flushes: number;
  avgGroupSize: number | null;
  walBytesPerCommit: number;
  groupsClosedBySize: number;
  groupsClosedByTimeout: number;
  durationMs: number;
  verify: { rowsExpected: number; rowsFound: number; ok: boolean; recoveryMs: number } | null;
  /** Latency histogram buckets (upper bound µs, count) for plots. */
  latencyHistogram: { upToUs: number; count: number }[];
}

export function engineConfigFor(spec: BenchRunSpec): Record<string, string | number | boolean> {
  return {
    enable_redo_log: spec.mode !== 'off',
    synchronous_commit: spec.mode !== 'asynchronous',
    enable_group_commit: spec.mode === 'group',
    group_commit_size: spec.groupCommitSize,
    group_commit_timeout: `${spec.groupCommitTimeoutUs}us`,
    wal_writer_delay: `${spec.walWriterDelayMs}ms`,
    wal_flusher: spec.flusher,
    sockets: spec.sockets,
    cores_per_socket: Math.max(1, Math.ceil(spec.sessions / spec.sockets)),
    affinity_mode: 'equal-per-socket',
    max_connections: Math.max(200, spec.sessions),
  };
}

export async function runBench(spec: BenchRunSpec): Promise<BenchRunResult> {
  const runDir = join(spec.dir, `${spec.mode}-${spec.workload}-${spec.sessions}s-${spec.seed}`);
  const world = spec.world;
  if (!world) fs.rmSync(runDir, { recursive: true, force: true });
  const random = world?.random ?? new SeededRandom(spec.seed);
  const config = engineConfigFor(spec);
  const engine = await Engine.open(runDir, {
    config,
    ...(world ? { disk: world.disk, clock: world.clock, random: world.random } : {}),
    onWarning: () => undefined,
  });
  const clock = engine.clock;
  const state: WorkloadState = { nextId: 0, preloadedRows: 0 };
  await engine.createTable(BENCH_TABLE);
  if (spec.workload === 'update-mix') await preload(engine, state, spec.preloadRows);
  const before = engine.stats();

  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let commits = 0;
  let aborts = 0;
  let insertsAcked = 0;
  const startUs = clock.nowUs();
  const deadlineUs = startUs + spec.durationMs * 1000;
  let nextProgressUs = startUs;
  const yieldNow = world?.yieldEvery ?? (() => yieldToEventLoop());
  const cpu = world?.cpu;

  const loop = async (): Promise<void> => {
    const session = engine.openSession();
    let n = 0;
    while (clock.nowUs() < deadlineUs) {
      if (cpu) await cpu(session);
      const t0 = clock.nowUs();
      try {
        const { tx, inserting } = buildOne(spec.workload, session, state, random);
        await tx.commit();
        histogram.recordValue(Math.max(1, Math.round(clock.nowUs() - t0)));
        commits++;
        if (inserting) insertsAcked++;
      } catch (e) {
        if (isMotError(e) && e.sqlstate === '40001') aborts++;
        else throw e;
      }
      if ((++n & 63) === 0) {
        const now = clock.nowUs();
        if (spec.onProgress && now >= nextProgressUs) {
          nextProgressUs = now + 100_000;
          spec.onProgress(Math.min(1, (now - startUs) / (deadlineUs - startUs)));
        }
        await yieldNow();
      }
    }
    session.close();
  };
  await Promise.all(Array.from({ length: spec.sessions }, loop));
  const elapsedUs = clock.nowUs() - startUs;
  const after = engine.stats();
  await engine.close();

  let verify: BenchRunResult['verify'] = null;
  if (spec.verify) {
    const expected = state.preloadedRows + insertsAcked;
    const t0 = clock.nowUs();
    const reopened = await Engine.open(runDir, {
      config: { ...config, enable_group_commit: false },
      ...(world ? { disk: world.disk, clock: world.clock, random: world.random } : {}),
      onWarning: () => undefined,
    });
    const found = reopened.table('bench').rowCount();
    const recoveryMs = (clock.nowUs() - t0) / 1000;
    await reopened.close();
    verify = { rowsExpected: expected, rowsFound: found, ok: found === expected, recoveryMs };
  }
  if (!world) fs.rmSync(runDir, { recursive: true, force: true });

  const groups = after.groups - before.groups;
  const committed = Math.max(1, commits);
  return {
    mode: spec.mode,
    workload: spec.workload,
    sessions: spec.sessions,
    sockets: spec.sockets,
    commits,
    aborts,
    commitsPerSec: (commits * 1e6) / elapsedUs,
    ratioToCeiling: null,
    latencyUs: {
      avg: round1(histogram.mean),
      p50: histogram.getValueAtPercentile(50),
      p99: histogram.getValueAtPercentile(99),
      max: histogram.maxValue,
    },
    flushes: after.flushes - before.flushes,
    avgGroupSize: spec.mode === 'group' && groups > 0 ? round1((after.transactions - before.transactions) / groups) : null,
    walBytesPerCommit: round1((after.walBytes - before.walBytes) / committed),
    groupsClosedBySize: after.groupsClosedBySize - before.groupsClosedBySize,
    groupsClosedByTimeout: after.groupsClosedByTimeout - before.groupsClosedByTimeout,
    durationMs: elapsedUs / 1000,
    verify,
    latencyHistogram: histogramBuckets(histogram),
  };
}

async function preload(engine: Engine, state: WorkloadState, rows: number): Promise<void> {
  const session = engine.openSession();
  const batch = 1000;
  for (let i = 0; i < rows; i += batch) {
    const tx = session.begin();
    for (let j = i; j < Math.min(rows, i + batch); j++) tx.insert('bench', makeRow(j, 0));
    await tx.commit();
  }
  session.close();
  state.nextId = rows;
  state.preloadedRows = rows;
}

function histogramBuckets(h: hdr.Histogram): { upToUs: number; count: number }[] {
  const out: { upToUs: number; count: number }[] = [];
  if (h.totalCount === 0) return out;
  // Logarithmic buckets: 1, 2, 5, 10, 20, 50 ... µs.
  const edges: number[] = [];
  for (let e = 1; e <= Math.max(10, h.maxValue * 2); e *= 10) edges.push(e, e * 2, e * 5);
  let prev = 0;
  for (const edge of edges) {
    const below = countAtOrBelow(h, edge);
    if (below - prev > 0) out.push({ upToUs: edge, count: below - prev });
    prev = below;
    if (below >= h.totalCount) break;
  }
  return out;
}

function countAtOrBelow(h: hdr.Histogram, valueUs: number): number {
  if (valueUs >= h.maxValue) return h.totalCount;
  // Binary search on percentiles (hdr-histogram-js has no count-below query in its public API).
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (h.getValueAtPercentile(mid) <= valueUs) lo = mid;
    else hi = mid;
  }
  return Math.round((lo / 100) * h.totalCount);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
