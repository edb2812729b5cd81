// Checkpoints under concurrency and crashes, on the simulated disk: a crash before every disk operation
// of a checkpoint (under three crash models) recovers the same state from the old or the new
// checkpoint plus the WAL; random transactions, checkpoints and a crash recover exactly the
// acknowledged state (commits in flight at the crash: all or nothing); a checkpoint taken while
// transactions run holds exactly the state at its CSN. A failing run prints its seed.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Engine } from '../src/engine.js';
import { SeededRandom } from '../src/io/random.js';
import { Catalog } from '../src/catalog.js';
import { ChunkPools } from '../src/store/chunk-pool.js';
import { loadCheckpoint } from '../src/checkpoint/checkpoint-reader.js';
import { InlineExecutor } from '../src/checkpoint/executor.js';
import type { CheckpointReport } from '../src/checkpoint/checkpointer.js';
import type { DurableImage } from '../src/sim/sim-disk.js';
import {
  ACCOUNTS,
  compareWithUncertain,
  diff,
  engineState,
  markCrash,
  modelState,
  newLog,
  openEngine,
  randomTransaction,
  show,
  sim,
  world,
  type World,
  type WorkloadLog,
} from './helpers/checkpoint-sim.js';

const MB = 1024 * 1024;

async function commitBulk(w: World, e: Engine, rows: number, round: number): Promise<void> {
  const s = e.openSession();
  const tx = s.begin();
  for (let j = 0; j < rows; j++) tx.update('acct', j, { balance: BigInt(round * 1000 + j) });
  await sim(w, 'bulk', tx.commit());
  s.close();
}

/**
 * A durable image where checkpoint 1 sits just below the first WAL segment boundary and the WAL has
 * crossed it since: checkpoint 2 then has every step to crash in, WAL segment removal included.
 */
async function imageBeforeSecondCheckpoint(): Promise<{ image: DurableImage; state: Map<string, string> }> {
  const w = world(20);
  const e = await openEngine(w);
  await sim(w, 'create', e.createTable(ACCOUNTS));
  const s = e.openSession();
  const tx = s.begin();
  for (let i = 0; i < 60; i++) tx.insert('acct', { id: i, balance: BigInt(i), note: `n${i % 4}` });
  await sim(w, 'load', tx.commit());
  s.close();
  let round = 0;
  while (e.stats().walEndLsn < MB - 4096) await commitBulk(w, e, 60, round++);
  await sim(w, 'checkpoint 1', e.checkpoint());
  while (e.stats().walEndLsn < MB + 4096) await commitBulk(w, e, 60, round++);
  const del = e.openSession().begin();
  del.delete('acct', 5);
  await sim(w, 'delete', del.commit());
  return { image: w.disk.snapshotDurable(), state: engineState(e) };
}

describe('checkpoint: a crash at any disk operation of a checkpoint', () => {
  it('recovers the same state, from the previous or the new checkpoint, at every crash point (3 crash models)', async () => {
    const { image, state } = await imageBeforeSecondCheckpoint();

    // Count the disk operations of the checkpoint alone.
    const probe = world(21, image);
    const pe = await openEngine(probe);
    const opsBefore = probe.disk.operationCount;
    const report = await sim(probe, 'probe checkpoint', pe.checkpoint());
    expect(report).toMatchObject({ checkpointId: 2, checkpointsRemoved: 1, walSegmentsRemoved: 1 });
    const opsCheckpoint = probe.disk.operationCount - opsBefore;
    expect(opsCheckpoint).toBeGreaterThan(30);

    const recoveredFrom = new Map<number, number>();
    for (const model of ['lose-unflushed', 'torn', 'reorder'] as const) {
      for (let k = 0; k <= opsCheckpoint; k++) {
        const label = `crash before checkpoint operation ${k} of ${opsCheckpoint} (${model})`;
        const w = world(100 + k, image, model);
        const e = await openEngine(w);
        const crashAt = w.disk.operationCount + k;
        let crashed: DurableImage | undefined;
        w.disk.onOperation((op) => {
          if (op.index === crashAt && crashed === undefined) {
            w.disk.crash();
            crashed = w.disk.snapshotDurable(); // what the dead engine does next never counts
          }
        });
        await sim(w, label, e.checkpoint().then(noop, noop));
        await e.abandon();
        if (crashed === undefined) {
          w.disk.crash();
          crashed = w.disk.snapshotDurable();
        }
        const w2 = world(200 + k, crashed);
        const e2 = await openEngine(w2);
        expect(diff(engineState(e2), state), label).toEqual([]);
        const id = e2.recovery.checkpoint!.checkpointId;
        recoveredFrom.set(id, (recoveredFrom.get(id) ?? 0) + 1);
        if (model === 'lose-unflushed') {
          // What a crash left behind never blocks the next checkpoint, nor its recovery.
          const next = await sim(w2, 'next checkpoint', e2.checkpoint());
          expect(next.checkpointId).toBeGreaterThan(id);
          await sim(w2, 'close', e2.close());
          const w3 = world(300 + k, w2.disk.snapshotDurable());
          const e3 = await openEngine(w3);
          expect(diff(engineState(e3), state), `${label}, then one more checkpoint`).toEqual([]);
          await sim(w3, 'close', e3.close());
        }
      }
    }
    expect(recoveredFrom.get(1)).toBeGreaterThan(0);
    expect(recoveredFrom.get(2)).toBeGreaterThan(0);
  });
});

