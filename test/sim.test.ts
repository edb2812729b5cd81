// The deterministic simulation world: scheduler ordering and settling, virtual clock, latency model,
// simulated disk (durability, lanes, crash models) and each injected fault. One seed replays a run.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type DiskFile, writeFileAtomic } from '../src/io/disk.js';
import { type Random, SeededRandom } from '../src/io/random.js';
import { isMotError } from '../src/errors.js';
import { Scheduler, SimHangError } from '../src/sim/scheduler.js';
import { VirtualClock } from '../src/sim/virtual-clock.js';
import {
  LATENCY_PRESETS,
  type LatencySpec,
  constant,
  latencyModel,
  lognormal,
  normal,
  sampleUs,
  uniform,
} from '../src/sim/latency.js';
import { type CrashModel, type FaultSpec, faultConfig } from '../src/sim/faults.js';
import { type CrashReport, SimDisk, digestImage } from '../src/sim/sim-disk.js';

interface World {
  scheduler: Scheduler;
  clock: VirtualClock;
  disk: SimDisk;
}

function world(seed: number, latency: LatencySpec = 'nvme', faults: FaultSpec = {}, crashModel?: CrashModel): World {
  const scheduler = new Scheduler();
  const clock = new VirtualClock(scheduler);
  const disk = new SimDisk({ scheduler, random: new SeededRandom(seed), latency, faults, crashModel });
  return { scheduler, clock, disk };
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const filled = (length: number, value: number): Uint8Array => new Uint8Array(length).fill(value);
const codeOf = (e: unknown): string | undefined => (e as { code?: string }).code;

/** Run the world until `p` settles (a hang fails the test with the pending waits named). */
function sim<T>(w: World, label: string, p: Promise<T>): Promise<T> {
  return w.scheduler.settle(label, p);
}

async function errorOf(w: World, label: string, p: Promise<unknown>): Promise<unknown> {
  try {
    await sim(w, label, p);
  } catch (e) {
    return e;
  }
  throw new Error(`${label}: expected a rejection`);
}

async function createFile(w: World, path: string): Promise<DiskFile> {
  return sim(w, `open ${path}`, w.disk.open(path, { create: true }));
}

// ---------------------------------------------------------------------------------------------------

describe('Scheduler', () => {
  it('fires events in time order, ties in scheduling order, and skips cancelled ones', async () => {
    const s = new Scheduler();
    const fired: string[] = [];
    s.schedule(30, () => fired.push('c@30'));
    s.schedule(10, () => fired.push('a@10'));
    s.schedule(10, () => fired.push('b@10'));
    const cancelled = s.after(20, () => fired.push('x@20'));
    s.after(20, () => fired.push('y@20'));
    cancelled.cancel();
    const result = await s.run();
    expect(fired).toEqual(['a@10', 'b@10', 'y@20', 'c@30']);
    expect(result).toMatchObject({ status: 'idle', ok: true, nowUs: 30, eventsRun: 4, eventsQueued: 0 });
  });

  it('lets a long chain of awaits in engine code settle before the next event runs', async () => {
    const s = new Scheduler();
    const clock = new VirtualClock(s);
    let depthReached = 0;
    const deep = async (n: number): Promise<number> => {
      if (n === 0) {
        await clock.sleepUs(5);
        return 0;
      }
      const v = await deep(n - 1);
      await null;
      await Promise.resolve();
      return v + 1;
    };
    void (async () => {
      depthReached = await deep(40);
      for (let i = 0; i < 50; i++) await i;
      depthReached += 1000;
    })();
    let seenAtNextEvent = -1;
    s.schedule(5, () => {
      seenAtNextEvent = depthReached; // same time, scheduled after the sleep's event
    });
    s.schedule(6, () => {});
    await s.run();
    // The sleep's event ran first (earlier seq); the next event at the same time saw everything settled.
    expect(seenAtNextEvent).toBe(1040);
  });

  it('reports a hang as pending, naming the waits, instead of looping (a promise awaiting nothing)', async () => {
    const s = new Scheduler();
    s.track('commit of tx 7 waits for its group flush', new Promise<void>(() => {}));
    s.after(10, () => {});
    const result = await s.run();
    expect(result.status).toBe('pending');
    expect(result.ok).toBe(false);
    expect(result.pendingWaits).toEqual(['commit of tx 7 waits for its group flush']);
    expect(result.message).toContain('commit of tx 7 waits for its group flush');
    expect(result.nowUs).toBe(10);

    const hang = s.settle('recovery', new Promise<void>(() => {}));
    await expect(hang).rejects.toBeInstanceOf(SimHangError);
    await expect(hang).rejects.toThrow(/recovery/);
  });

  it('stops at the time bound, the event bound and the predicate', async () => {
    const s = new Scheduler();
    let n = 0;
    const tick = (): void => {
      n++;
      s.after(10, tick);
    };
    s.after(10, tick);
    expect(await s.run({ untilUs: 55 })).toMatchObject({ status: 'time-limit', nowUs: 55, eventsRun: 5 });
    expect(await s.run({ maxEvents: 3 })).toMatchObject({ status: 'event-limit', nowUs: 80, eventsRun: 3 });
    expect(await s.run({ until: () => n >= 10 })).toMatchObject({ status: 'until', nowUs: 100 });
  });

  it('fails the run with context when an event throws', async () => {
    const s = new Scheduler();
    s.after(3, () => {
      throw new Error('boom');
    }, 'engine.timer');
    await expect(s.run()).rejects.toThrow(/engine\.timer.*3µs.*boom/);
  });

  it('runs a chain of 200,000 timers to the end (speed is measured by bench/sim-speed)', async () => {
    const s = new Scheduler();
    const eventsMax = 200_000;
    let n = 0;
    const tick = (): void => {
      if (++n < eventsMax) s.after(1, tick);
    };
    s.after(1, tick);
    const t0 = performance.now();
    const result = await s.run();
    const usPerEvent = ((performance.now() - t0) * 1000) / result.eventsRun;
    expect(result.eventsRun).toBe(eventsMax);
    console.log(`scheduler overhead: ${usPerEvent.toFixed(2)} µs per event`);
  });
});

describe('VirtualClock', () => {
  it('keeps virtual time, wall time from its epoch, timers and sleeps', async () => {
    const s = new Scheduler();
    const clock = new VirtualClock(s, { epochMs: 1_000_000 });
    const fired: number[] = [];
    clock.setTimer(2500, () => fired.push(clock.nowUs()));
    const cancelled = clock.setTimer(1000, () => fired.push(-1));
    cancelled.cancel();
    let woke = -1;
    void clock.sleepUs(1500).then(() => {
      woke = clock.nowUs();
    });
    await s.run();
    expect(fired).toEqual([2500]);
    expect(woke).toBe(1500);
    expect(clock.nowUs()).toBe(2500);
    expect(clock.wallMs()).toBe(1_000_002);
  });
});

describe('latency model', () => {
  it('samples every distribution within its bounds, reproducibly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const draw = (): number[] => {
          const r = new SeededRandom(seed);
          return [
            sampleUs(constant(7), r),
            sampleUs(uniform(20, 60), r),
            sampleUs(normal(10, 5, 5, 30), r),
            sampleUs(lognormal(900, 0.4, 2000), r),
          ];
        };
        const [c, u, n, l] = draw();
        expect(c).toBe(7);
        expect(u).toBeGreaterThanOrEqual(20);
        expect(u).toBeLessThanOrEqual(60);
        expect(n).toBeGreaterThanOrEqual(5);
        expect(n).toBeLessThanOrEqual(30);
        expect(l).toBeGreaterThanOrEqual(0);
        expect(l).toBeLessThanOrEqual(2000);
        expect(draw()).toEqual([c, u, n, l]);
      }),
      { numRuns: 200 },
    );
  });

  it('has the documented presets and accepts custom models over a base preset', () => {
    expect(Object.keys(LATENCY_PRESETS).sort()).toEqual(['hdd', 'instant', 'nvme', 'sata-ssd', 'this-machine']);
    expect(latencyModel('nvme').channels).toBe(4);
    expect(latencyModel('hdd').channels).toBe(1);
    expect(latencyModel('sata-ssd').channels).toBe(1);
    const custom = latencyModel({ base: 'instant', flushUs: constant(100), channels: 2 });
    expect(custom).toMatchObject({ channels: 2, flushUs: { kind: 'constant', valueUs: 100 }, writeBytesPerUs: Infinity });
    let error: unknown;
    try {
      latencyModel({ channels: 0 });
    } catch (e) {
      error = e;
    }
    expect(isMotError(error)).toBe(true);
    expect(String((error as Error).message)).toContain('latency.channels');
  });

  it('charges an append fdatasync more than an overwrite on this-machine (the size change is journaled)', async () => {
    const w = world(1, 'this-machine');
    const f = await createFile(w, '/wal');
    let t0 = w.clock.nowUs();
    await sim(w, 'append', f.writeAndSync(0, filled(100, 1)));
    const appendUs = w.clock.nowUs() - t0;
    t0 = w.clock.nowUs();
    await sim(w, 'overwrite', f.writeAndSync(0, filled(100, 2)));
    const overwriteUs = w.clock.nowUs() - t0;
    expect(appendUs).toBeGreaterThan(200);
    expect(appendUs).toBeLessThan(700);
    expect(overwriteUs).toBeLessThan(appendUs);
  });
});

