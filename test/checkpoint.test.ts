// Checkpoints end to end on the simulated disk (and once on the real disk with worker threads): the
// files written, WAL truncation, recovery from checkpoint + WAL, a row updated many times written once,
// a corrupted segment and a missing end marker reported with the file, DROP refused during a
// checkpoint, tables created after the consistency point, and the automatic triggers.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../src/engine.js';
import { MotError } from '../src/errors.js';
import { decodeBody, EnvelopeKind, SEGMENT_HEADER_BYTES, verifySegment, isSegmentFault, type SegmentMap } from '../src/checkpoint/checkpoint-format.js';
import { ACCOUNTS, diff, engineState, openEngine, sim, world, type World } from './helpers/checkpoint-sim.js';

async function load(w: World, engine: Engine, rows: number): Promise<void> {
  await sim(w, 'create', engine.createTable(ACCOUNTS));
  const s = engine.openSession();
  for (let i = 0; i < rows; i += 10) {
    const tx = s.begin();
    for (let j = i; j < Math.min(rows, i + 10); j++) tx.insert('acct', { id: j, balance: BigInt(j), note: `n${j % 7}` });
    await sim(w, 'load', tx.commit());
  }
  s.close();
}

async function update(w: World, engine: Engine, id: number, balance: bigint): Promise<void> {
  const s = engine.openSession();
  const tx = s.begin();
  tx.update('acct', id, { balance });
  await sim(w, 'update', tx.commit());
  s.close();
}

async function expectMotError(p: Promise<unknown>, pattern: RegExp): Promise<MotError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MotError);
    expect((e as MotError).message).toMatch(pattern);
    return e as MotError;
  }
  throw new Error(`expected a MotError matching ${pattern}`);
}

async function reopen(w: World, engine: Engine): Promise<{ w2: World; engine: Engine }> {
  await sim(w, 'close', engine.close());
  const w2 = world(w.seed + 1, w.disk.snapshotDurable());
  return { w2, engine: await openEngine(w2) };
}

