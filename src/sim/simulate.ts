// `motsim simulate`: the logging-mode benchmark (src/bench/mode-bench.ts, unchanged) on a described
// machine in virtual time: a simulated disk preset, S sockets x C cores, and a CPU cost per
// transaction. Produces the same result shape as the real suite, so the same table prints.

import { runBench, type BenchRunResult } from '../bench/mode-bench.js';
import { defaultMatrix, type BenchSuiteOptions, type BenchSuiteResult } from '../bench/bench-suite.js';
import type { CeilingResult } from '../bench/disk-ceiling.js';
import type { Session } from '../transaction/session.js';
import { SimWorld } from './world.js';
import { CpuModel, TX_CPU_US_DEFAULT } from './cpu-model.js';
import type { LatencySpec } from './latency.js';

export interface SimulateOptions extends Omit<BenchSuiteOptions, 'dir' | 'flusher' | 'ceilingMs'> {
  /** The machine: its sockets (also the engine's), cores per socket (CPU model) and disk. */
  machine: { sockets: number; coresPerSocket: number; disk: LatencySpec };
  /** CPU per transaction, µs of virtual time (default: TX_CPU_US_DEFAULT for the workload). */
  txCpuUs?: number;
  /** Cores that execute transactions (default sockets x cores per socket; 1 models motsim's own single JavaScript thread). */
  cpuThreads?: number;
  /** Virtual ms for the simulated disk ceiling (default 2000). */
  ceilingMs?: number;
}

export interface SimulateResult extends BenchSuiteResult {
  simulation: { disk: string; sockets: number; coresPerSocket: number; cpuThreads: number; txCpuUs: Record<string, number>; wallMs: number; simulatedCommitsPerWallSecond: number };
}

/** A directory on the simulated disk for the runs. */
const SIM_BENCH_DIR = '/sim-bench';

export async function simulateSuite(o: SimulateOptions): Promise<SimulateResult> {
  const t0 = performance.now();
  const m = o.machine;
  const cpuThreads = o.cpuThreads ?? m.sockets * m.coresPerSocket;
  const ceiling = await simulatedCeiling(o.seed, m.disk, o.ceilingMs ?? 2000);
  const runs: BenchRunResult[] = [];
  const cpuUsed: Record<string, number> = {};
  const matrix = defaultMatrix({ ...o, dir: undefined, flusher: 'auto', ceilingMs: 0 });
  for (const [i, run] of matrix.entries()) {
    const txCpuUs = o.txCpuUs ?? TX_CPU_US_DEFAULT[run.workload];
    cpuUsed[run.workload] = txCpuUs;
    const world = SimWorld.create({ seed: o.seed, machine: { sockets: m.sockets, coresPerSocket: m.coresPerSocket, disk: m.disk } });
    const cpu = new CpuModel(world.clock, cpuThreads, txCpuUs);
    const enginePerSocket = Math.max(1, Math.ceil(run.sessions / m.sockets));
    // The benchmark binds sessions equal-per-socket with one engine core each; fold them onto the machine's cores.
    const coreOf = (s: Session): number => {
      const slot = s.core - s.socket * enginePerSocket;
      return cpuThreads === m.sockets * m.coresPerSocket ? s.socket * m.coresPerSocket + (slot % m.coresPerSocket) : s.core;
    };
    if (o.progress) process.stderr.write(`simulating ${run.mode} ${run.workload} ${run.sessions} sessions (${i + 1}/${matrix.length}) ...\n`);
    const result = await world.run(
      `simulate ${run.mode} ${run.workload}`,
      runBench({
        ...run,
        sockets: m.sockets,
        durationMs: o.durationMs ?? 3000,
        groupCommitSize: o.groupCommitSize,
        groupCommitTimeoutUs: o.groupCommitTimeoutUs,
        walWriterDelayMs: o.walWriterDelayMs,
        flusher: 'auto',
        preloadRows: o.preloadRows,
        dir: SIM_BENCH_DIR,
        seed: o.seed,
        verify: o.verify,
        world: { disk: world.disk, clock: world.clock, random: world.random, yieldEvery: () => Promise.resolve(), cpu: (s) => cpu.run(coreOf(s)) },
      }),
    );
    result.ratioToCeiling = Math.round((result.commitsPerSec / ceiling.commitsPerSec) * 100) / 100;
    runs.push(result);
  }
  const wallMs = performance.now() - t0;
  const commits = runs.reduce((n, r) => n + r.commits, 0);
  return {
    machine: { cpus: m.sockets * m.coresPerSocket, cpuModel: `simulated (${describeDisk(m.disk)} disk)`, node: process.version, dir: `sim:${SIM_BENCH_DIR}`, when: new Date().toISOString() },
    ceiling,
    runs,
    simulation: {
      disk: describeDisk(m.disk),
      sockets: m.sockets,
      coresPerSocket: m.coresPerSocket,
      cpuThreads,
      txCpuUs: cpuUsed,
      wallMs,
      simulatedCommitsPerWallSecond: (commits * 1000) / wallMs,
    },
  };
}

/** The simulated disk's ceiling, as bench measures the real one: 100-byte appends, each followed by fdatasync, one thread. */
export async function simulatedCeiling(seed: number, disk: LatencySpec, durationMs: number, recordBytes = 100): Promise<CeilingResult> {
  const world = SimWorld.create({ seed, machine: { disk } });
  const record = new Uint8Array(recordBytes).fill(0x5a);
  const measure = async (): Promise<CeilingResult> => {
    const file = await world.disk.open('/ceiling.bin', { create: true });
    const startUs = world.clock.nowUs();
    const deadlineUs = startUs + durationMs * 1000;
    let records = 0;
    // Bounded by the deadline: every iteration takes the device's write and flush time (> 0 unless 'instant').
    for (let offset = 0; world.clock.nowUs() < deadlineUs && records < 10_000_000; offset += recordBytes) {
      await file.write(offset, record);
      await file.sync();
      records++;
    }
    const elapsedMs = (world.clock.nowUs() - startUs) / 1000;
    return { commitsPerSec: (records * 1000) / Math.max(elapsedMs, 1e-9), fdatasyncUsAvg: (elapsedMs * 1000) / Math.max(1, records), records, durationMs: elapsedMs };
  };
  return world.run('disk ceiling', measure());
}

function describeDisk(disk: LatencySpec): string {
  return typeof disk === 'string' ? disk : (disk.name ?? 'custom');
}