// ---------------------------------------------------------------------------------------------------

/** A mixed workload whose every choice comes from `rnd`; returns digests of live and durable state. */
async function mixedWorkload(w: World, rnd: Random): Promise<void> {
  const { disk, clock } = w;
  await disk.mkdirp('/db/wal');
  await disk.syncDir('/'); // a new directory's own entry is durable only once its parent is synced
  await disk.syncDir('/db');
  const files = await Promise.all([0, 1].map((i) => disk.open(`/db/wal/seg-${i}`, { create: true })));
  await disk.syncDir('/db/wal');
  const offsets = [0, 0];
  await Promise.all(
    [0, 1, 2, 3].map(async (client) => {
      for (let k = 0; k < 25; k++) {
        const lane = client % 2;
        const length = 1 + rnd.int(3000);
        const offset = offsets[lane];
        offsets[lane] += length;
        const data = filled(length, (client * 31 + k) & 0xff);
        if (rnd.chance(0.5)) {
          await files[lane].writeAndSync(offset, data, lane);
        } else {
          await files[lane].write(offset, data);
          if (rnd.chance(0.3)) await files[lane].sync();
        }
        await clock.sleepUs(rnd.int(40));
      }
    }),
  );
  await writeFileAtomic(disk, '/db/control', filled(64, 9));
}

