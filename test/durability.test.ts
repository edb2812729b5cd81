// Regression tests for the durability defects of issue 9 (8-13), each named after its defect: the
// asynchronous loss bound with sessions that never yield, damage at the log's end, disk full without
// preallocation, inspect running recovery's checks, the checkpoint's write-ahead rule, and a data
// directory that carries its own settings. Randomized parts print their seed and a replay line.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Engine } from '../src/engine.js';
import type { Session } from '../src/transaction/session.js';
import { SimWorld } from '../src/sim/world.js';
import { Ledger, type RowValue } from '../src/sim/ledger.js';
import { ModelDb } from '../src/sim/model.js';
import { checkedRows, readEngineState } from '../src/sim/engine-state.js';
import { checkCrash, type CrashCheckResult, type RecoveryOutcome } from '../src/sim/checker.js';
import { CHECKED_TABLE, WorkloadRunner } from '../src/sim/workload.js';
import { tightLoopWorkload } from '../src/sim/default-workload.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import type { Disk, DiskFile } from '../src/io/disk.js';
import { RealClock } from '../src/io/clock.js';
import { effectiveFlusher, resolveConfig } from '../src/config/config.js';
import { readDirectorySettings } from '../src/config/directory-settings.js';
import { decodeControl } from '../src/checkpoint/checkpoint-format.js';
import { inspectDataDir } from '../src/tools/inspect.js';
import { SeededRandom } from '../src/io/random.js';
import { crashTest, formatCrashTestSummary, type CrashTestMode } from '../src/sim/crash-test.js';
import { formatEntryData } from '../src/sim/entry-data.js';
import { faultConfig, type CrashModel } from '../src/sim/faults.js';
import { RealDisk } from '../src/io/real-disk.js';
import { isMotError } from '../src/errors.js';

type Config = Record<string, string | number | boolean>;

function modeConfig(mode: CrashTestMode, extra: Config = {}): Config {
  return {
    synchronous_commit: mode !== 'asynchronous',
    enable_group_commit: mode === 'group',
    group_commit_size: 4,
    group_commit_timeout: '300us',
    wal_writer_delay: '1ms',
    wal_segment_size: '1MB',
    redo_buffer_size: '64KB',
    ...extra,
  };
}

interface Harness {
  world: SimWorld;
  engine: Engine;
  ledger: Ledger;
  runner: WorkloadRunner;
  sessions: Session[];
  config: Config;
  base: ModelDb;
}

async function harness(mode: CrashTestMode, seed: number, extra: Config = {}, crashModel: CrashModel = 'lose-unflushed'): Promise<Harness> {
  const world = SimWorld.create({ seed, machine: { crashModel } });
  const ledger = new Ledger();
  const config = modeConfig(mode, extra);
  const engine = await world.run('open', Engine.open(world.dir, world.engineOptions({ config, observer: ledger.observer() })));
  // The checked table's creation is in the ledger (a recorded DDL): end damage may take it away too.
  ledger.startEpoch(0, 0);
  await world.run('create table', new WorkloadRunner(ledger, [], world.clock, world.random, { engine }).createTable(CHECKED_TABLE).then(() => engine.flush()));
  const sessions = [0, 1, 2, 3].map((core) => engine.openSession({ core }));
  return { world, engine, ledger, runner: new WorkloadRunner(ledger, sessions, world.clock, world.random, { engine }), sessions, config, base: ModelDb.empty() };
}

function rowsOf(engine: Engine): Map<number, RowValue> {
  return checkedRows(readEngineState(engine));
}

/** Crash `h.world` now, restart from its durable image, recover and check. */
async function crashRecoverCheck(h: Harness, mode: CrashTestMode): Promise<{ check: CrashCheckResult; outcome: RecoveryOutcome }> {
  const crashedEpoch = h.world.epoch;
  const crashAtUs = h.world.scheduler.nowUs;
  h.world.crash(h.engine);
  const world = h.world.restart({ faults: {} });
  let outcome: RecoveryOutcome;
  try {
    const engine = await world.run('recover', Engine.open(world.dir, world.engineOptions({ config: h.config, observer: h.ledger.observer() })));
    outcome = { ok: true, state: readEngineState(engine), replayedFromLsn: engine.recovery.checkpoint?.lsn ?? 0 };
    h.engine = engine;
    h.ledger.startEpoch(world.epoch, engine.recovery.wal.end.endLsn);
  } catch (e) {
    outcome = { ok: false, error: e };
  }
  const check = checkCrash({ mode, ledger: h.ledger, epoch: crashedEpoch, base: h.base, recovery: outcome, damage: [], crashAtUs });
  h.world = world;
  if (outcome.ok) h.base = outcome.state;
  return { check, outcome };
}

function violationsText(check: CrashCheckResult): string {
  return check.violations.map((v) => `${v.kind}: ${v.message}\n  ${v.entries.map(formatEntryData).join('\n  ')}`).join('\n');
}

// ---------------------------------------------------------------------------------------------------

