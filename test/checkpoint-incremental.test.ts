// Incremental checkpoints (mo_ctl increment_checkpoint): only rows changed since the previous
// checkpoint plus tombstones for removed ones, chained to the last full one; recovery loads the chain
// then the WAL. Pins: a chain recovers the acknowledged state; removals past the bound turn the next
// increment into a full one (with a note); TRUNCATE between increments replaces the table; a crash at
// every disk operation of an increment, after chains of random length, recovers exactly the
// acknowledged state. A failing run prints its seed.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Engine } from '../src/engine.js';
import { SeededRandom } from '../src/io/random.js';
import { moCtl } from '../src/admin/mo-ctl.js';
import { SYS_LOGIN } from '../src/admin/accounts.js';
import { isMotError } from '../src/errors.js';
import type { DurableImage } from '../src/sim/sim-disk.js';
import { ACCOUNTS, compareWithUncertain, diff, engineState, markCrash, newLog, openEngine, randomTransaction, sim, world, type World } from './helpers/checkpoint-sim.js';

async function load(w: World, e: Engine, rows: number): Promise<void> {
  await sim(w, 'create', e.createTable(ACCOUNTS));
  const tx = e.openSession().begin();
  for (let i = 0; i < rows; i++) tx.insert('acct', { id: i, balance: BigInt(i), note: `n${i % 4}` });
  await sim(w, 'load', tx.commit());
}

async function change(w: World, e: Engine, fn: (tx: ReturnType<ReturnType<Engine['openSession']>['begin']>) => void): Promise<void> {
  const tx = e.openSession().begin();
  fn(tx);
  await sim(w, 'change', tx.commit());
}

async function reopen(w: World): Promise<{ w2: World; e2: Engine }> {
  const w2 = world(w.seed + 1000, w.disk.snapshotDurable());
  return { w2, e2: await openEngine(w2) };
}