async function runTraced(seed: number): Promise<{ trace: string[]; live: string; durable: string; crash: CrashReport }> {
  const w = world(seed, 'nvme');
  const trace: string[] = [];
  w.scheduler.onEvent((e) => trace.push(`${e.atUs.toFixed(3)} ${e.label}`));
  await sim(w, 'workload', mixedWorkload(w, new SeededRandom(seed ^ 0x5eed)));
  const live = digestImage(w.disk.snapshotLive());
  const crash = w.disk.crash('reorder');
  return { trace, live, durable: digestImage(w.disk.snapshotDurable()), crash };
}

describe('determinism', () => {
  it('replays the same event trace and the same disk contents from the same seed; other seeds differ', async () => {
    const a = await runTraced(42);
    const b = await runTraced(42);
    const c = await runTraced(43);
    expect(a.trace.length).toBeGreaterThan(100);
    expect(b.trace).toEqual(a.trace);
    expect(b.live).toBe(a.live);
    expect(b.durable).toBe(a.durable);
    expect(b.crash).toEqual(a.crash);
    expect(c.trace).not.toEqual(a.trace);
    expect(c.durable).not.toBe(a.durable);
  });

  it('holds for any seed (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const a = await runTraced(seed);
        const b = await runTraced(seed);
        expect(b.trace).toEqual(a.trace);
        expect(b.durable).toBe(a.durable);
      }),
      { numRuns: 5 },
    );
  });
});

describe('SimDisk: lanes and channels', () => {
  const flush100 = { base: 'instant', flushUs: constant(100), channels: 4 } as const;

  async function completionTimes(w: World, lanes: Array<number | undefined>): Promise<number[]> {
    const f = await createFile(w, '/wal');
    const times: number[] = new Array<number>(lanes.length).fill(-1);
    const t0 = w.clock.nowUs();
    const all = lanes.map((lane, i) =>
      f.writeAndSync(i * 10, filled(10, i), lane).then(() => {
        times[i] = w.clock.nowUs() - t0;
      }),
    );
    await sim(w, 'writes', Promise.all(all));
    return times;
  }

  it('serializes requests within a lane and runs lanes in parallel', async () => {
    const w = world(1, flush100);
    expect(await completionTimes(w, [0, 0, 0, 1, 1, 1])).toEqual([100, 200, 300, 100, 200, 300]);
    const stats = w.disk.stats();
    expect(stats.lanes).toEqual([
      { lane: 0, requests: 3, busyUs: 300, queueDepthMax: 2 },
      { lane: 1, requests: 3, busyUs: 300, queueDepthMax: 2 },
    ]);
    expect(stats.writeAndSyncs).toBe(6);
    expect(stats.bytesMadeDurable).toBe(60);
  });

  it('shares the device channels between lanes (one channel: lanes interleave)', async () => {
    const w = world(1, { ...flush100, channels: 1 });
    expect(await completionTimes(w, [0, 0, 0, 1, 1, 1])).toEqual([100, 300, 500, 200, 400, 600]);
  });

  it('runs lane-less requests in parallel up to the channel count', async () => {
    const w = world(1, { ...flush100, channels: 2 });
    expect(await completionTimes(w, [undefined, undefined, undefined])).toEqual([100, 100, 200]);
  });
});