describe('defect 12: a checkpoint makes the asynchronous WAL durable up to its L0 before it completes', () => {
  it('defect 12: crash-test --mode asynchronous --checkpoint-every-us 400 finds no not-a-log-prefix (seeds 1036, 1045, 1050, 1135)', async () => {
    for (const seed of [1036, 1045, 1135]) {
      const r = await crashTest({ mode: 'asynchronous', seed, runs: 1, checkpointEveryUs: 400 });
      expect(formatCrashTestSummary(r), `seed ${seed}; replay: ${r.replay}`).not.toContain('VIOLATION');
    }
    // Seed 1050 showed it with the faults of that time.
    const faults = ['lost-tail', 'torn', 'zero-tail', 'bitflip', 'fsyncgate', 'enospc', 'crash-between-steps', 'crash-in-recovery'] as const;
    const r = await crashTest({ mode: 'asynchronous', seed: 1050, runs: 1, checkpointEveryUs: 400, faults: [...faults] });
    expect(formatCrashTestSummary(r), `seed 1050; replay: ${r.replay}`).not.toContain('VIOLATION');
  });

  it('defect 12: an asynchronous commit acknowledged while a checkpoint starts is in the log before the checkpoint is published', async () => {
    // wal_writer_delay is long: only the checkpoint can make the commits durable.
    const h = await harness('asynchronous', 12, { wal_writer_delay: '10s' });
    expect(await h.world.run('commit a', h.runner.transaction(h.sessions[0]!, (tx) => tx.put(1, 50)))).toBe('acked');
    const checkpoint = h.engine.checkpoint();
    // Acknowledged after the checkpoint was asked for: before the fix it could take a CSN <= C while
    // its redo still sat in the buffer, so the checkpoint held a commit the log did not.
    expect(await h.world.run('commit b', h.runner.transaction(h.sessions[1]!, (tx) => tx.put(2, 50)))).toBe('acked');
    const report = await h.world.run('checkpoint', checkpoint);
    const b = h.ledger.entries.find((e) => e.writes.some((w) => w.key === 2))!;
    // The crash comes before the background flush: only what the checkpoint made durable survives.
    const { check, outcome } = await crashRecoverCheck(h, 'asynchronous');
    expect(violationsText(check)).toBe('');
    // Everything the checkpoint holds is in the log too: recovery from it keeps a log prefix.
    expect(outcome.ok && checkedRows(outcome.state).has(1)).toBe(true);
    if (outcome.ok && checkedRows(outcome.state).has(2)) expect(b.durableAtUs, 'a commit in the checkpoint is durable in the log').toBeDefined();
    if (b.csn! <= report.csn) expect(b.durableAtUs).toBeDefined();
  });
});

// ---------------------------------------------------------------------------------------------------

describe('defect 8: asynchronous mode loses at most its documented window when sessions never yield', () => {
  it('defect 8: crash-test with sessions that never yield keeps the loss bound (3 x wal_writer_delay, or back-pressure while a flush is in flight)', async () => {
    for (const disk of ['nvme', 'hdd'] as const) {
      const r = await crashTest({ mode: 'asynchronous', seed: 8, runs: 30, workload: tightLoopWorkload(), machine: { disk } });
      expect(formatCrashTestSummary(r), `disk ${disk}; replay: ${r.replay}`).not.toContain('VIOLATION');
      expect(r.commits.acknowledged).toBeGreaterThan(1000);
      if (disk === 'nvme') expect(r.commits.promisedDurable).toBeGreaterThan(0);
    }
  });

  it('defect 8: on the real clock a tight `await commit()` loop lets the background flush run at its interval', async () => {
    // MemDisk resolves every write in microtasks: nothing but the engine's own yields lets the 1 ms
    // flush timer fire. Before the fix the loop ran to its cap with nothing flushed.
    const engine = await Engine.open('/db', { disk: new MemDisk(), clock: new RealClock(), config: { synchronous_commit: false, wal_writer_delay: '1ms' }, onWarning: () => undefined });
    try {
      await engine.createTable({ name: 't', columns: [{ name: 'k', type: 'int64', nullable: false }], primaryKey: ['k'] });
      const durableAtStart = engine.stats().walDurableLsn;
      const session = engine.openSession();
      const capCommits = 200_000;
      let n = 0;
      while (n < capCommits && engine.stats().walDurableLsn === durableAtStart) {
        const tx = session.begin();
        tx.insert('t', { k: BigInt(n) });
        await tx.commit();
        n++;
      }
      expect(n, 'commits before the first background flush became durable').toBeLessThan(capCommits);
    } finally {
      await engine.close();
    }
  });

  it('defect 8: asynchronous mode flushes on libuv\'s thread pool by default (no worker thread to start before the first flush)', () => {
    expect(effectiveFlusher(resolveConfig({ synchronous_commit: false }).config)).toBe('thread-pool');
    expect(effectiveFlusher(resolveConfig({ synchronous_commit: true }).config)).toBe('committer');
  });

  it('defect 8: after the asynchronous WAL fails (disk full), a tight loop is refused at once instead of buffering without bound', async () => {
    const h = await harness('asynchronous', 81, { wal_preallocate: false });
    const quota = h.world.disk.stats().usedBytes + 20_000;
    h.world.disk.setQuotaBytes(quota);
    const runner = new WorkloadRunner(h.ledger, h.sessions, h.world.clock, h.world.random, { engine: h.engine, busy: (us) => h.world.scheduler.busyUs(us) });
    await h.world.run('tight loop into a full disk', tightLoopWorkload({ transactionsPerSession: 500 })(runner));
    const failedAt = h.world.disk.faultLog.ofKind('diskFull')[0]?.atUs;
    expect(failedAt, 'the disk filled up').toBeDefined();
    const acked = h.ledger.entries.filter((e) => e.ackAtUs !== undefined && !e.readOnly);
    const rejected = h.ledger.entries.filter((e) => e.outcome === 'rejected');
    expect(rejected.length).toBeGreaterThan(1000);
    // Nothing is acknowledged once the failure is known (the round that failed was placed before it).
    expect(Math.max(...acked.map((e) => e.ackAtUs!))).toBeLessThanOrEqual(failedAt!);
    // No round is placed after the failure: the log's end does not run on past a full disk.
    const placedAt = h.ledger.entries.filter((e) => e.loggedAtUs !== undefined).map((e) => e.loggedAtUs!);
    expect(Math.max(...placedAt)).toBeLessThanOrEqual(failedAt!);
    void h.engine.abandon();
  });
});

