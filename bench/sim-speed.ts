// Simulation speed: simulated commits per wall-clock second (the bare simulated disk, then the engine
// in each logging mode) and crash-and-recover scenarios of small workloads per minute, on one thread
// and on two worker threads. Targets (issue 4): >= 100,000 commits/s, >= 1,000 scenarios/min on 2 cores.
// Run: node dist/bench/sim-speed.js [--smoke]   (prints a table, writes bench/results/sim-speed.json;
// --smoke: 20 commits per bare-disk client, 5 virtual ms per engine run, 1 scenario per mode and thread)

import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Scheduler } from '../src/sim/scheduler.js';
import { SimDisk } from '../src/sim/sim-disk.js';
import { SeededRandom } from '../src/io/random.js';
import { simulateSuite } from '../src/sim/simulate.js';
import { crashTest, FAULT_NAMES, type CrashTestMode } from '../src/sim/crash-test.js';
import { printTable, runBench, sized, writeResult } from './report.js';

const MODES: CrashTestMode[] = ['synchronous', 'group', 'asynchronous'];
/** Scenarios per mode for the single-thread figure (each: a workload of 24 transactions, 2 crashes and recoveries, all faults). */
const SCENARIOS_PER_MODE = sized(150, 1);
/** Bare disk: write+fdatasync commits per client (64 clients). */
const BARE_DISK_COMMITS_PER_CLIENT = sized(3000, 20);
/** Engine runs: virtual duration per logging mode, the rows preloaded, and the disk-ceiling measurement before them. */
const ENGINE_RUN_MS: Record<CrashTestMode, number> = sized({ synchronous: 1000, group: 1000, asynchronous: 400 }, { synchronous: 5, group: 5, asynchronous: 5 });
const ENGINE_PRELOAD_ROWS = sized(10_000, 100);
const ENGINE_CEILING_MS = sized(100, 10);

interface ScenarioJob {
  mode: CrashTestMode;
  seed: number;
  runs: number;
}

interface ScenarioResult {
  scenarios: number;
  crashes: number;
  violations: number;
  elapsedMs: number;
}

async function scenarios(job: ScenarioJob): Promise<ScenarioResult> {
  const r = await crashTest({ mode: job.mode, seed: job.seed, runs: job.runs, faults: [...FAULT_NAMES] });
  return { scenarios: r.scenarios, crashes: r.crashes, violations: r.violations.length, elapsedMs: r.elapsedMs };
}

/** The bare simulator: 64 clients each doing write+fdatasync commits on 4 lanes of an nvme disk. */
async function bareDisk(): Promise<{ commits: number; wallMs: number }> {
  const scheduler = new Scheduler();
  const disk = new SimDisk({ scheduler, random: new SeededRandom(23), latency: 'nvme' });
  await scheduler.settle('mkdir', disk.mkdirp('/wal'));
  const files = await scheduler.settle('open', Promise.all([0, 1, 2, 3].map((l) => disk.open(`/wal/redo-${l}`, { create: true }))));
  const offsets = [0, 0, 0, 0];
  const data = new Uint8Array(100).fill(1);
  const clients = 64;
  const perClient = BARE_DISK_COMMITS_PER_CLIENT;
  const t0 = performance.now();
  await scheduler.settle(
    'commits',
    Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const lane = i % 4;
        for (let k = 0; k < perClient; k++) {
          const offset = offsets[lane]!;
          offsets[lane] = offset + data.length;
          await files[lane]!.writeAndSync(offset, data, lane);
        }
      }),
    ),
  );
  return { commits: clients * perClient, wallMs: performance.now() - t0 };
}