describe('SimDisk: Node-style errors and the hdd seek', () => {
  it('reports ENOENT, EISDIR, ENOTDIR and EBADF with code, syscall and path', async () => {
    const w = world(8, 'instant');
    const missing = await errorOf(w, 'open', w.disk.open('/nope'));
    expect(missing).toMatchObject({ code: 'ENOENT', syscall: 'open', path: '/nope' });
    expect(codeOf(await errorOf(w, 'no parent', w.disk.open('/no/dir/f', { create: true })))).toBe('ENOENT');
    await sim(w, 'mkdir', w.disk.mkdirp('/d'));
    expect(codeOf(await errorOf(w, 'dir', w.disk.open('/d', { create: true })))).toBe('EISDIR');
    const f = await createFile(w, '/d/f');
    expect(codeOf(await errorOf(w, 'list file', w.disk.list('/d/f')))).toBe('ENOTDIR');
    expect(codeOf(await errorOf(w, 'mkdir over file', w.disk.mkdirp('/d/f/g')))).toBe('ENOTDIR');
    await sim(w, 'close', f.close());
    const closed = await errorOf(w, 'write after close', f.write(0, bytes(1)));
    expect(closed).toMatchObject({ code: 'EBADF', path: '/d/f' });
    expect(String((closed as Error).message)).toContain('closed');
    expect(await sim(w, 'remove missing', w.disk.remove('/nothing'))).toBeUndefined();
  });

  it('charges a seek on hdd when requests alternate between files', async () => {
    const elapsed = async (alternate: boolean): Promise<number> => {
      const w = world(9, 'hdd');
      const a = await createFile(w, '/a');
      const b = await createFile(w, '/b');
      const t0 = w.clock.nowUs();
      for (let i = 0; i < 10; i++) {
        const f = alternate && i % 2 === 1 ? b : a;
        await sim(w, `append ${i}`, f.writeAndSync(i * 100, filled(100, i)));
      }
      return w.clock.nowUs() - t0;
    };
    const sequentialUs = await elapsed(false);
    const alternatingUs = await elapsed(true);
    expect(sequentialUs).toBeGreaterThan(10 * 4000);
    expect(alternatingUs).toBeGreaterThan(sequentialUs + 8 * 2000);
  });
});

describe('SimDisk: durability and crashes', () => {
  it('reads see written data; a crash keeps flushed data and loses unflushed data', async () => {
    const w = world(7);
    await sim(w, 'mkdir', w.disk.mkdirp('/d'));
    const f = await createFile(w, '/d/f');
    await sim(w, 'sync /', w.disk.syncDir('/'));
    await sim(w, 'sync /d', w.disk.syncDir('/d'));
    await sim(w, 'w1', f.write(0, bytes(1, 2, 3)));
    await sim(w, 's1', f.sync());
    await sim(w, 'w2', f.write(3, bytes(4, 5)));
    expect(await sim(w, 'read', f.read(0, 10))).toEqual(bytes(1, 2, 3, 4, 5));
    expect(await sim(w, 'size', f.size())).toBe(5);

    const report = w.disk.crash();
    expect(report.model).toBe('lose-unflushed');
    expect(report.bytesLost).toBe(2);
    expect(report.files).toEqual([
      { path: '/d/f', fate: 'lost', cause: 'lose-unflushed', writes: [{ index: 0, offset: 3, length: 2, keptBytes: 0 }], bytesLost: 2, bytesKept: 0 },
    ]);
    expect(await sim(w, 'readFile', w.disk.readFile('/d/f'))).toEqual(bytes(1, 2, 3));
    expect(codeOf(await errorOf(w, 'stale handle', f.read(0, 1)))).toBe('EBADF');
    expect(w.disk.faultLog.ofKind('crash')).toHaveLength(2);
  });

  it('aborts requests in flight at the crash with EBADF and counts their bytes as lost', async () => {
    const w = world(7, { base: 'instant', writeUs: constant(50), flushUs: constant(100) });
    const f = await createFile(w, '/f');
    const write = f.write(0, filled(10, 1)).catch((e: unknown) => e);
    const flushed = f.writeAndSync(100, filled(10, 2), 0).catch((e: unknown) => e);
    await w.scheduler.run({ untilUs: 20 });
    const report = w.disk.crash();
    expect(report.inflightRequestsAborted).toBe(2);
    expect(report.inflightWriteBytesLost).toBe(10); // the writeAndSync's bytes were in the page cache
    expect(report.bytesLost).toBe(20);
    expect(codeOf(await write)).toBe('EBADF');
    expect(codeOf(await flushed)).toBe('EBADF');
    expect((await w.scheduler.run()).status).toBe('idle');
  });

  it('makes creations, renames and removals durable only through syncDir of the parent', async () => {
    const w = world(3);
    const { disk } = w;
    await sim(w, 'mkdir', disk.mkdirp('/db'));
    const created = await createFile(w, '/db/new');
    await sim(w, 'write+sync content', created.writeAndSync(0, bytes(1)));
    const kept = await createFile(w, '/db/kept');
    await sim(w, 'kept', kept.writeAndSync(0, bytes(2)));
    await sim(w, 'syncDir root', disk.syncDir('/'));
    // The file's content was synced, but its entry was not: gone after a crash.
    let report = w.disk.crash();
    expect(await sim(w, 'exists', disk.exists('/db'))).toBe(true);
    expect(await sim(w, 'list', disk.list('/db'))).toEqual([]);
    expect(report.directoryEntriesReverted).toEqual(['lost /db/kept', 'lost /db/new']);
    expect(report.files.map((f) => [f.path, f.fate])).toEqual([
      ['/db/kept', 'entry-lost'],
      ['/db/new', 'entry-lost'],
    ]);

    const a = await createFile(w, '/db/a');
    await sim(w, 'a', a.writeAndSync(0, bytes(1)));
    await sim(w, 'syncDir', disk.syncDir('/db'));
    await sim(w, 'rename', disk.rename('/db/a', '/db/b'));
    report = w.disk.crash();
    expect(report.directoryEntriesReverted).toEqual(['lost /db/b', 'restored /db/a']);
    expect(await sim(w, 'list', disk.list('/db'))).toEqual(['a']);

    await sim(w, 'rename', disk.rename('/db/a', '/db/b'));
    await sim(w, 'syncDir', disk.syncDir('/db'));
    await sim(w, 'remove', disk.remove('/db/b'));
    expect(await sim(w, 'list', disk.list('/db'))).toEqual([]);
    w.disk.crash();
    expect(await sim(w, 'list', disk.list('/db'))).toEqual(['b']);
    expect(await sim(w, 'read', disk.readFile('/db/b'))).toEqual(bytes(1));
  });

  it('keeps either the old or the new file at every crash point of writeFileAtomic (exhaustive)', async () => {
    const setup = world(5);
    await sim(setup, 'mkdir', setup.disk.mkdirp('/ckpt'));
    await sim(setup, 'syncDir', setup.disk.syncDir('/'));
    await sim(setup, 'old', writeFileAtomic(setup.disk, '/ckpt/map', filled(700, 1)));
    const image = setup.disk.snapshotDurable();
    const before = digestImage(image);

    // Count the operations of one replacement, then crash before each of them in turn.
    const probe = world(5);
    const probeDisk = SimDisk.fromSnapshot(image, { scheduler: probe.scheduler, random: new SeededRandom(5) });
    await sim(probe, 'new', writeFileAtomic(probeDisk, '/ckpt/map', filled(900, 2)));
    const operations = probeDisk.operationCount;
    expect(operations).toBeGreaterThan(5);

    for (let crashAt = 0; crashAt <= operations; crashAt++) {
      for (const model of ['lose-unflushed', 'torn', 'reorder'] as const) {
        const scheduler = new Scheduler();
        const disk = SimDisk.fromSnapshot(image, { scheduler, random: new SeededRandom(crashAt), crashModel: model });
        disk.onOperation((op) => {
          if (op.index === crashAt) disk.crash();
        });
        const attempt = writeFileAtomic(disk, '/ckpt/map', filled(900, 2)).then(
          () => 'done',
          (e: unknown) => codeOf(e),
        );
        const outcome = await scheduler.settle(`replace, crash before op ${crashAt}`, attempt);
        expect(outcome).toBe(crashAt < operations ? 'EBADF' : 'done');
        if (crashAt === operations) disk.crash();
        const content = disk.snapshotDurable().files.get('/ckpt/map');
        const old = content?.length === 700 && content.every((b) => b === 1);
        const replaced = content?.length === 900 && content.every((b) => b === 2);
        expect(old || replaced, `crash before op ${crashAt} (${model})`).toBe(true);
      }
    }
    expect(digestImage(image)).toBe(before); // restarts never touched the shared image
  });
});