describe('checkpoint: files, truncation, recovery', () => {
  it('recovers checkpoint + WAL after it, removes WAL below its LSN and older checkpoints', async () => {
    const w = world(1);
    const e = await openEngine(w, { wal_segment_size: '1MB' });
    await load(w, e, 300);
    // Fill a few 1 MB WAL segments so the checkpoint can remove some.
    const s0 = e.openSession();
    for (let i = 0; i < 1200; i++) {
      const tx = s0.begin();
      for (let j = 0; j < 60; j++) tx.update('acct', (i * 60 + j) % 300, { balance: BigInt(i), note: `u${j % 9}` });
      await sim(w, 'bulk update', tx.commit());
    }
    s0.close();
    const first = await sim(w, 'checkpoint 1', e.checkpoint());
    expect(first).toMatchObject({ checkpointId: 1, tables: 1, rows: 300 });
    expect(first.segments).toBeGreaterThan(5); // 2 KB segments in this test
    expect(first.walSegmentsRemoved).toBeGreaterThan(0);
    for (let i = 0; i < 50; i++) await update(w, e, i, -BigInt(i));
    const second = await sim(w, 'checkpoint 2', e.checkpoint());
    expect(second).toMatchObject({ checkpointId: 2, checkpointsRemoved: 1 });
    expect(second.csn).toBeGreaterThan(first.csn);
    for (let i = 0; i < 20; i++) await update(w, e, 299 - i, 7n);
    const before = engineState(e);
    // motsim.pid: the open engine's directory lock; directory.json and wal.witness: see docs/file-formats.md
    expect(await sim(w, 'list', w.disk.list('/db'))).toEqual(['chkpt_2', 'directory.json', 'mot.ctrl', 'motsim.pid', 'wal', 'wal.witness']);
    const walFiles = (await sim(w, 'list wal', w.disk.list('/db/wal'))).filter((n) => n.endsWith('.wal'));
    const mb = 1024 * 1024;
    expect(walFiles[0]).toBe(`${(Math.floor(second.lsn / mb) * mb).toString(16).padStart(16, '0')}.wal`);

    const { w2, engine } = await reopen(w, e);
    const r = engine.recovery;
    expect(r.checkpoint).toMatchObject({ checkpointId: 2, lsn: second.lsn, csn: second.csn, rows: 300, tables: 1 });
    expect(r.wal.transactionsReplayed).toBe(20);
    expect(diff(engineState(engine), before)).toEqual([]);
    // Secondary indexes are rebuilt from the loaded rows.
    expect(engine.table('acct').lookupIndex('acct_note', 'n3').length).toBe([...before.values()].filter((v) => v.includes('"n3"')).length);
    // Counters continue past the checkpoint: a new commit gets a CSN above everything recovered.
    const s = engine.openSession();
    const tx = s.begin();
    tx.insert('acct', { id: 1000, balance: 1n, note: 'new' });
    const { csn } = await sim(w2, 'commit', tx.commit());
    expect(csn).toBeGreaterThan(second.csn + 20);
    await sim(w2, 'close', engine.close());
  });

  it('writes a row updated 100 times since the last checkpoint once', async () => {
    const w = world(2);
    const e = await openEngine(w);
    await load(w, e, 40);
    await sim(w, 'checkpoint', e.checkpoint());
    for (let i = 0; i < 100; i++) await update(w, e, 17, BigInt(i));
    const r = await sim(w, 'checkpoint', e.checkpoint());
    expect(r.rows).toBe(40);
    const keys = await segmentKeys(w, r.directory);
    expect(keys.length).toBe(40);
    expect(new Set(keys).size).toBe(40);
    await sim(w, 'close', e.close());
  });

  it('leaves out tables created after the consistency point, which the WAL then recreates', async () => {
    const w = world(3);
    const e = await openEngine(w);
    await load(w, e, 10);
    const running = e.checkpoint();
    const created = e.createTable({ ...ACCOUNTS, name: 'later', indexes: [] });
    const r = await sim(w, 'checkpoint', running);
    await sim(w, 'create', created);
    expect(r.tables).toBe(1);
    const s = e.openSession();
    const tx = s.begin();
    tx.insert('later', { id: 1, balance: 2n, note: 'x' });
    await sim(w, 'insert', tx.commit());
    const before = engineState(e);
    const { w2, engine } = await reopen(w, e);
    expect(diff(engineState(engine), before)).toEqual([]);
    await sim(w2, 'close', engine.close());
  });

  it('refuses DROP TABLE while a checkpoint runs, with MOT message and HV025', async () => {
    const w = world(4);
    const e = await openEngine(w);
    await load(w, e, 50);
    const running = e.checkpoint();
    const err = await expectMotError(e.dropTable('acct'), /A checkpoint is in progress - cannot truncate table/);
    expect(err.sqlstate).toBe('HV025');
    expect(err.rc).toBe('RC_NA');
    await sim(w, 'checkpoint', running);
    await sim(w, 'drop', e.dropTable('acct'));
    await sim(w, 'close', e.close());
  });
});

describe('checkpoint: damage is reported, never loaded', () => {
  it('reports a corrupted data segment as corruption naming the file', async () => {
    const w = world(5);
    const e = await openEngine(w);
    await load(w, e, 100);
    const r = await sim(w, 'checkpoint', e.checkpoint());
    await sim(w, 'close', e.close());
    const victim = `${r.directory}/tbl_1_1.seg`;
    w.disk.injectBitFlip(victim, (SEGMENT_HEADER_BYTES + 20) * 8 + 3);
    const w2 = world(6, w.disk.snapshotDurable());
    const err = await expectMotError(openEngine(w2), /corrupt data in "\/db\/chkpt_1\/tbl_1_1\.seg".*body CRC mismatch/);
    expect(err.sqlstate).toBe('XX001');
  });

  it('refuses a control file whose checkpoint has no end marker, naming the directory', async () => {
    const w = world(7);
    const e = await openEngine(w);
    await load(w, e, 20);
    await sim(w, 'checkpoint', e.checkpoint());
    await sim(w, 'close', e.close());
    await sim(w, 'remove', w.disk.remove('/db/chkpt_1/end.marker'));
    await sim(w, 'sync', w.disk.syncDir('/db/chkpt_1'));
    const w2 = world(8, w.disk.snapshotDurable());
    const err = await expectMotError(openEngine(w2), /checkpoint directory "\/db\/chkpt_1".*no end marker/);
    expect(err.sqlstate).toBe('XX001');
  });

  it('requires checkpoint_dir to exist, and uses it when it does', async () => {
    const w = world(9);
    await expectMotError(openEngine(w, { checkpoint_dir: '/ckpt' }), /checkpoint_dir.*"\/ckpt" does not exist/);
    await sim(w, 'mkdir', w.disk.mkdirp('/ckpt'));
    await sim(w, 'sync', w.disk.syncDir('/'));
    const e = await openEngine(w, { checkpoint_dir: '/ckpt' });
    await load(w, e, 5);
    await sim(w, 'checkpoint', e.checkpoint());
    expect(await sim(w, 'list', w.disk.list('/ckpt'))).toEqual(['chkpt_1', 'mot.ctrl']);
    await sim(w, 'close', e.close());
  });
});

