// Gathers the data of the HTML report: the real-disk benchmark (given, read from `motsim bench --json`,
// or run now), then the simulated parts (group-commit timeline, crash per mode, size x timeout sweep)
// and recovery timing on small real databases. `quick` shrinks every part for tests and npm start.

import fs from 'node:fs';
import os from 'node:os';
import { benchJson, runBenchSuite, type BenchSuiteResult } from '../bench/bench-suite.js';
import { Errors } from '../errors.js';
import { recordGroupTimeline, type GroupTimeline } from './group-timeline.js';
import { runCrashExperiment, type CrashExperiment } from './crash-experiment.js';
import { runGroupSweep, type GroupSweep } from './group-sweep.js';
import { measureRecoveryTiming, type RecoveryTiming } from './recovery-timing.js';

export interface BenchRunSummary {
  mode: string;
  workload: string;
  sessions: number;
  sockets: number;
  commitsPerSec: number;
  latencyUs: { avg: number; p50: number; p99: number; max: number };
  avgGroupSize: number | null;
  latencyHistogram: { upToUs: number; count: number }[];
}

export interface BenchSection {
  /** Where the figures come from: measured during this run, or a file written by `motsim bench --json`. */
  source: string;
  machine: { cpus: number; cpuModel: string; node: string; when: string };
  ceiling: { commitsPerSec: number; fdatasyncUsAvg: number };
  runs: BenchRunSummary[];
}

export interface ReportData {
  title: string;
  generatedAt: string;
  host: string;
  quick: boolean;
  bench: BenchSection;
  timeline: GroupTimeline;
  crash: CrashExperiment;
  sweep: GroupSweep;
  recovery: RecoveryTiming;
  /** Wall-clock ms each part took to compute. */
  timingsMs: Record<string, number>;
}

export interface BuildReportOptions {
  /** Reuse these benchmark results (npm start passes its own). */
  bench?: BenchSuiteResult;
  /** Or read them from this file (written by `motsim bench --json`). */
  fromJson?: string;
  quick?: boolean;
  seed?: number;
  /** Progress lines ("report: sweep 3/18"). */
  onStage?: (stage: string) => void;
}

export async function buildReportData(o: BuildReportOptions = {}): Promise<ReportData> {
  const quick = o.quick ?? false;
  const stage = o.onStage ?? (() => undefined);
  const timingsMs: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    stage(name);
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      timingsMs[name] = Math.round(performance.now() - t0);
    }
  };
  const bench = await timed('benchmark on the real disk', () => benchSection(o, quick));
  const timeline = await timed('group-commit timeline (simulated)', () => recordGroupTimeline({ seed: o.seed }));
  const crash = await timed('crash per mode (simulated)', () => runCrashExperiment({ seed: o.seed }));
  const sweep = await timed('group size x timeout sweep (simulated)', () =>
    runGroupSweep(quick ? { durationMs: 60, sizes: [2, 8, 32, 64], timeoutsUs: [1000, 10_000], seed: o.seed } : { seed: o.seed }),
  );
  const recovery = await timed('recovery timing (real disk)', () =>
    measureRecoveryTiming(quick ? { rows: 2000, historiesTx: [1000, 4000], intervalsTx: [2000, 500], repeats: 1 } : {}),
  );
  return {
    title: 'motsim: durability trade-offs on this machine',
    generatedAt: new Date().toISOString(),
    host: `${os.hostname()} (${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version})`,
    quick,
    bench,
    timeline,
    crash,
    sweep,
    recovery,
    timingsMs,
  };
}

async function benchSection(o: BuildReportOptions, quick: boolean): Promise<BenchSection> {
  if (o.bench) return fromBenchJson(benchJson(o.bench), 'measured by this run of motsim bench (real disk)');
  if (o.fromJson) return readBenchJson(o.fromJson);
  const result = await runBenchSuite({
    durationMs: quick ? 300 : 2000,
    sockets: 2,
    workloads: quick ? ['insert'] : undefined,
    groupCommitSize: 16,
    groupCommitTimeoutUs: 10_000,
    walWriterDelayMs: 200,
    flusher: 'auto',
    preloadRows: 10_000,
    seed: o.seed ?? 1,
    ceilingMs: quick ? 200 : 1000,
    verify: false,
    progress: false,
  });
  return fromBenchJson(benchJson(result), `measured now on the real disk (${quick ? '--quick: 300 ms' : '2 s'} per run)`);
}

/** Read a file written by `motsim bench --json` (or `motsim simulate --json`). */
export function readBenchJson(path: string): BenchSection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    throw Errors.invalidArgument('--from-json', `cannot read benchmark results from "${path}": ${(e as Error).message}`);
  }
  const j = parsed as { runs?: unknown; ceiling?: unknown; machine?: unknown };
  if (!Array.isArray(j.runs) || typeof j.ceiling !== 'object' || j.ceiling === null) {
    throw Errors.invalidArgument('--from-json', `"${path}" is not the output of motsim bench --json (no "runs" and "ceiling")`);
  }
  return fromBenchJson(parsed, `read from ${path} (motsim bench --json)`);
}

function fromBenchJson(json: unknown, source: string): BenchSection {
  const j = json as { machine?: Partial<BenchSection['machine']>; ceiling: BenchSection['ceiling']; runs: BenchRunSummary[] };
  return {
    source,
    machine: {
      cpus: j.machine?.cpus ?? 0,
      cpuModel: j.machine?.cpuModel ?? 'unknown',
      node: j.machine?.node ?? '',
      when: j.machine?.when ?? '',
    },
    ceiling: { commitsPerSec: j.ceiling.commitsPerSec, fdatasyncUsAvg: j.ceiling.fdatasyncUsAvg },
    runs: j.runs.map((r) => ({
      mode: r.mode,
      workload: r.workload,
      sessions: r.sessions,
      sockets: r.sockets,
      commitsPerSec: r.commitsPerSec,
      latencyUs: r.latencyUs,
      avgGroupSize: r.avgGroupSize ?? null,
      latencyHistogram: r.latencyHistogram ?? [],
    })),
  };
}