// ---------------------------------------------------------------------------------------------------

/**
 * MemDisk whose operations complete as macrotasks, as libuv's thread pool completes real I/O, except
 * writeAndSync, which completes at once as the committing thread's blocking write + fdatasync does
 * (wal_flusher = committer, the default in synchronous mode): the shape of the real disk there.
 */
class LibuvLikeDisk implements Disk {
  readonly description = 'mem (libuv-like completions)';
  private readonly inner = new MemDisk();
  private async later<T>(p: Promise<T>): Promise<T> {
    const v = await p;
    await new Promise((r) => setImmediate(r));
    return v;
  }
  async open(path: string, options?: { create?: boolean }): Promise<DiskFile> {
    const f = await this.later(this.inner.open(path, options));
    const later = <T>(p: Promise<T>): Promise<T> => this.later(p);
    return {
      path: f.path,
      size: () => later(f.size()),
      read: (o, l) => later(f.read(o, l)),
      write: (o, d) => later(f.write(o, d)),
      sync: () => later(f.sync()),
      writeAndSync: (o, d) => f.writeAndSync(o, d),
      truncate: (l) => later(f.truncate(l)),
      close: () => later(f.close()),
    };
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.later(this.inner.readFile(path));
  }
  list(dir: string): Promise<string[]> {
    return this.later(this.inner.list(dir));
  }
  mkdirp(dir: string): Promise<void> {
    return this.later(this.inner.mkdirp(dir));
  }
  exists(path: string): Promise<boolean> {
    return this.later(this.inner.exists(path));
  }
  rename(from: string, to: string): Promise<void> {
    return this.later(this.inner.rename(from, to));
  }
  remove(path: string): Promise<void> {
    return this.later(this.inner.remove(path));
  }
  syncDir(dir: string): Promise<void> {
    return this.later(this.inner.syncDir(dir));
  }
  lockDirectory(dir: string): ReturnType<Disk['lockDirectory']> {
    return this.later(this.inner.lockDirectory(dir));
  }
  directoryLockHolder(dir: string): ReturnType<Disk['directoryLockHolder']> {
    return this.later(this.inner.directoryLockHolder(dir));
  }
  async close(): Promise<void> {}
}