interface RunSpec {
  seed: number;
  mode: 'synchronous' | 'group';
  sessions: number;
  transactions: number;
  checkpoints: number;
  crashAtOp: number | undefined;
}

const MODE_CONFIG = {
  synchronous: { enable_group_commit: false },
  group: { enable_group_commit: true, group_commit_size: 2, group_commit_timeout: '200us' },
};

/** Sessions commit random transactions while checkpoints run, until a crash at the given operation. */
async function runWorkload(spec: RunSpec): Promise<{ w: World; e: Engine; log: WorkloadLog; image: DurableImage; reports: CheckpointReport[] }> {
  const w = world(spec.seed);
  const e = await openEngine(w, MODE_CONFIG[spec.mode]);
  await sim(w, 'create', e.createTable(ACCOUNTS));
  const log = newLog();
  const reports: CheckpointReport[] = [];
  let image: DurableImage | undefined;
  if (spec.crashAtOp !== undefined) {
    const crashAt = w.disk.operationCount + spec.crashAtOp;
    w.disk.onOperation((op) => {
      if (op.index === crashAt && image === undefined) {
        w.disk.crash();
        image = w.disk.snapshotDurable();
        markCrash(log);
      }
    });
  }
  const r = new SeededRandom(spec.seed);
  const sessions = Array.from({ length: spec.sessions }, async (_, i) => {
    const mine = r.fork();
    for (let t = 0; t < spec.transactions && image === undefined; t++) {
      await randomTransaction(e, mine, 30, log, i);
      await w.clock.sleepUs(mine.int(200));
    }
  });
  const checkpoints = (async () => {
    const mine = r.fork();
    for (let c = 0; c < spec.checkpoints && image === undefined; c++) {
      await w.clock.sleepUs(200 + mine.int(3000));
      try {
        reports.push(await e.checkpoint());
      } catch {
        // refused or cut by the crash
      }
    }
  })();
  await sim(w, `workload seed ${spec.seed}`, Promise.all([...sessions, checkpoints]));
  if (image === undefined) {
    markCrash(log);
    w.disk.crash();
    image = w.disk.snapshotDurable();
  }
  await e.abandon();
  return { w, e, log, image, reports };
}

const runSpec = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  mode: fc.constantFrom<'synchronous' | 'group'>('synchronous', 'group'),
  sessions: fc.integer({ min: 1, max: 4 }),
  transactions: fc.integer({ min: 5, max: 30 }),
  checkpoints: fc.integer({ min: 1, max: 4 }),
  crashAtOp: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined, freq: 5 }),
});

describe('checkpoint: random transactions, checkpoints and a crash (property)', () => {
  it('recovers exactly the acknowledged state; commits in flight at the crash are all or nothing', async () => {
    let checkpointsTaken = 0;
    await fc.assert(
      fc.asyncProperty(runSpec, async (spec) => {
        const { log, image, reports } = await runWorkload(spec);
        checkpointsTaken += reports.length;
        const w2 = world(spec.seed + 1, image);
        const e2 = await openEngine(w2, MODE_CONFIG[spec.mode]);
        const problems = compareWithUncertain(engineState(e2), log);
        expect(problems, `seed ${JSON.stringify(spec)}`).toEqual([]);
        await sim(w2, 'close', e2.close());
      }),
      { numRuns: 60, seed: 4242 },
    );
    expect(checkpointsTaken).toBeGreaterThan(10);
  });

  it('a checkpoint taken while transactions commit holds exactly the state at its CSN', async () => {
    let preImages = 0;
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(runSpec, async (spec) => {
        const { w, log, reports } = await runWorkload({ ...spec, checkpoints: 1, crashAtOp: undefined });
        if (reports.length === 0) return;
        const report = reports[0]!;
        preImages += report.preImages;
        checked++;
        const loaded = await checkpointContent(w, report);
        expect(diff(loaded, modelState(log, report.csn)), `seed ${JSON.stringify(spec)}`).toEqual([]);
      }),
      { numRuns: 30, seed: 777 },
    );
    expect(checked).toBeGreaterThan(20);
    expect(preImages).toBeGreaterThan(0); // commits did change rows ahead of the scan
  });
});

/** The rows of the checkpoint directory, loaded into a fresh catalog with the recovery code. */
async function checkpointContent(w: World, report: CheckpointReport): Promise<Map<string, string>> {
  const catalog = new Catalog(new ChunkPools({ sockets: 2, globalBytesMax: 256 * MB, localBytesMax: 64 * MB }));
  const r = await sim(
    w,
    'load checkpoint',
    loadCheckpoint(w.disk, '/db', catalog, w.clock, { workers: 2, sockets: 2, executorFactory: () => new InlineExecutor(w.clock, 1) }),
  );
  expect(r?.checkpointId).toBe(report.checkpointId);
  const out = new Map<string, string>();
  for (const t of catalog.tables()) for (const slot of t.scan()) out.set(`${t.name}/${t.keyOfSlot(slot)}`, show(t.readRow(slot)));
  return out;
}

function noop(): void {}