/** The engine in the simulator: `motsim simulate` on nvme, insert workload, 64 sessions, one mode. */
async function engineCommits(mode: CrashTestMode, durationMs: number): Promise<{ commits: number; wallMs: number; virtualCommitsPerSec: number }> {
  const r = await simulateSuite({
    machine: { sockets: 2, coresPerSocket: 8, disk: 'nvme' },
    durationMs,
    sessions: 64,
    sockets: 2,
    modes: [mode],
    workloads: ['insert'],
    groupCommitSize: 16,
    groupCommitTimeoutUs: 10_000,
    walWriterDelayMs: 200,
    preloadRows: ENGINE_PRELOAD_ROWS,
    seed: 1,
    ceilingMs: ENGINE_CEILING_MS,
    verify: false,
    progress: false,
  });
  return { commits: r.runs[0]!.commits, wallMs: r.simulation.wallMs, virtualCommitsPerSec: r.runs[0]!.commitsPerSec };
}

/** Run `jobs` one after another in a worker thread. */
function inWorker(jobs: ScenarioJob[]): Promise<ScenarioResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: jobs });
    worker.once('message', (m: ScenarioResult[]) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`scenario worker exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const disk = await bareDisk();
  const rows: string[][] = [['what', 'commits', 'wall ms', 'simulated commits / wall s']];
  rows.push(['bare SimDisk: 64 clients, write+fdatasync, 4 lanes, nvme', fmt(disk.commits), fmt(disk.wallMs), fmt((disk.commits * 1000) / disk.wallMs)]);
  const engine: Record<string, { commits: number; wallMs: number; perWallSecond: number; virtualCommitsPerSec: number }> = {};
  for (const mode of MODES) {
    const r = await engineCommits(mode, ENGINE_RUN_MS[mode]);
    const perWallSecond = (r.commits * 1000) / r.wallMs;
    engine[mode] = { ...r, perWallSecond };
    rows.push([`engine, ${mode}, insert, 64 sessions, nvme`, fmt(r.commits), fmt(r.wallMs), fmt(perWallSecond)]);
  }
  printTable('Simulated commits per wall-clock second (target >= 100,000)', rows);

  const single: Record<string, ScenarioResult & { perMinute: number }> = {};
  const srows: string[][] = [['crash-and-recover scenarios (all faults)', 'scenarios', 'crashes', 'violations', 'wall ms', 'scenarios / min']];
  for (const [i, mode] of MODES.entries()) {
    const r = await scenarios({ mode, seed: 1000 * (i + 1), runs: SCENARIOS_PER_MODE });
    const perMinute = (r.scenarios * 60_000) / r.elapsedMs;
    single[mode] = { ...r, perMinute };
    srows.push([`1 thread, ${mode}`, fmt(r.scenarios), fmt(r.crashes), String(r.violations), fmt(r.elapsedMs), fmt(perMinute)]);
  }
  // Two worker threads, each running every mode on its own seeds.
  const t0 = performance.now();
  const parts = await Promise.all([0, 1].map((w) => inWorker(MODES.map((mode, i) => ({ mode, seed: 100_000 * (w + 1) + 1000 * i, runs: SCENARIOS_PER_MODE })))));
  const wallMs = performance.now() - t0;
  const all = parts.flat();
  const total = all.reduce((n, r) => n + r.scenarios, 0);
  const twoCores = { scenarios: total, crashes: all.reduce((n, r) => n + r.crashes, 0), violations: all.reduce((n, r) => n + r.violations, 0), wallMs, perMinute: (total * 60_000) / wallMs };
  srows.push(['2 worker threads, all modes', fmt(twoCores.scenarios), fmt(twoCores.crashes), String(twoCores.violations), fmt(wallMs), fmt(twoCores.perMinute)]);
  printTable(`Crash-and-recover scenarios per minute (target >= 1,000 on 2 cores; this machine: ${os.cpus().length} cores)`, srows);

  writeResult('sim-speed', {
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' },
    bareDisk: { ...disk, perWallSecond: (disk.commits * 1000) / disk.wallMs },
    engine,
    scenarios: { singleThread: single, twoWorkerThreads: twoCores, scenarioShape: 'default workload: 2 sockets x 2 cores = 4 sessions x 6 transactions, 2 crashes and recoveries, all faults' },
  });
}

if (isMainThread) {
  runBench('sim-speed', main);
} else {
  const results: ScenarioResult[] = [];
  for (const job of workerData as ScenarioJob[]) results.push(await scenarios(job));
  parentPort!.postMessage(results);
}