describe('incremental checkpoints: the chain', () => {
  it('writes only changed rows and tombstones, chains to the full one, and recovery loads the chain then the WAL', async () => {
    const w = world(1);
    const e = await openEngine(w);
    await load(w, e, 40);
    const full = await sim(w, 'full', e.checkpoint());
    expect(full).toMatchObject({ kind: 'full', rows: 40, baseId: full.checkpointId });
    await change(w, e, (tx) => {
      tx.update('acct', 3, { balance: 333n });
      tx.delete('acct', 7);
      tx.insert('acct', { id: 100, balance: 1n, note: 'new' });
    });
    const inc1 = await sim(w, 'increment 1', e.incrementCheckpoint());
    expect(inc1).toMatchObject({ kind: 'incremental', baseId: full.checkpointId, rows: 2, tombstones: 1, note: undefined });
    await change(w, e, (tx) => {
      tx.delete('acct', 100);
      tx.update('acct', 4, { note: 'x' });
    });
    const inc2 = await sim(w, 'increment 2', e.incrementCheckpoint());
    expect(inc2).toMatchObject({ kind: 'incremental', baseId: full.checkpointId, rows: 1, tombstones: 1 });
    await change(w, e, (tx) => tx.update('acct', 5, { balance: 5555n })); // only in the WAL
    const state = engineState(e);
    const { w2, e2 } = await reopen(w);
    expect(e2.recovery.checkpoint!.chain).toEqual([full.checkpointId, inc1.checkpointId, inc2.checkpointId]);
    expect(e2.recovery.wal.transactionsReplayed).toBe(1);
    expect(diff(engineState(e2), state)).toEqual([]);
    // An increment after recovery knows the removals the WAL replayed.
    await change(w2, e2, (tx) => tx.delete('acct', 8));
    const inc3 = await sim(w2, 'increment 3', e2.incrementCheckpoint());
    expect(inc3).toMatchObject({ kind: 'incremental', tombstones: 1, rows: 1 });
    const after = engineState(e2);
    // A full checkpoint starts a new chain; the old one is removed once mot.ctrl names the new one.
    const full2 = await sim(w2, 'full 2', e2.checkpoint());
    expect(full2.checkpointsRemoved).toBe(4);
    const { e2: e3 } = await reopen(w2);
    expect(e3.recovery.checkpoint!.chain).toEqual([full2.checkpointId]);
    expect(diff(engineState(e3), after)).toEqual([]);
  });

  it('an increment with no previous checkpoint, or past the removal bound, is written full with a note', async () => {
    const w = world(2);
    const e = await openEngine(w, {}, { checkpointTuning: { segmentBytesMax: 2048, captureBatchRows: 4, incrementRemovalsMax: 5 } });
    await load(w, e, 20);
    const first = await sim(w, 'first', e.incrementCheckpoint());
    expect(first.kind).toBe('full');
    expect(first.note).toMatch(/no previous checkpoint/);
    await change(w, e, (tx) => {
      for (let i = 0; i < 8; i++) tx.delete('acct', i);
    });
    const next = await sim(w, 'overflowed', e.incrementCheckpoint());
    expect(next.kind).toBe('full');
    expect(next.note).toMatch(/more than 5 rows removed since the last checkpoint: written as a full checkpoint/);
    await change(w, e, (tx) => tx.delete('acct', 10));
    expect((await sim(w, 'back to increments', e.incrementCheckpoint())).kind).toBe('incremental');
    const state = engineState(e);
    const { e2 } = await reopen(w);
    expect(diff(engineState(e2), state)).toEqual([]);
  });

  it('TRUNCATE between increments replaces the table in the next one; TRUNCATE during a checkpoint fails with MOT message', async () => {
    const w = world(3);
    const e = await openEngine(w);
    await load(w, e, 30);
    await sim(w, 'full', e.checkpoint());
    await sim(w, 'truncate', e.truncateTable('acct'));
    await change(w, e, (tx) => tx.insert('acct', { id: 1, balance: 9n, note: 'after' }));
    const inc = await sim(w, 'increment', e.incrementCheckpoint());
    expect(inc).toMatchObject({ kind: 'incremental', rows: 1, tombstones: 0 });
    const { w2, e2 } = await reopen(w);
    expect([...engineState(e2).keys()]).toEqual(['acct/1']);
    const running = e2.checkpoint();
    const refused = await sim(w2, 'truncate during checkpoint', e2.truncateTable('acct').then(
      () => undefined,
      (err: unknown) => err,
    ));
    expect(isMotError(refused) && [refused.sqlstate, refused.message]).toEqual(['HV025', expect.stringMatching(/A checkpoint is in progress - cannot truncate table/)]);
    await sim(w2, 'checkpoint', running);
  });

  it('mo_ctl increment_checkpoint and global_checkpoint return the exact result shapes; other accounts get 42501', async () => {
    const w = world(4);
    const e = await openEngine(w);
    await load(w, e, 5);
    expect(await sim(w, 'global', moCtl(e, SYS_LOGIN, { name: 'global_checkpoint' }))).toEqual({ method: 'GlobalCheckpoint', result: [{ returnStr: 'OK' }] });
    expect(await sim(w, 'inc', moCtl(e, SYS_LOGIN, { name: 'increment_checkpoint' }))).toEqual({ method: 'Checkpoint', result: [{ returnStr: 'OK' }] });
    for (const [call, method] of [
      ["mo_ctl('dn', 'checkpoint', '')", 'Checkpoint'],
      ["mo_ctl('increment_checkpoint')", 'Checkpoint'],
      ["mo_ctl('dn', 'globalcheckpoint', '')", 'GlobalCheckpoint'],
      ["mo_ctl('global_checkpoint')", 'GlobalCheckpoint'],
    ] as const) {
      const [r] = await sim(w, call, e.sql(`select ${call}`));
      expect(JSON.parse(r!.rows[0]![0] as string)).toEqual({ method, result: [{ returnStr: 'OK' }] });
    }
    expect(e.stats().checkpoint.checkpoints).toBe(6);
    await sim(w, 'account', e.sql("create account acme admin_name 'boss'"));
    const acme = e.openSession({ account: 'acme' });
    for (const call of ["mo_ctl('dn', 'checkpoint', '')", "mo_ctl('dn', 'globalcheckpoint', '')"]) {
      const err = await sim(w, 'denied', e.sql(`select ${call}`, acme).then(() => undefined, (x: unknown) => x));
      expect(isMotError(err) && err.sqlstate).toBe('42501');
    }
  });
});

/** Full checkpoint, then `increments` increments with random transactions in between. */
async function chainImage(seed: number, increments: number): Promise<{ image: DurableImage; state: Map<string, string> }> {
  const w = world(seed);
  const e = await openEngine(w);
  await load(w, e, 20);
  const r = new SeededRandom(seed);
  const log = newLog();
  await sim(w, 'full', e.checkpoint());
  for (let k = 0; k < increments; k++) {
    for (let t = 0; t < 4; t++) await sim(w, 'tx', randomTransaction(e, r, 30, log));
    await sim(w, `increment ${k}`, e.incrementCheckpoint());
  }
  for (let t = 0; t < 4; t++) await sim(w, 'tx', randomTransaction(e, r, 30, log));
  return { image: w.disk.snapshotDurable(), state: engineState(e) };
}