describe('SimDisk: crash models', () => {
  /** Appends `lengths` (each write filled with its index + 1) after `durableLength` durable bytes. */
  async function appendUnflushed(w: World, durableLength: number, lengths: number[]): Promise<void> {
    const f = await createFile(w, '/wal');
    await sim(w, 'syncDir', w.disk.syncDir('/'));
    if (durableLength > 0) await sim(w, 'base', f.writeAndSync(0, filled(durableLength, 0xee)));
    let offset = durableLength;
    for (let i = 0; i < lengths.length; i++) {
      await sim(w, `append ${i}`, f.write(offset, filled(lengths[i], i + 1)));
      offset += lengths[i];
    }
  }

  const lengthsArb = fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 6 });

  it('keep-prefix: a prefix of the unflushed writes survives, whole and in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1e9 }), lengthsArb, async (seed, lengths) => {
        const w = world(seed, 'instant');
        await appendUnflushed(w, 100, lengths);
        const report = w.disk.crash('keep-prefix');
        const fates = report.files[0].writes;
        const k = fates.filter((f) => f.keptBytes === f.length).length;
        expect(fates.map((f) => f.keptBytes)).toEqual(lengths.map((l, i) => (i < k ? l : 0)));
        const expected = [filled(100, 0xee), ...lengths.slice(0, k).map((l, i) => filled(l, i + 1))];
        expect(w.disk.snapshotDurable().files.get('/wal')).toEqual(concat(expected));
      }),
      { numRuns: 60 },
    );
  });

  it('torn: the last surviving write is cut at a sector boundary and the rest of it reads as zeros', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1e9 }), lengthsArb, async (seed, lengths) => {
        const w = world(seed, 'instant');
        await appendUnflushed(w, 300, lengths);
        const report = w.disk.crash('torn');
        const fates = report.files[0].writes;
        expect(report.files[0].fate).toBe('torn');
        const j = fates.findIndex((f) => f.keptBytes < f.length);
        expect(j).toBeGreaterThanOrEqual(0);
        expect(fates.slice(0, j).every((f) => f.keptBytes === f.length)).toBe(true);
        expect(fates.slice(j + 1).every((f) => f.keptBytes === 0)).toBe(true);
        const torn = fates[j];
        const cut = torn.offset + torn.keptBytes;
        expect(torn.keptBytes === 0 || cut % 512 === 0).toBe(true);
        const content = w.disk.snapshotDurable().files.get('/wal')!;
        expect(content.length).toBe(torn.offset + torn.length);
        expect(content.subarray(torn.offset, cut).every((b) => b === j + 1)).toBe(true);
        expect(content.subarray(cut).every((b) => b === 0)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('reorder: any subset of sectors of the unflushed writes survives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1e9 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }), async (seed, sectors) => {
        const w = world(seed, 'instant');
        const lengths = sectors.map((n) => n * 512);
        await appendUnflushed(w, 0, lengths);
        const report = w.disk.crash('reorder');
        const content = w.disk.snapshotDurable().files.get('/wal') ?? new Uint8Array(0);
        expect(content.length % 512).toBe(0);
        let keptSectors = 0;
        let offset = 0;
        lengths.forEach((length, i) => {
          for (let s = offset; s < offset + length && s < content.length; s += 512) {
            const sector = content.subarray(s, s + 512);
            const isNew = sector.every((b) => b === i + 1);
            expect(isNew || sector.every((b) => b === 0)).toBe(true);
            if (isNew) keptSectors++;
          }
          offset += length;
        });
        expect(report.bytesKept).toBe(keptSectors * 512);
        expect(report.bytesKept + report.bytesLost).toBe(lengths.reduce((a, b) => a + b, 0));
      }),
      { numRuns: 60 },
    );
  });
});

