// Chart 5 of the report: group_commit_size x group_commit_timeout, each point one run of the
// benchmark's insert workload in group mode, in virtual time on a described machine
// (src/sim/simulate.ts), so the whole sweep takes seconds and gives the same figures every time.

import { simulateSuite } from '../sim/simulate.js';
import type { LatencyPresetName } from '../sim/latency.js';

export interface SweepPoint {
  groupCommitSize: number;
  groupCommitTimeoutUs: number;
  commitsPerSec: number;
  p50Us: number;
  p99Us: number;
  avgGroupSize: number | null;
  groupsClosedBySize: number;
  groupsClosedByTimeout: number;
}

export interface GroupSweep {
  disk: LatencyPresetName;
  sockets: number;
  coresPerSocket: number;
  sessions: number;
  durationMs: number;
  seed: number;
  sizes: number[];
  timeoutsUs: number[];
  points: SweepPoint[];
}

export interface GroupSweepOptions {
  disk?: LatencyPresetName;
  sessions?: number;
  durationMs?: number;
  sizes?: number[];
  timeoutsUs?: number[];
  seed?: number;
  onPoint?: (done: number, total: number) => void;
}

export async function runGroupSweep(o: GroupSweepOptions = {}): Promise<GroupSweep> {
  const disk = o.disk ?? 'sata-ssd';
  const sockets = 2;
  const coresPerSocket = 8;
  const sessions = o.sessions ?? 64;
  const durationMs = o.durationMs ?? 200;
  const seed = o.seed ?? 1;
  const sizes = o.sizes ?? [2, 4, 8, 16, 32, 64];
  const timeoutsUs = o.timeoutsUs ?? [500, 2000, 10_000];
  const points: SweepPoint[] = [];
  const total = sizes.length * timeoutsUs.length;
  for (const timeoutUs of timeoutsUs) {
    for (const size of sizes) {
      const result = await simulateSuite({
        machine: { sockets, coresPerSocket, disk },
        durationMs,
        sessions,
        sockets,
        modes: ['group'],
        workloads: ['insert'],
        groupCommitSize: size,
        groupCommitTimeoutUs: timeoutUs,
        walWriterDelayMs: 200,
        preloadRows: 0,
        seed,
        ceilingMs: 100,
        verify: false,
        progress: false,
      });
      const r = result.runs[0]!;
      points.push({
        groupCommitSize: size,
        groupCommitTimeoutUs: timeoutUs,
        commitsPerSec: Math.round(r.commitsPerSec),
        p50Us: r.latencyUs.p50,
        p99Us: r.latencyUs.p99,
        avgGroupSize: r.avgGroupSize,
        groupsClosedBySize: r.groupsClosedBySize,
        groupsClosedByTimeout: r.groupsClosedByTimeout,
      });
      o.onPoint?.(points.length, total);
    }
  }
  return { disk, sockets, coresPerSocket, sessions, durationMs, seed, sizes, timeoutsUs, points };
}