describe('defect 13: a tight commit loop does not starve a checkpoint; a data directory carries its own settings', () => {
  it('defect 13: a directory made with 1 MB WAL segments, opened without its configuration, keeps its settings (with a warning); the original configuration opens it again', async () => {
    const disk = new MemDisk();
    const made = { wal_segment_size: '1MB', wal_preallocate: false, redo_buffer_size: '64KB' };
    const table = { name: 't', columns: [{ name: 'k', type: 'int64' as const, nullable: false }, { name: 'pad', type: 'varchar' as const, size: 1000 }], primaryKey: ['k'] };
    const fill = async (e: Engine, from: number, n: number): Promise<void> => {
      const s = e.openSession();
      for (let k = from; k < from + n; k++) await s.transaction((tx) => tx.insert('t', { k: BigInt(k), pad: 'x'.repeat(900) }));
      s.close();
    };
    const first = await Engine.open('/db', { disk, config: made, onWarning: () => undefined });
    await first.createTable(table);
    await fill(first, 0, 100);
    await first.close();
    expect(JSON.parse(new TextDecoder().decode(await disk.readFile('/db/directory.json')))).toMatchObject({ format: 'motsim-directory', version: 1, wal_segment_size: 1024 * 1024, wal_preallocate: false });

    // As `motsim sql DIR` without --conf: the defaults say 16 MB, preallocated.
    const warnings: string[] = [];
    const plain = await Engine.open('/db', { disk, onWarning: (w) => warnings.push(w.message) });
    expect(warnings.join('\n')).toMatch(/created with wal_segment_size = 1 MB .* instead of the configured 16 MB/);
    expect(warnings.join('\n')).toMatch(/created with wal_preallocate = false/);
    expect([plain.config.walSegmentBytes, plain.config.walPreallocate]).toEqual([1024 * 1024, false]);
    await fill(plain, 100, 2000); // about 2 MB of redo: into the third segment
    await plain.close();
    for (const name of await disk.list('/db/wal')) {
      if (name.endsWith('.wal')) expect((await disk.readFile(`/db/wal/${name}`)).length, name).toBeLessThanOrEqual(1024 * 1024);
    }

    const again = await Engine.open('/db', { disk, config: made, onWarning: (w) => warnings.push(`again: ${w.message}`) });
    expect(warnings.filter((w) => w.startsWith('again'))).toEqual([]);
    expect(again.table('t').rowCount()).toBe(2100);
    await again.close();
  });

  it('defect 13: a directory made before directory.json existed records the settings in force once recovered', async () => {
    const disk = new MemDisk();
    const config = { wal_segment_size: '1MB', redo_buffer_size: '64KB' };
    const e = await Engine.open('/db', { disk, config, onWarning: () => undefined });
    await e.createTable({ name: 't', columns: [{ name: 'k', type: 'int64', nullable: false }], primaryKey: ['k'] });
    await e.close();
    await disk.remove('/db/directory.json');
    const legacy = await Engine.open('/db', { disk, config, onWarning: () => undefined });
    await legacy.close();
    expect(await readDirectorySettings(disk, '/db')).toEqual({ wal_segment_size: 1024 * 1024, wal_preallocate: true });
  });

  it('defect 13: a damaged directory.json is reported (XX001 naming it), never guessed', async () => {
    const disk = new MemDisk();
    await (await Engine.open('/db', { disk, onWarning: () => undefined })).close();
    const f = await disk.open('/db/directory.json');
    await f.write(0, new TextEncoder().encode('{"format": "motsim-directory", "version": 1, "wal_segment_size": 12}'));
    await f.truncate(69);
    const err = await Engine.open('/db', { disk, onWarning: () => undefined }).then(() => undefined, (e: unknown) => e);
    expect(isMotError(err) && [err.sqlstate, err.message]).toEqual(['XX001', expect.stringContaining('/db/directory.json')]);
  });

  for (const kind of ['full', 'incremental'] as const) {
    it(`defect 13: ${kind === 'full' ? 'a full' : 'an incremental'} checkpoint of 4 rows completes while a synchronous \`await commit()\` loop runs`, async () => {
      // The commit's flush completes at once (the committing thread's blocking fdatasync), the
      // checkpoint's I/O only when the event loop turns: it progresses only if the commit path
      // yields. Before the fix the checkpoint waited for the loop to end (5 s for 4 rows, 10 s
      // incremental, on the real disk).
      const disk = new LibuvLikeDisk();
      const engine = await Engine.open('/db', { disk, clock: new RealClock(), config: { synchronous_commit: true, sockets: 1 }, onWarning: () => undefined });
      try {
        await engine.createTable({ name: 't', columns: [{ name: 'k', type: 'int64', nullable: false }, { name: 'v', type: 'int64' }], primaryKey: ['k'] });
        const session = engine.openSession();
        for (let k = 0; k < 4; k++) await session.transaction((tx) => tx.insert('t', { k: BigInt(k), v: 0n }));
        if (kind === 'incremental') await engine.checkpoint();
        let done = false;
        const checkpoint = (kind === 'full' ? engine.checkpoint() : engine.incrementCheckpoint()).finally(() => (done = true));
        const capCommits = 50_000;
        let n = 0;
        for (; n < capCommits && !done; n++) await session.transaction((tx) => tx.update('t', BigInt(n % 4), { v: BigInt(n) }));
        expect(n, 'commits the loop ran before the checkpoint completed').toBeLessThan(capCommits);
        expect((await checkpoint).kind).toBe(kind);
      } finally {
        await engine.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------

describe('defect 10: disk full in group mode without preallocation', () => {
  it('defect 10: an error in a flusher thread keeps its code and syscall (ENOENT from open, not a bare failure)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'motsim-flusher-'));
    const disk = new RealDisk({ lanes: 1, flusher: 'socket-threads' });
    try {
      const file = await disk.open(path.join(dir, 'seg'), { create: true });
      fs.rmSync(path.join(dir, 'seg')); // the worker opens the file by its path: now it cannot
      const err = (await file.writeAndSync(0, new Uint8Array(8), 0).then(() => undefined, (e: unknown) => e)) as NodeJS.ErrnoException;
      expect(err).toBeInstanceOf(Error);
      expect([err.code, err.syscall]).toEqual(['ENOENT', 'open']);
      await file.close();
    } finally {
      await disk.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('defect 10: commits rejected with 53100 never reappear after a crash: the partial tail is cleared before they are rejected; writes resume and close() succeeds', async () => {
    for (const crashModel of ['keep-prefix', 'reorder'] as const) {
      for (let seed = 100; seed < 110; seed++) {
        const h = await harness('group', seed, { wal_preallocate: false, group_commit_size: 2 }, crashModel);
        const socket0 = h.sessions.slice(0, 2); // cores 0 and 1: one group
        const first = await h.world.run('first group', Promise.all(socket0.map((s, i) => h.runner.transaction(s, (tx) => tx.put(i, 100)))));
        expect(first).toEqual(['acked', 'acked']);
        // Room for one sector of the next group only: its write lands short (the first member's whole
        // frame, about 500 bytes, in the page cache), then ENOSPC.
        h.world.disk.setQuotaBytes(h.world.disk.stats().usedBytes + 600);
        const results = await h.world.run('a group into a full disk', Promise.all(socket0.map((s, i) => h.runner.transaction(s, (tx) => tx.put(10 + i, 400)))));
        expect(results, `seed ${seed}`).toEqual(['rejected', 'rejected']);
        const rejected = h.ledger.entries.filter((e) => e.outcome === 'rejected');
        expect(rejected.every((e) => e.error!.startsWith('53100') && !e.outcomeUnknown)).toBe(true);
        expect(h.world.disk.faultLog.ofKind('diskFull').some((r) => !/after 0 bytes landed/.test(r.detail)), 'a short write happened').toBe(true);
        // The cleared tail: nothing of the rejected group is left in the segment, durable or cached.
        const segment = h.world.disk.snapshotLive().files.get('/db/wal/0000000000000000.wal')!;
        expect(segment.length).toBe(h.ledger.durableLsn);
        const { check, outcome } = await crashRecoverCheck(h, 'group');
        expect(violationsText(check), `seed ${seed}, crash model ${crashModel}`).toBe('');
        expect(outcome.ok && [...checkedRows(outcome.state).keys()].sort()).toEqual([0, 1]);
      }
    }
  });

  it('defect 10: after disk full the engine resumes once space returns, and close() resolves', async () => {
    const h = await harness('group', 7, { wal_preallocate: false });
    h.world.disk.setQuotaBytes(h.world.disk.stats().usedBytes + 300);
    const results = await h.world.run('into a full disk', Promise.all(h.sessions.map((s, i) => h.runner.transaction(s, (tx) => tx.put(i, 400)))));
    expect(results).toContain('rejected');
    expect(await h.world.run('still full', h.engine.retryAfterDiskFull())).toBe(false);
    await h.world.run('close while full', h.engine.close()); // nothing acknowledged is unflushed
    const world = h.world.restart({ faults: {} });
    const engine = await world.run('reopen', Engine.open(world.dir, world.engineOptions({ config: h.config })));
    expect(rowsOf(engine).size).toBe(results.filter((r) => r === 'acked').length);
    await world.run('close', engine.close());
  });

  it('defect 10: a failed fdatasync rejects the waiting commits with 08007 (outcome unknown), later ones with 25006', async () => {
    const h = await harness('group', 4);
    h.world.disk.faults = faultConfig({ fsyncFailureDropsDirtyPages: { probability: 1 } });
    const results = await h.world.run('commits with a failing fsync', Promise.all(h.sessions.map((s, i) => h.runner.transaction(s, (tx) => tx.put(i, 300)))));
    expect(results.every((r) => r === 'rejected')).toBe(true);
    const unknown = h.ledger.entries.filter((e) => e.outcomeUnknown);
    expect(unknown.length).toBe(4);
    expect(unknown[0]!.error).toMatch(/^08007 the outcome of the commit is unknown: an fdatasync/);
    h.world.disk.faults = faultConfig({});
    expect(await h.world.run('commit after', h.runner.transaction(h.sessions[0]!, (tx) => tx.put(20, 10)))).toBe('rejected');
    expect(h.ledger.entries.at(-1)!.error).toMatch(/^25006 /);
    void h.engine.abandon();
  });

  it('defect 10: ENOSPC on a real 2 MB tmpfs in group mode with flusher threads and no preallocation: 53100, resume, close, no rejected commit after reopening', async (ctx) => {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'motsim-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      fs.rmSync(mnt, { recursive: true, force: true });
      ctx.skip('cannot mount a tmpfs here (needs root): the simulated-disk tests above cover it');
      return;
    }
    try {
      const dir = path.join(mnt, 'data');
      const config = { enable_group_commit: true, group_commit_size: 4, group_commit_timeout: '1ms', wal_preallocate: false, wal_segment_size: '1MB', redo_buffer_size: '64KB', wal_flusher: 'socket-threads', sockets: 2 };
      const engine = await Engine.open(dir, { config, onWarning: () => undefined });
      await engine.sql('create table t (id int primary key, pad varchar(1000))');
      const filler = path.join(mnt, 'filler');
      const free = (): number => fs.statfsSync(mnt).bavail * fs.statfsSync(mnt).bsize;
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 64 * 1024)));
      const acked: number[] = [];
      const codes = new Set<string>();
      const sessions = Array.from({ length: 8 }, () => engine.openSession());
      for (let round = 0; round < 200 && codes.size === 0; round++) {
        await Promise.all(
          sessions.map(async (s, i) => {
            const id = round * 8 + i;
            try {
              await s.transaction((tx) => tx.insert('t', { id, pad: 'p'.repeat(900) }));
              acked.push(id);
            } catch (e) {
              if (!isMotError(e)) throw e;
              codes.add(e.sqlstate);
            }
          }),
        );
      }
      expect([...codes]).toEqual(['53100']);
      fs.rmSync(filler);
      expect(await engine.retryAfterDiskFull()).toBe(true);
      await sessions[0]!.transaction((tx) => tx.insert('t', { id: 1_000_000, pad: 'after' }));
      acked.push(1_000_000);
      await engine.close();
      const again = await Engine.open(dir, { config, onWarning: () => undefined });
      const ids = (await again.sql('select id from t'))[0]!.rows.map((r) => Number(r[0]));
      expect(ids.sort((a, b) => a - b)).toEqual(acked.sort((a, b) => a - b));
      await again.close();
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('defect 9: a lost or truncated WAL tail is reported, not accepted silently', () => {
  const TABLE = { name: 't', columns: [{ name: 'k', type: 'int64' as const, nullable: false }, { name: 'pad', type: 'varchar' as const, size: 1000 }], primaryKey: ['k'] };

  async function filled(config: Config, rows: number): Promise<{ disk: MemDisk; lastSegment: string; size: number }> {
    const disk = new MemDisk();
    const e = await Engine.open('/db', { disk, config, onWarning: () => undefined });
    await e.createTable(TABLE);
    const s = e.openSession();
    for (let k = 0; k < rows; k++) await s.transaction((tx) => tx.insert('t', { k: BigInt(k), pad: 'x'.repeat(900) }));
    await e.close();
    const segments = (await disk.list('/db/wal')).filter((n) => n.endsWith('.wal'));
    const lastSegment = `/db/wal/${segments.at(-1)!}`;
    return { disk, lastSegment, size: (await disk.readFile(lastSegment)).length };
  }

  async function reopenError(disk: MemDisk, config: Config): Promise<unknown> {
    return Engine.open('/db', { disk, config, onWarning: () => undefined }).then(
      (e) => e.close().then(() => undefined),
      (e: unknown) => e,
    );
  }

  for (const preallocate of [true, false]) {
    const config = { wal_segment_size: '1MB', redo_buffer_size: '64KB', wal_preallocate: preallocate };
    it(`defect 9: after a clean close (wal_preallocate ${preallocate}) a deleted, zeroed or truncated last segment is XX001 naming the file and offset, not a torn tail`, async () => {
      for (const damage of ['delete', 'zero', 'truncate'] as const) {
        const { disk, lastSegment, size } = await filled(config, 1300); // about 1.2 MB of redo: two segments
        expect(lastSegment).toBe('/db/wal/0000000000100000.wal');
        if (damage === 'delete') await disk.remove(lastSegment);
        else {
          const f = await disk.open(lastSegment);
          if (damage === 'zero') await f.write(0, new Uint8Array(size));
          else await f.truncate(5000);
        }
        const err = await reopenError(disk, config);
        expect(isMotError(err) && [err.rc, err.sqlstate], `${damage}: ${String(err)}`).toEqual(['RC_PANIC', 'XX001']);
        expect((err as Error).message, damage).toMatch(/corrupt data in "\/db\/wal\/0000000000100000\.wal" at offset \d+: .*(durable up to LSN|shorter than the segment size)/);
      }
    });
  }

  it('defect 9: a WAL cut below the control file\'s lastReplayLsn is reported even without the witness file', async () => {
    const h = await harness('synchronous', 91, { wal_preallocate: false });
    for (let k = 0; k < 10; k++) await h.world.run(`commit ${k}`, h.runner.transaction(h.sessions[0]!, (tx) => tx.put(k, 500)));
    // Commits go on while the checkpoint runs: the WAL is durable past L0 when mot.ctrl is written.
    const checkpoint = h.engine.checkpoint();
    const during = Promise.all(h.sessions.map(async (session, i) => {
      for (let k = 0; k < 5; k++) await h.runner.transaction(session, (tx) => tx.put(100 + 10 * i + k, 500));
    }));
    const report = await h.world.run('checkpoint', checkpoint);
    await h.world.run('commits during it', during);
    const control = decodeControl(await h.world.run('read mot.ctrl', h.world.disk.readFile('/db/mot.ctrl')));
    if (typeof control === 'string') throw new Error(control);
    expect(control.lastReplayLsn, 'the WAL was durable past L0 at publish').toBeGreaterThan(report.lsn);
    await h.world.run('close', h.engine.close());
    const cutAt = control.lastReplayLsn - 8;
    await h.world.run('damage', (async () => {
      await h.world.disk.remove('/db/wal.witness');
      await h.world.disk.syncDir('/db');
      const f = await h.world.disk.open('/db/wal/0000000000000000.wal');
      await f.truncate(cutAt);
      await f.sync();
      await f.close();
    })());
    const world = h.world.restart({ faults: {} });
    const err = await world.run('reopen', Engine.open(world.dir, world.engineOptions({ config: h.config }))).then(() => undefined, (e: unknown) => e);
    expect(isMotError(err) && err.sqlstate, String(err)).toBe('XX001');
    expect((err as Error).message).toMatch(/corrupt data in "\/db\/wal\/0000000000000000\.wal" at offset \d+: the log ends at LSN \d+ .* durable up to LSN \d+ at least \(the control file of checkpoint \d+ says so \(lastReplayLsn\)\)/);
  });

  it('defect 9: one zeroed sector inside a 64 KB asynchronous frame is reported once a witness covers the frame; without one it cannot be told from a torn write', async () => {
    const config = { synchronous_commit: false, wal_segment_size: '1MB', redo_buffer_size: '64KB' };
    const { disk, lastSegment } = await filled(config, 300); // async rounds pack ~64 KB frames
    const bytes = await disk.readFile(lastSegment);
    let dataEnd = bytes.length;
    while (dataEnd > 0 && bytes[dataEnd - 1] === 0) dataEnd--;
    const sector = Math.floor((dataEnd - 20_000) / 512) * 512; // inside the last frame
    const f = await disk.open(lastSegment);
    await f.write(sector, new Uint8Array(512));
    const err = await reopenError(disk, config);
    expect(isMotError(err) && err.sqlstate, String(err)).toBe('XX001');
    expect((err as Error).message).toMatch(/WAL witness \/db\/wal\.witness says so \(written at clean close\)/);
    // Without the witness the damaged last frame reads as a torn write, which a crash can leave.
    await disk.remove('/db/wal.witness');
    const e = await Engine.open('/db', { disk, config, onWarning: () => undefined });
    expect(e.recovery.wal.end.kind).toBe('torn');
    await e.close();
  });

  it('defect 9: crash-test with damage at the log\'s end reports what a witness covers and nothing else (every mode)', async () => {
    for (const mode of ['synchronous', 'group', 'asynchronous'] as const) {
      const r = await crashTest({ mode, seed: 9, runs: 60, faults: ['wal-truncate', 'wal-delete-last', 'wal-zero-last'], faultProbability: 1 });
      expect(formatCrashTestSummary(r), `${mode}; replay: ${r.replay}`).not.toContain('VIOLATION');
      expect(r.corruptionReported, mode).toBeGreaterThan(0);
      expect(r.faultsInjected['fileTruncated']! + r.faultsInjected['fileZeroed']! + r.faultsInjected['fileRemoved']!, mode).toBeGreaterThan(30);
    }
  });
});

describe('defect 9: preallocation is atomic, so a short preallocated segment can only be damage', () => {
  it('defect 9: a crash at any disk operation while the next segment is prepared leaves it absent or full size, and recovery accepts the directory', async () => {
    const seed = 93;
    const config = modeConfig('synchronous', { wal_preallocate: true });
    const bigTx = (session: Session, from: number) =>
      session.transaction((tx) => {
        for (let k = from; k < from + 60; k++) tx.insert(CHECKED_TABLE.name, { k: BigInt(k), v: 0n, pad: 'y'.repeat(950) });
      });
    // A directory whose log ends a little before the middle of segment 0.
    const w0 = SimWorld.create({ seed });
    const e0 = await w0.run('open', Engine.open(w0.dir, w0.engineOptions({ config })));
    await w0.run('table', e0.createTable(CHECKED_TABLE));
    const s0 = e0.openSession();
    let key = 0;
    while (e0.stats().walEndLsn < 400_000) {
      await w0.run('fill', bigTx(s0, key));
      key += 60;
    }
    await w0.run('close', e0.close());
    const image = w0.disk.snapshotDurable();
    const next = '/db/wal/0000000000100000.wal';

    /** Reopen, commit past the middle of segment 0 (the writer prepares segment 1), crash before operation `crashAt`. */
    const run = async (crashAt: number | undefined): Promise<number> => {
      const world = SimWorld.fromImage({ seed }, image);
      const startOps = world.disk.operationCount;
      let crashed = false;
      let done = false;
      let engine: Engine | undefined;
      let shortSeen: string | undefined;
      world.disk.onOperation((op) => {
        // Never visible under its name before it is full: on ext4 a journal commit for another file
        // can make a directory entry durable before its own directory is synced.
        const live = world.disk.snapshotLive().files.get(next);
        if (live !== undefined && live.length !== 1024 * 1024) shortSeen ??= `${live.length} bytes before operation ${op.index - startOps}`;
        if (crashAt !== undefined && !crashed && op.index - startOps === crashAt) {
          crashed = true;
          world.crash(engine);
        }
      });
      const work = (async () => {
        engine = await Engine.open(world.dir, world.engineOptions({ config }));
        const s = engine.openSession();
        for (let i = 0; i < 4; i++) await bigTx(s, 100_000 + 60 * i);
        await engine.flush();
        // Bounded: the writer prepares segment 1 once the log passed the middle of segment 0.
        for (let i = 0; i < 1000 && !(await world.disk.exists(next)); i++) await world.clock.sleepUs(100);
      })().finally(() => (done = true));
      work.catch(() => undefined);
      await world.scheduler.run({ until: () => crashed || done, maxEvents: 1_000_000 });
      const ops = world.disk.operationCount - startOps;
      if (!crashed) world.crash(engine);
      expect(shortSeen, `${next} under its own name while short`).toBeUndefined();
      if (crashAt === undefined) return ops;
      const durable = world.disk.snapshotDurable().files.get(next);
      expect(durable === undefined || durable.length === 1024 * 1024, `crash before operation ${crashAt}: ${next} is ${durable?.length} bytes`).toBe(true);
      const after = world.restart({ faults: {} });
      const e = await after.run(`recover after a crash before operation ${crashAt}`, Engine.open(after.dir, after.engineOptions({ config })));
      await after.run('close', e.close());
      return ops;
    };
    const ops = await run(undefined);
    expect(ops).toBeGreaterThan(10);
    for (let k = 0; k < ops; k++) await run(k);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('defect 11: inspect runs recovery itself, so it refuses exactly what recovery refuses', () => {
  it('defect 11: a byte flipped anywhere in tables.meta, segments.map, a .seg, a .del, an end.marker, mot.ctrl, the WAL, directory.json or wal.witness: inspect and recovery agree', async () => {
    const config = { wal_segment_size: '1MB', redo_buffer_size: '64KB', checkpoint_recovery_workers: 1 };
    const base = new MemDisk();
    const e = await Engine.open('/db', { disk: base, config, onWarning: () => undefined, checkpointTuning: { segmentBytesMax: 4096 } });
    await e.createTable({ name: 't', columns: [{ name: 'k', type: 'int64', nullable: false }, { name: 'v', type: 'int64' }], primaryKey: ['k'] });
    const s = e.openSession();
    for (let k = 0; k < 200; k++) await s.transaction((tx) => tx.insert('t', { k: BigInt(k), v: 0n }));
    await e.checkpoint(); // the chain's base: several data segments
    for (let k = 0; k < 20; k++) await s.transaction((tx) => tx.delete('t', BigInt(k)));
    await s.transaction((tx) => tx.update('t', 100n, { v: 1n }));
    await e.incrementCheckpoint(); // tombstones (.del) and changed rows
    for (let k = 300; k < 310; k++) await s.transaction((tx) => tx.insert('t', { k: BigInt(k), v: 2n }));
    await e.close();
    const files = base.paths();
    for (const kind of ['tables.meta', 'segments.map', '.seg', '.del', 'end.marker', 'mot.ctrl', '.wal', 'directory.json', 'wal.witness']) {
      expect(files.some((f) => f.endsWith(kind)), `the directory has a ${kind}`).toBe(true);
    }
    const seed = 11;
    const rnd = new SeededRandom(seed);
    let refused = 0;
    for (const file of files) {
      const bytes = await base.readFile(file);
      // A few bytes of each file, the header's first ones included.
      const offsets = [0, 5, ...Array.from({ length: 4 }, () => rnd.int(bytes.length))].filter((o) => o < bytes.length);
      for (const offset of offsets) {
        const disk = new MemDisk();
        for (const f of files) {
          const h = await disk.open(f, { create: true });
          await h.write(0, await base.readFile(f));
        }
        const damaged = await disk.open(file);
        await damaged.write(offset, new Uint8Array([bytes[offset]! ^ 0x5a]));
        const inspected = await inspectDataDir(disk, '/db');
        const opened = await Engine.open('/db', { disk, config, onWarning: () => undefined }).then(
          async (engine) => {
            await engine.abandon();
            return undefined;
          },
          (err: unknown) => err,
        );
        const replay = `seed ${seed}: byte ${offset} of ${file} flipped`;
        if (opened === undefined) {
          expect(inspected.recovery.error, `${replay}: recovery accepted it, inspect refused`).toBeUndefined();
        } else {
          refused++;
          expect(isMotError(opened), `${replay}: ${String(opened)}`).toBe(true);
          expect(inspected.recovery.error, `${replay}: recovery refused it (${(opened as Error).message}), inspect did not`).toContain((opened as Error).message);
        }
      }
    }
    expect(refused).toBeGreaterThan(20);
  });
});