describe('checkpoint: automatic triggers (virtual clock)', () => {
  it('starts a checkpoint when the WAL since the last one passes checkpoint_wal_size_max', async () => {
    const w = world(10);
    const e = await openEngine(w, { checkpoint_wal_size_max: '1MB' });
    await load(w, e, 100);
    let i = 0;
    while (e.stats().checkpoint.checkpoints === 0 && i < 20_000) await update(w, e, i++ % 100, BigInt(i));
    expect(e.stats().checkpoint.automatic).toBeGreaterThan(0);
    expect(e.stats().checkpoint.walBytesSinceCheckpoint).toBeLessThan(1024 * 1024);
    await sim(w, 'close', e.close());
  });

  it('starts a checkpoint checkpoint_interval after the last one, only when there is new WAL', async () => {
    const w = world(11);
    const e = await openEngine(w, { checkpoint_interval: '1s' });
    await load(w, e, 10);
    // The interval timer is armed by the commits: let virtual time run past it.
    await sim(w, 'sleep', w.clock.sleepUs(1_500_000));
    expect(e.stats().checkpoint).toMatchObject({ checkpoints: 1, automatic: 1, running: false });
    // Idle: no new WAL, no timer, no checkpoint (the scheduler runs dry instead of ticking forever).
    const idle = await w.scheduler.run();
    expect(idle.status).toBe('idle');
    expect(e.stats().checkpoint.checkpoints).toBe(1);
    await sim(w, 'close', e.close());
  });
});

describe('checkpoint: worker threads on the real disk', () => {
  it('writes with checkpoint_workers threads and loads with checkpoint_recovery_workers threads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'motsim-ckpt-'));
    try {
      const config = { wal_segment_size: '1MB', redo_buffer_size: '64KB', checkpoint_workers: 2, checkpoint_recovery_workers: 2, enable_group_commit: true, group_commit_size: 2, group_commit_timeout: '200us' };
      const e = await Engine.open(dir, { config, onWarning: () => undefined, checkpointTuning: { segmentBytesMax: 4096 } });
      await e.createTable(ACCOUNTS);
      const s = e.openSession();
      for (let i = 0; i < 500; i += 50) {
        const tx = s.begin();
        for (let j = i; j < i + 50; j++) tx.insert('acct', { id: j, balance: BigInt(j), note: 'x' });
        await tx.commit();
      }
      const r = await e.checkpoint();
      expect(r).toMatchObject({ rows: 500 });
      expect(r.segments).toBeGreaterThan(4);
      await e.close();
      const e2 = await Engine.open(dir, { config, onWarning: () => undefined });
      expect(e2.recovery.checkpoint).toMatchObject({ rows: 500, executor: 'threads', workers: 2 });
      expect(e2.table('acct').rowCount()).toBe(500);
      await e2.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The primary keys stored in a checkpoint's segments (read back with the format's own verifier). */
async function segmentKeys(w: World, dir: string): Promise<number[]> {
  const map = decodeBody<SegmentMap>(await sim(w, 'map', w.disk.readFile(`${dir}/segments.map`)), EnvelopeKind.MAP);
  if (typeof map === 'string') throw new Error(map);
  const keys: number[] = [];
  for (const t of map.tables) {
    for (let s = 0; s < t.segments; s++) {
      const bytes = await sim(w, 'seg', w.disk.readFile(`${dir}/tbl_${t.id}_${s}.seg`));
      const h = verifySegment(bytes, { tableId: t.id, segmentNumber: s, rowCount: 0, rowBytes: new DataView(bytes.buffer, bytes.byteOffset).getUint32(20, true) });
      if (isSegmentFault(h)) throw new Error(h.reason);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // id is the first column (int32) after the 12-byte header and a 1-byte null bitmap.
      for (let i = 0; i < h.rowCount; i++) keys.push(view.getInt32(SEGMENT_HEADER_BYTES + i * h.rowBytes + 13, true));
    }
  }
  return keys;
}
