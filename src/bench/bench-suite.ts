// `motsim bench`: measure this disk's ceiling, then run the logging modes on the default workloads,
// print a pgbench-like table per mode and optionally write the figures as JSON.

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { measureDiskCeiling, type CeilingResult } from './disk-ceiling.js';
import { runBench, type BenchRunResult, type BenchRunSpec } from './mode-bench.js';
import type { WorkloadName } from './workloads.js';

export type BenchMode = 'synchronous' | 'group' | 'asynchronous' | 'off';

export interface BenchSuiteOptions {
  durationMs?: number;
  /** Restrict to these session counts (default: each mode's representative counts). */
  sessions?: number;
  sockets: number;
  modes?: BenchMode[];
  workloads?: WorkloadName[];
  groupCommitSize: number;
  groupCommitTimeoutUs: number;
  walWriterDelayMs: number;
  flusher: 'auto' | 'committer' | 'thread-pool' | 'socket-threads';
  preloadRows: number;
  dir?: string;
  seed: number;
  ceilingMs: number;
  verify: boolean;
  progress: boolean;
}

export interface BenchSuiteResult {
  machine: { cpus: number; cpuModel: string; node: string; dir: string; when: string };
  ceiling: CeilingResult;
  runs: BenchRunResult[];
}

/** Default matrix: what the targets are stated for, plus the light-load group-commit pathology. */
export function defaultMatrix(opts: BenchSuiteOptions): Array<Pick<BenchRunSpec, 'mode' | 'workload' | 'sessions'>> {
  const modes = opts.modes ?? ['synchronous', 'group', 'asynchronous'];
  const workloads = opts.workloads ?? ['insert', 'update-mix'];
  const out: Array<Pick<BenchRunSpec, 'mode' | 'workload' | 'sessions'>> = [];
  for (const workload of workloads) {
    for (const mode of modes) {
      const counts = opts.sessions !== undefined ? [opts.sessions] : defaultSessions(mode, workload);
      for (const sessions of counts) out.push({ mode, workload, sessions });
    }
  }
  return out;
}

function defaultSessions(mode: BenchMode, workload: WorkloadName): number[] {
  if (workload !== 'insert') return [64];
  if (mode === 'synchronous') return [1, 64];
  if (mode === 'group') return [1, 64];
  return [64];
}

export async function runBenchSuite(opts: BenchSuiteOptions): Promise<BenchSuiteResult> {
  const dir = opts.dir ?? fs.mkdtempSync(join(os.tmpdir(), 'motsim-bench-'));
  fs.mkdirSync(dir, { recursive: true });
  const matrix = defaultMatrix(opts);
  const durationMs = opts.durationMs ?? 3000;
  const totalMs = opts.ceilingMs + matrix.length * durationMs;
  const bar = opts.progress && process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'bench [{bar}] {percentage}% | {stage}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(totalMs, 0, { stage: 'disk ceiling' });
  try {
    const ceiling = measureDiskCeiling(dir, opts.ceilingMs);
    let doneMs = opts.ceilingMs;
    bar?.update(doneMs, { stage: 'disk ceiling' });
    const runs: BenchRunResult[] = [];
    for (const m of matrix) {
      const stage = `${m.mode} ${m.workload} ${m.sessions} sessions`;
      if (!bar && opts.progress) process.stderr.write(`running ${stage} ...\n`);
      const r = await runBench({
        ...m,
        sockets: opts.sockets,
        durationMs,
        groupCommitSize: opts.groupCommitSize,
        groupCommitTimeoutUs: opts.groupCommitTimeoutUs,
        walWriterDelayMs: opts.walWriterDelayMs,
        flusher: opts.flusher,
        preloadRows: opts.preloadRows,
        dir,
        seed: opts.seed,
        verify: opts.verify,
        onProgress: (f) => bar?.update(doneMs + f * durationMs, { stage }),
      });
      r.ratioToCeiling = Math.round((r.commitsPerSec / ceiling.commitsPerSec) * 100) / 100;
      runs.push(r);
      doneMs += durationMs;
      bar?.update(doneMs, { stage });
    }
    return {
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        dir,
        when: new Date().toISOString(),
      },
      ceiling,
      runs,
    };
  } finally {
    bar?.stop();
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The printed report: the ceiling, then one table row per run. */
export function formatBenchTable(result: BenchSuiteResult): string {
  const c = result.ceiling;
  const lines: string[] = [];
  lines.push(
    `disk ceiling (100-byte append + fdatasync, 1 thread): ${fmt(c.commitsPerSec)} commits/s, ${fmt(c.fdatasyncUsAvg)} us per flush`,
    '',
  );
  const header = ['mode', 'workload', 'sess', 'sock', 'commits/s', 'x ceiling', 'lat avg us', 'p50', 'p99', 'max', 'flushes', 'avg group', 'WAL B/commit', 'aborts', 'verified'];
  const rows = result.runs.map((r) => [
    r.mode,
    r.workload,
    String(r.sessions),
    String(r.sockets),
    fmt(r.commitsPerSec),
    r.ratioToCeiling === null ? '-' : `${r.ratioToCeiling.toFixed(2)}x`,
    fmt(r.latencyUs.avg),
    fmt(r.latencyUs.p50),
    fmt(r.latencyUs.p99),
    fmt(r.latencyUs.max),
    fmt(r.flushes),
    r.avgGroupSize === null ? '-' : r.avgGroupSize.toFixed(1),
    fmt(r.walBytesPerCommit),
    fmt(r.aborts),
    r.verify === null ? '-' : r.verify.ok ? 'ok' : `LOST ${r.verify.rowsExpected - r.verify.rowsFound}`,
  ]);
  lines.push(...alignTable([header, ...rows]));
  return lines.join('\n');
}

/** The JSON written by --json: the shape scripts compare across runs. */
export function benchJson(result: BenchSuiteResult): unknown {
  return {
    machine: result.machine,
    ceiling: { commitsPerSec: round(result.ceiling.commitsPerSec), fdatasyncUsAvg: round(result.ceiling.fdatasyncUsAvg) },
    runs: result.runs.map((r) => ({
      mode: r.mode,
      workload: r.workload,
      sessions: r.sessions,
      sockets: r.sockets,
      commitsPerSec: round(r.commitsPerSec),
      ratioToCeiling: r.ratioToCeiling,
      latencyUs: r.latencyUs,
      flushes: r.flushes,
      avgGroupSize: r.avgGroupSize,
      walBytesPerCommit: r.walBytesPerCommit,
      commits: r.commits,
      aborts: r.aborts,
      groupsClosedBySize: r.groupsClosedBySize,
      groupsClosedByTimeout: r.groupsClosedByTimeout,
      verify: r.verify,
      latencyHistogram: r.latencyHistogram,
    })),
  };
}

export function alignTable(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ');
  const sep = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)];
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return (Math.round(x * 10) / 10).toString();
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