describe('incremental checkpoints: a crash at every disk operation of an increment (property)', () => {
  it('chains of any length recover exactly the acknowledged state, from the old or the new head', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 4 }), async (seed, increments) => {
        const { image, state } = await chainImage(seed, increments);
        const probe = world(seed + 1, image);
        const pe = await openEngine(probe);
        const before = probe.disk.operationCount;
        const report = await sim(probe, 'probe', pe.incrementCheckpoint());
        expect(report.kind).toBe('incremental');
        const ops = probe.disk.operationCount - before;
        for (let k = 0; k <= ops; k++) {
          const label = `seed ${seed}, ${increments} increments, crash before operation ${k} of ${ops}`;
          const w = world(seed + 2 + k, image);
          const e = await openEngine(w);
          const crashAt = w.disk.operationCount + k;
          let crashed: DurableImage | undefined;
          w.disk.onOperation((op) => {
            if (op.index === crashAt && crashed === undefined) {
              w.disk.crash();
              crashed = w.disk.snapshotDurable();
            }
          });
          await sim(w, label, e.incrementCheckpoint().then(noop, noop));
          await e.abandon();
          if (crashed === undefined) {
            w.disk.crash();
            crashed = w.disk.snapshotDurable();
          }
          const w2 = world(seed + 500 + k, crashed);
          const e2 = await openEngine(w2);
          expect(diff(engineState(e2), state), label).toEqual([]);
          if (k % 7 === 0) {
            // What the crash left never blocks the next increment, nor its recovery.
            const next = await sim(w2, 'next', e2.incrementCheckpoint());
            expect(next.kind, label).toBe('incremental');
            const w3 = world(seed + 900 + k, w2.disk.snapshotDurable());
            const e3 = await openEngine(w3);
            expect(diff(engineState(e3), state), `${label}, then one more increment`).toEqual([]);
          }
        }
      }),
      { numRuns: 6, seed: 6061 },
    );
  });

  it('random transactions, increments, full checkpoints and a crash anywhere: exactly the acknowledged state (commits in flight all or nothing)', async () => {
    let incrementsWritten = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 0, max: 600 }), async (seed, crashAtOp) => {
        const w = world(seed);
        const e = await openEngine(w, { enable_group_commit: true, group_commit_size: 2, group_commit_timeout: '200us' });
        await sim(w, 'create', e.createTable(ACCOUNTS));
        const log = newLog();
        let image: DurableImage | undefined;
        const crashAt = w.disk.operationCount + crashAtOp;
        w.disk.onOperation((op) => {
          if (op.index === crashAt && image === undefined) {
            w.disk.crash();
            image = w.disk.snapshotDurable();
            markCrash(log);
          }
        });
        const r = new SeededRandom(seed);
        const sessions = Array.from({ length: 2 }, async (_, i) => {
          const mine = r.fork();
          for (let t = 0; t < 25 && image === undefined; t++) {
            await randomTransaction(e, mine, 30, log, i);
            await w.clock.sleepUs(mine.int(200));
          }
        });
        const checkpoints = (async () => {
          const mine = r.fork();
          for (let c = 0; c < 6 && image === undefined; c++) {
            await w.clock.sleepUs(200 + mine.int(1500));
            const report = await (mine.int(4) === 0 ? e.checkpoint() : e.incrementCheckpoint()).catch(noop);
            if (report?.kind === 'incremental') incrementsWritten++;
          }
        })();
        await sim(w, `workload seed ${seed}`, Promise.all([...sessions, checkpoints]));
        if (image === undefined) {
          markCrash(log);
          w.disk.crash();
          image = w.disk.snapshotDurable();
        }
        await e.abandon();
        const w2 = world(seed + 1, image);
        const e2 = await openEngine(w2, { enable_group_commit: true, group_commit_size: 2, group_commit_timeout: '200us' });
        expect(compareWithUncertain(engineState(e2), log), `seed ${seed} crashAtOp ${crashAtOp}`).toEqual([]);
      }),
      { numRuns: 30, seed: 9191 },
    );
    expect(incrementsWritten).toBeGreaterThan(10);
  });
});

function noop(): void {}