describe('SimDisk: faults', () => {
  it('lostUnflushedTail overrides a lenient crash model and is logged', async () => {
    const w = world(11, 'instant', { lostUnflushedTail: {} }, 'keep-prefix');
    const f = await createFile(w, '/redo.wal');
    await sim(w, 'syncDir', w.disk.syncDir('/'));
    await sim(w, 'durable', f.writeAndSync(0, bytes(1, 1)));
    await sim(w, 'tail', f.write(2, bytes(2, 2, 2)));
    const report = w.disk.crash();
    expect(report.files[0]).toMatchObject({ fate: 'lost', cause: 'lostUnflushedTail', bytesLost: 3 });
    expect(w.disk.snapshotDurable().files.get('/redo.wal')).toEqual(bytes(1, 1));
    expect(w.disk.faultLog.ofKind('lostUnflushedTail')).toEqual([expect.objectContaining({ path: '/redo.wal', atUs: report.atUs })]);
  });

  it('tornWrite cuts the tail write at a sector boundary even under lose-unflushed', async () => {
    const w = world(12, 'instant', { tornWrite: {} });
    const f = await createFile(w, '/redo.wal');
    await sim(w, 'syncDir', w.disk.syncDir('/'));
    await sim(w, 'tail', f.write(0, filled(4096, 7)));
    const report = w.disk.crash();
    const [file] = report.files;
    expect(file).toMatchObject({ fate: 'torn', cause: 'tornWrite' });
    expect(file.writes[0].keptBytes % 512).toBe(0);
    expect(file.writes[0].keptBytes).toBeLessThan(4096);
    const content = w.disk.snapshotDurable().files.get('/redo.wal')!;
    expect(content.length).toBe(4096);
    expect(content.subarray(file.writes[0].keptBytes).every((b) => b === 0)).toBe(true);
    expect(w.disk.faultLog.ofKind('tornWrite')).toHaveLength(1);
  });

  it('zeroFilledTail keeps the new size but not the data', async () => {
    const w = world(13, 'instant', { zeroFilledTail: {} });
    const f = await createFile(w, '/redo.wal');
    await sim(w, 'syncDir', w.disk.syncDir('/'));
    await sim(w, 'durable', f.writeAndSync(0, bytes(5, 5)));
    await sim(w, 'tail', f.write(2, filled(1000, 9)));
    const report = w.disk.crash();
    expect(report.files[0]).toMatchObject({ fate: 'zero-filled', cause: 'zeroFilledTail', bytesLost: 1000 });
    expect(w.disk.snapshotDurable().files.get('/redo.wal')).toEqual(concat([bytes(5, 5), new Uint8Array(1000)]));
  });

  it('bitFlip flips exactly one durable bit of the chosen file kind only', async () => {
    const w = world(14, 'instant', { bitFlip: { fileKind: 'checkpoint' } });
    await sim(w, 'mkdir', w.disk.mkdirp('/data'));
    await sim(w, 'syncDir', w.disk.syncDir('/'));
    for (const name of ['/data/redo.wal', '/data/checkpoint.0']) {
      const f = await createFile(w, name);
      await sim(w, name, f.writeAndSync(0, filled(256, 0xaa)));
    }
    await sim(w, 'syncDir', w.disk.syncDir('/data'));
    w.disk.crash();
    const image = w.disk.snapshotDurable();
    const flippedBits = (b: Uint8Array): number => b.reduce((n, x) => n + popcount(x ^ 0xaa), 0);
    expect(flippedBits(image.files.get('/data/checkpoint.0')!)).toBe(1);
    expect(flippedBits(image.files.get('/data/redo.wal')!)).toBe(0);
    const [record] = w.disk.faultLog.ofKind('bitFlip');
    expect(record.path).toBe('/data/checkpoint.0');
    // What reads see after the restart is the corrupted durable content.
    expect(flippedBits(await sim(w, 'read', w.disk.readFile('/data/checkpoint.0')))).toBe(1);

    const manual = w.disk.injectBitFlip('/data/redo.wal', 3);
    expect(manual.detail).toContain('bit 3 of byte 0');
    expect((await sim(w, 'read', w.disk.readFile('/data/redo.wal')))[0]).toBe(0xaa ^ 8);
  });

  it('fsyncgate: a failed sync drops the dirty pages; a later sync succeeds without bringing them back', async () => {
    const w = world(15, 'instant');
    const f = await createFile(w, '/redo.wal');
    await sim(w, 'syncDir', w.disk.syncDir('/'));
    await sim(w, 'durable', f.writeAndSync(0, bytes(1, 2)));
    w.disk.faults = faultConfig({ fsyncFailureDropsDirtyPages: {} });
    await sim(w, 'dirty', f.write(2, bytes(3, 4)));
    const error = await errorOf(w, 'sync', f.sync());
    expect(codeOf(error)).toBe('EIO');
    expect(String(error)).toContain('/redo.wal');
    expect(await sim(w, 'read', f.read(0, 10))).toEqual(bytes(1, 2)); // neither durable nor readable
    w.disk.faults = faultConfig();
    await sim(w, 'sync again', f.sync());
    expect(await sim(w, 'read', f.read(0, 10))).toEqual(bytes(1, 2));
    w.disk.crash();
    expect(w.disk.snapshotDurable().files.get('/redo.wal')).toEqual(bytes(1, 2));
    expect(w.disk.faultLog.ofKind('fsyncFailureDropsDirtyPages')).toEqual([
      expect.objectContaining({ path: '/redo.wal', detail: expect.stringContaining('[2, 4)') }),
    ]);

    // writeAndSync's flush fails the same way, and leaves its lane usable.
    w.disk.faults = faultConfig({ fsyncFailureDropsDirtyPages: {} });
    const f2 = await sim(w, 'reopen', w.disk.open('/redo.wal'));
    expect(codeOf(await errorOf(w, 'writeAndSync', f2.writeAndSync(2, bytes(9), 0)))).toBe('EIO');
    w.disk.faults = faultConfig();
    await sim(w, 'lane still works', f2.writeAndSync(2, bytes(8), 0));
    expect(await sim(w, 'read', f2.read(0, 10))).toEqual(bytes(1, 2, 8));
  });

  it('diskFull: ENOSPC mid-append; a write that would cross the quota fails entirely; space can return', async () => {
    const w = world(16, 'instant', { diskFull: { quotaBytes: 1000 } });
    const f = await createFile(w, '/redo.wal');
    await sim(w, 'a1', f.write(0, filled(600, 1)));
    const e1 = await errorOf(w, 'a2', f.write(600, filled(600, 2)));
    expect(codeOf(e1)).toBe('ENOSPC');
    expect(await sim(w, 'size', f.size())).toBe(600);
    expect(codeOf(await errorOf(w, 'a2 synced', f.writeAndSync(600, filled(401, 2), 0)))).toBe('ENOSPC');
    await sim(w, 'fits', f.writeAndSync(600, filled(400, 3), 0));
    await sim(w, 'overwrite needs no space', f.write(0, filled(10, 4)));
    expect(await sim(w, 'size', f.size())).toBe(1000);
    expect(w.disk.faultLog.ofKind('diskFull')).toHaveLength(2);
    await sim(w, 'remove', w.disk.remove('/redo.wal'));
    expect(w.disk.stats().usedBytes).toBe(0);
    const g = await createFile(w, '/other');
    await sim(w, 'space returned', g.write(0, filled(1000, 5)));
    w.disk.setQuotaBytes(Number.POSITIVE_INFINITY);
    await sim(w, 'no quota', g.write(1000, filled(5000, 5)));
  });

  it('crashBetweenSteps crashes before the N-th operation, which fails with EBADF', async () => {
    const w = world(17, 'instant', { crashBetweenSteps: { atOperation: 3 } });
    const seen: string[] = [];
    w.disk.onOperation((op) => seen.push(`${op.index}:${op.kind}`));
    const f = await createFile(w, '/redo.wal'); // op 0
    await sim(w, 'syncDir', w.disk.syncDir('/')); // op 1
    await sim(w, 'w', f.write(0, bytes(1))); // op 2
    expect(codeOf(await errorOf(w, 'sync', f.sync()))).toBe('EBADF'); // op 3: the crash comes first
    expect(w.disk.lastCrash?.bytesLost).toBe(1);
    expect(w.disk.faultLog.ofKind('crashBetweenSteps')).toEqual([expect.objectContaining({ detail: expect.stringContaining('operation #3 (sync)') })]);
    expect(seen).toEqual(['0:open', '1:syncDir', '2:write', '3:sync']);
    expect(await sim(w, 'read', w.disk.readFile('/redo.wal'))).toEqual(new Uint8Array(0));
  });

  it('rejects invalid fault settings with an error naming the parameter', () => {
    expect(() => faultConfig({ tornWrite: { probability: 2 } })).toThrow(/faults\.tornWrite\.probability/);
  });
});

