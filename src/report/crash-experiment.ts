// Chart 4 of the report: one crash per logging mode in the deterministic simulator. A few sessions
// insert rows with unique keys, the machine loses power at a fixed virtual time, the real recovery
// runs, and the ledger and checker of src/sim say which acknowledged commits survived and which were
// lost (asynchronous commit may lose its unflushed window; synchronous and group commit may not).

import { Engine } from '../engine.js';
import { SimWorld } from '../sim/world.js';
import { Ledger } from '../sim/ledger.js';
import { checkCrash } from '../sim/checker.js';
import { CHECKED_TABLE, WorkloadRunner } from '../sim/workload.js';
import { checkedRows, readEngineState } from '../sim/engine-state.js';
import type { LatencyPresetName } from '../sim/latency.js';
import type { CrashTestMode } from '../sim/crash-test.js';
import { Errors } from '../errors.js';

export interface CrashPoint {
  session: number;
  /** Virtual µs since the workload started: the acknowledgement, or the commit call if never acknowledged. */
  atUs: number;
  outcome: 'survived' | 'lost' | 'in-flight-survived' | 'in-flight-lost';
}

export interface CrashRun {
  mode: CrashTestMode;
  crashAtUs: number;
  points: CrashPoint[];
  acked: number;
  ackedLost: number;
  /** Of ackedLost, those the mode allowed to lose (async: never reported durable). */
  ackedLostAllowed: number;
  violations: string[];
  /**
   * When the last flush that completed before the crash took its redo (the latest placement among
   * durable transactions): in asynchronous mode, commits acknowledged after it are the loss window.
   */
  lastDurableRoundStartUs: number | undefined;
}

export interface CrashExperiment {
  disk: string;
  sessions: number;
  walWriterDelayMs: number;
  groupCommitSize: number;
  groupCommitTimeoutUs: number;
  seed: number;
  runs: CrashRun[];
}

export interface CrashExperimentOptions {
  seed?: number;
  disk?: LatencyPresetName;
  crashAtUs?: number;
  modes?: readonly CrashTestMode[];
}

/** Events one incarnation may run (the workload is small; this catches a runaway one). */
const EVENTS_MAX = 2_000_000;
const SESSIONS = 4;
const WAL_WRITER_DELAY_MS = 5;
const GROUP_SIZE = 4;
const GROUP_TIMEOUT_US = 1000;

export async function runCrashExperiment(o: CrashExperimentOptions = {}): Promise<CrashExperiment> {
  const seed = o.seed ?? 11;
  const disk = o.disk ?? 'sata-ssd';
  const crashAtUs = o.crashAtUs ?? 23_200;
  const runs: CrashRun[] = [];
  for (const mode of o.modes ?? (['synchronous', 'group', 'asynchronous'] as const)) runs.push(await crashOnce(mode, seed, disk, crashAtUs));
  return { disk, sessions: SESSIONS, walWriterDelayMs: WAL_WRITER_DELAY_MS, groupCommitSize: GROUP_SIZE, groupCommitTimeoutUs: GROUP_TIMEOUT_US, seed, runs };
}

async function crashOnce(mode: CrashTestMode, seed: number, disk: LatencyPresetName, crashAtUs: number): Promise<CrashRun> {
  const ledger = new Ledger();
  const world = SimWorld.create({ seed, machine: { sockets: 2, coresPerSocket: 2, disk } });
  const config = {
    synchronous_commit: mode !== 'asynchronous',
    enable_group_commit: mode === 'group',
    group_commit_size: GROUP_SIZE,
    group_commit_timeout: `${GROUP_TIMEOUT_US}us`,
    wal_writer_delay: `${WAL_WRITER_DELAY_MS}ms`,
  };
  const open = (w: SimWorld): Promise<Engine> => Engine.open(w.dir, w.engineOptions({ config, observer: ledger.observer() }));
  const engine = await world.run('open', async () => {
    const e = await open(world);
    await e.createTable(CHECKED_TABLE);
    await e.flush();
    return e;
  });
  ledger.startEpoch(0, 0);
  const base = readEngineState(engine);
  const sessions = Array.from({ length: SESSIONS }, (_, core) => engine.openSession({ core }));
  const runner = new WorkloadRunner(ledger, sessions, world.clock, world.random);
  const t0Us = world.clock.nowUs();
  let nextKey = 0;
  const workload = Promise.all(
    sessions.map(async (s) => {
      // Bounded by the crash: the runner stops, and each turn sleeps > 0.
      while (!runner.stopped) {
        await runner.sleepUs(200 + runner.random.int(500));
        const key = nextKey++;
        await runner.transaction(s, (tx) => tx.put(key, 100));
      }
    }),
  );
  workload.catch(() => undefined);
  await world.scheduler.run({ untilUs: t0Us + crashAtUs, maxEvents: EVENTS_MAX });
  runner.stopped = true;
  world.crash(engine);

  const restarted = world.restart({ faults: {} });
  const recovered = await restarted.run('recover', open(restarted));
  const state = readEngineState(recovered);
  const rows = checkedRows(state);
  await restarted.run('close', recovered.close());

  const check = checkCrash({ mode, ledger, epoch: 0, base, recovery: { ok: true, state }, damage: [] });
  const points: CrashPoint[] = [];
  let lastDurableUs: number | undefined;
  for (const e of ledger.entries) {
    if (e.readOnly || e.writes.length === 0) continue;
    const key = e.writes[0]!.key;
    const survived = rows.get(key)?.v === e.id;
    if (e.durableAtUs !== undefined && e.loggedAtUs !== undefined) lastDurableUs = Math.max(lastDurableUs ?? 0, e.loggedAtUs - t0Us);
    if (e.ackAtUs !== undefined) points.push({ session: e.session, atUs: e.ackAtUs - t0Us, outcome: survived ? 'survived' : 'lost' });
    else if (e.commitCalledAtUs !== undefined) points.push({ session: e.session, atUs: e.commitCalledAtUs - t0Us, outcome: survived ? 'in-flight-survived' : 'in-flight-lost' });
  }
  if (points.length === 0) throw Errors.invalidState(`crash experiment (${mode}): no transaction committed before the crash at ${crashAtUs} µs`);
  return {
    mode,
    crashAtUs,
    points,
    acked: check.acked,
    ackedLost: check.ackedLost,
    ackedLostAllowed: check.ackedLostAllowed,
    violations: check.violations.map((v) => `${v.kind}: ${v.message}`),
    lastDurableRoundStartUs: lastDurableUs,
  };
}