describe('SimDisk: snapshots and stats', () => {
  it('restarts from a durable snapshot cheaply and independently', async () => {
    const w = world(21, 'instant');
    await sim(w, 'mkdir', w.disk.mkdirp('/a/b'));
    await sim(w, 'sync', w.disk.syncDir('/'));
    await sim(w, 'sync', w.disk.syncDir('/a'));
    await sim(w, 'file', writeFileAtomic(w.disk, '/a/b/f', bytes(1, 2, 3)));
    await sim(w, 'unflushed', (await createFile(w, '/a/b/g')).write(0, bytes(9)));
    const image = w.disk.snapshotDurable();
    expect(image.directories).toEqual(['/a', '/a/b']);
    expect([...image.files.keys()]).toEqual(['/a/b/f']);

    const s2 = new Scheduler();
    const restarted = SimDisk.fromSnapshot(image, { scheduler: s2, random: new SeededRandom(1), latency: 'instant' });
    expect(digestImage(restarted.snapshotDurable())).toBe(digestImage(image));
    const f = await s2.settle('open', restarted.open('/a/b/f'));
    await s2.settle('overwrite', f.writeAndSync(0, bytes(7)));
    expect(await s2.settle('read', restarted.readFile('/a/b/f'))).toEqual(bytes(7, 2, 3));
    expect(image.files.get('/a/b/f')).toEqual(bytes(1, 2, 3)); // copy-on-write
    expect(await sim(w, 'original', w.disk.readFile('/a/b/f'))).toEqual(bytes(1, 2, 3));
  });

  it('counts writes, syncs, bytes and per-lane busy time', async () => {
    const w = world(22, { base: 'instant', flushUs: constant(50) });
    const f = await createFile(w, '/f');
    await sim(w, 'w', f.write(0, filled(100, 1)));
    await sim(w, 's', f.sync());
    await sim(w, 'ws', f.writeAndSync(100, filled(20, 1), 2));
    await sim(w, 'r', f.read(0, 1000));
    const stats = w.disk.stats();
    expect(stats).toMatchObject({ writes: 2, writeBytes: 120, syncs: 1, writeAndSyncs: 1, bytesMadeDurable: 120, reads: 1, readBytes: 120, usedBytes: 120 });
    expect(stats.lanes).toEqual([{ lane: 2, requests: 1, busyUs: 50, queueDepthMax: 0 }]);
    expect(stats.channelBusyUs.reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('runs 96,000 simulated write+fdatasync commits from 64 clients on 4 lanes (speed: bench/sim-speed)', async () => {
    const w = world(23, 'nvme');
    const commitsPerClient = 1500;
    const clients = 64;
    await sim(w, 'mkdir', w.disk.mkdirp('/wal'));
    const files = await sim(w, 'open', Promise.all([0, 1, 2, 3].map((l) => w.disk.open(`/wal/redo-${l}`, { create: true }))));
    const offsets = [0, 0, 0, 0];
    const data = filled(100, 1);
    const t0 = performance.now();
    await sim(
      w,
      'commits',
      Promise.all(
        Array.from({ length: clients }, async (_, i) => {
          const lane = i % 4;
          for (let k = 0; k < commitsPerClient; k++) {
            const offset = offsets[lane];
            offsets[lane] += data.length;
            await files[lane].writeAndSync(offset, data, lane);
          }
        }),
      ),
    );
    const commitsPerSecond = (clients * commitsPerClient) / ((performance.now() - t0) / 1000);
    console.log(`simulated commits (one writeAndSync each): ${Math.round(commitsPerSecond)} per wall-clock second`);
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v !== 0; v &= v - 1) n++;
  return n;
}
