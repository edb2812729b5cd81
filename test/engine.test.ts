// The engine end to end on an in-memory disk: each logging mode brings back what it promises after a
// reopen, OCC conflicts abort with 40001, writes are invisible until acknowledged, groups close by
// size and by timeout (injected clock, no sleeps), redo is one entry per changed row, nothing is
// logged for read-only or aborted transactions, and a failed flush is never a successful commit.

import { describe, expect, it } from 'vitest';
import { Engine, type EngineOptions } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import type { Disk, DiskFile } from '../src/io/disk.js';
import type { TableDef } from '../src/store/schema.js';
import { MotError } from '../src/errors.js';
import { readWal } from '../src/wal/wal-reader.js';
import { decodeRedoBuffer } from '../src/redo/redo-decoder.js';
import { ManualClock, settle } from './helpers/manual-clock.js';

const ACCOUNTS: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32', nullable: false },
    { name: 'owner', type: 'varchar', size: 32, nullable: false },
    { name: 'balance', type: 'int64' },
  ],
  primaryKey: ['id'],
};

const MODES = {
  synchronous: { synchronous_commit: true, enable_group_commit: false },
  group: { synchronous_commit: true, enable_group_commit: true, group_commit_size: 4, group_commit_timeout: '1ms' },
  asynchronous: { synchronous_commit: false, wal_writer_delay: '5ms' },
  off: { enable_redo_log: false },
} as const;

const SEGMENT = { wal_segment_size: '1MB', redo_buffer_size: '256KB' };

function open(disk: Disk, config: Record<string, unknown>, extra: Partial<EngineOptions> = {}): Promise<Engine> {
  return Engine.open('/db', { disk, config: { ...SEGMENT, ...config } as EngineOptions['config'], onWarning: () => undefined, ...extra });
}

async function expectMotError(p: Promise<unknown> | (() => unknown), sqlstate: string): Promise<MotError> {
  try {
    if (typeof p === 'function') await p();
    else await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MotError);
    expect((e as MotError).sqlstate).toBe(sqlstate);
    return e as MotError;
  }
  throw new Error(`expected a MotError with SQLSTATE ${sqlstate}`);
}

async function redoEntriesInWal(disk: Disk): Promise<number[]> {
  const scan = await readWal(disk, '/db/wal', { segmentBytes: 1024 * 1024 });
  return scan.frames.filter((f) => f.type === 1).map((f) => decodeRedoBuffer(f.payload).entries.length);
}

describe('engine: durability per logging mode', () => {
  for (const mode of ['synchronous', 'group', 'asynchronous'] as const) {
    it(`${mode}: reopening after a clean close brings back exactly the committed state`, async () => {
      const disk = new MemDisk();
      const e1 = await open(disk, MODES[mode]);
      expect(e1.mode).toBe(mode);
      await e1.createTable(ACCOUNTS);
      const s = e1.openSession();
      for (let i = 0; i < 20; i++) {
        const tx = s.begin();
        tx.insert('accounts', { id: i, owner: `o${i}`, balance: BigInt(i * 100) });
        await tx.commit();
      }
      const tx = s.begin();
      tx.update('accounts', 3, { balance: -5n });
      tx.delete('accounts', 4);
      await tx.commit();
      const aborted = s.begin();
      aborted.insert('accounts', { id: 999, owner: 'never', balance: 0n });
      aborted.rollback();
      await e1.close();

      const e2 = await open(disk, MODES[mode]);
      const r = e2.openSession().begin();
      expect(r.get('accounts', 3)).toEqual({ id: 3, owner: 'o3', balance: -5n });
      expect(r.get('accounts', 4)).toBeUndefined();
      expect(r.get('accounts', 999)).toBeUndefined();
      expect(r.scan('accounts').map((row) => row.id)).toEqual([...Array(20).keys()].filter((i) => i !== 4));
      expect(e2.recovery.wal.transactionsReplayed).toBe(22); // create table + 20 inserts + 1 update/delete
      await e2.close();
    });
  }

  it('off: nothing is logged and nothing survives a reopen', async () => {
    const disk = new MemDisk();
    const e1 = await open(disk, MODES.off);
    await e1.createTable(ACCOUNTS);
    await e1.openSession().transaction((tx) => tx.insert('accounts', { id: 1, owner: 'a', balance: 1n }));
    await e1.close();
    expect(await disk.exists('/db/wal')).toBe(false);
    const e2 = await open(disk, MODES.off);
    expect(e2.tables()).toHaveLength(0);
    await e2.close();
  });
});

describe('engine: redo entries', () => {
  it('logs one entry per changed row: 3 inserts, 2 deletes, 1 update = 6 entries in one record', async () => {
    const disk = new MemDisk();
    const e = await open(disk, MODES.synchronous);
    await e.createTable(ACCOUNTS);
    const s = e.openSession();
    await s.transaction((tx) => {
      for (let i = 10; i < 13; i++) tx.insert('accounts', { id: i, owner: 'x', balance: 0n });
    });
    const before = (await redoEntriesInWal(disk)).length;
    await s.transaction((tx) => {
      for (let i = 20; i < 23; i++) tx.insert('accounts', { id: i, owner: 'y', balance: 0n });
      tx.delete('accounts', 10);
      tx.delete('accounts', 11);
      tx.update('accounts', 12, { balance: 7n });
    });
    const entries = await redoEntriesInWal(disk);
    expect(entries.length).toBe(before + 1);
    expect(entries.at(-1)).toBe(6);
    await e.close();
  });

  it('logs nothing for read-only and aborted transactions', async () => {
    const disk = new MemDisk();
    const e = await open(disk, MODES.synchronous);
    await e.createTable(ACCOUNTS);
    const s = e.openSession();
    await s.transaction((tx) => tx.insert('accounts', { id: 1, owner: 'a', balance: 1n }));
    const walBefore = e.stats().walEndLsn;
    await s.transaction((tx) => tx.get('accounts', 1));
    const tx = s.begin();
    tx.update('accounts', 1, { balance: 2n });
    tx.rollback();
    expect(e.stats().walEndLsn).toBe(walBefore);
    await e.close();
  });

  it('logs only the changed columns of an update (the delta)', async () => {
    const disk = new MemDisk();
    const e = await open(disk, MODES.synchronous);
    await e.createTable({ ...ACCOUNTS, columns: [...ACCOUNTS.columns, { name: 'notes', type: 'varchar', size: 1000 }] });
    const s = e.openSession();
    await s.transaction((tx) => tx.insert('accounts', { id: 1, owner: 'a', balance: 1n, notes: 'n'.repeat(900) }));
    const l0 = e.stats().walEndLsn;
    await s.transaction((tx) => tx.update('accounts', 1, { balance: 2n }));
    expect(e.stats().walEndLsn - l0).toBeLessThan(200);
    await e.close();
  });
});

describe('engine: optimistic concurrency', () => {
  it('two interleaved transactions updating one row: the second to commit fails with 40001', async () => {
    const disk = new MemDisk();
    const e = await open(disk, MODES.synchronous);
    await e.createTable(ACCOUNTS);
    await e.openSession().transaction((tx) => tx.insert('accounts', { id: 1, owner: 'a', balance: 100n }));
    const a = e.openSession().begin();
    const b = e.openSession().begin();
    const ra = a.get('accounts', 1)!;
    const rb = b.get('accounts', 1)!;
    a.update('accounts', 1, { balance: (ra.balance as bigint) + 10n });
    b.update('accounts', 1, { balance: (rb.balance as bigint) + 20n });
    await a.commit();
    const err = await expectMotError(b.commit(), '40001');
    expect(err.message).toMatch(/could not serialize access due to concurrent update/);
    expect(err.rc).toBe('RC_SERIALIZATION_FAILURE');
    expect(b.state).toBe('aborted');
    expect(e.openSession().begin().get('accounts', 1)!.balance).toBe(110n);
    await e.close();
  });

  it('a reader whose row changed before it commits fails validation (no lost update through reads)', async () => {
    const disk = new MemDisk();
    const e = await open(disk, MODES.synchronous);
    await e.createTable(ACCOUNTS);
    await e.openSession().transaction((tx) => {
      tx.insert('accounts', { id: 1, owner: 'a', balance: 100n });
      tx.insert('accounts', { id: 2, owner: 'b', balance: 0n });
    });
    const reader = e.openSession().begin();
    const seen = reader.get('accounts', 1)!.balance as bigint;
    await e.openSession().transaction((tx) => tx.update('accounts', 1, { balance: 0n }));
    reader.update('accounts', 2, { balance: seen });
    await expectMotError(reader.commit(), '40001');
    await e.close();
  });

  it('two concurrent inserts of one key: one fails', async () => {
    const disk = new MemDisk();
    const e = await open(disk, MODES.synchronous);
    await e.createTable(ACCOUNTS);
    const a = e.openSession().begin();
    const b = e.openSession().begin();
    a.insert('accounts', { id: 5, owner: 'a', balance: 0n });
    b.insert('accounts', { id: 5, owner: 'b', balance: 0n });
    await a.commit();
    await expectMotError(b.commit(), '23505');
    await e.close();
  });

  it('group mode: writes are invisible to others until the group is flushed, and a writer of the same row aborts meanwhile', async () => {
    const disk = new MemDisk();
    const clock = new ManualClock();
    const e = await open(disk, { ...MODES.group, group_commit_size: 16, group_commit_timeout: '10ms' }, { clock });
    const created = e.createTable(ACCOUNTS);
    await clock.advance(20_000);
    await created;
    const inserted = e.openSession().transaction((tx) => tx.insert('accounts', { id: 1, owner: 'a', balance: 1n }));
    await clock.advance(20_000);
    await inserted;
    const writer = e.openSession().begin();
    writer.update('accounts', 1, { balance: 2n });
    let acked = false;
    const committing = writer.commit().then(() => (acked = true));
    await settle();
    expect(acked).toBe(false);
    expect(e.openSession().begin().get('accounts', 1)!.balance).toBe(1n);
    const other = e.openSession().begin();
    other.update('accounts', 1, { balance: 3n });
    await expectMotError(other.commit(), '40001');
    await clock.advance(10_000);
    await committing;
    expect(acked).toBe(true);
    expect(e.openSession().begin().get('accounts', 1)!.balance).toBe(2n);
    await e.close();
  });
});

describe('engine: group commit', () => {
  async function groupEngine(size: number, timeout: string) {
    const disk = new MemDisk();
    const clock = new ManualClock();
    const e = await open(disk, { ...MODES.group, group_commit_size: size, group_commit_timeout: timeout, sockets: 2, cores_per_socket: 8, affinity_mode: 'equal-per-socket' }, { clock });
    const created = e.createTable(ACCOUNTS);
    await clock.advance(300_000); // longer than any group_commit_timeout used below
    await created;
    return { e, clock };
  }

  it('closes a group when it reaches group_commit_size, acknowledging all members together in join order', async () => {
    const { e, clock } = await groupEngine(4, '200ms');
    const sessions = Array.from({ length: 8 }, () => e.openSession());
    const onSocket0 = sessions.filter((s) => s.socket === 0);
    expect(onSocket0).toHaveLength(4);
    const order: number[] = [];
    const commits = onSocket0.map((s, i) => s.transaction((tx) => tx.insert('accounts', { id: i, owner: 'x', balance: 0n })).then(() => order.push(i)));
    await settle();
    // Full group: closed by size with no time passing.
    await Promise.all(commits);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(e.stats().groupsClosedBySize).toBe(1);
    expect(e.stats().groupsClosedByTimeout).toBe(1); // the CREATE TABLE's lone group
    await clock.advance(0);
    await e.close();
  });

  it('closes a lone transaction\'s group only at group_commit_timeout (the light-load pathology)', async () => {
    const { e, clock } = await groupEngine(16, '10ms');
    const s = e.openSession();
    let done = false;
    const p = s.transaction((tx) => tx.insert('accounts', { id: 1, owner: 'x', balance: 0n })).then(() => (done = true));
    await clock.advance(9_999);
    expect(done).toBe(false);
    await clock.advance(1);
    await p;
    expect(done).toBe(true);
    expect(e.stats().groupsClosedByTimeout).toBe(2);
    await e.close();
  });

  it('keeps one group per socket: sockets fill their own groups in parallel', async () => {
    const { e, clock } = await groupEngine(3, '50ms');
    const sessions = Array.from({ length: 6 }, () => e.openSession());
    const flushedBefore = e.stats().flushes;
    await Promise.all(sessions.map((s, i) => s.transaction((tx) => tx.insert('accounts', { id: i, owner: 'x', balance: 0n }))));
    const st = e.stats();
    expect(st.flushes - flushedBefore).toBe(2);
    expect(st.groupsClosedBySize).toBe(2);
    await clock.advance(0);
    await e.close();
  });
});

describe('engine: errors carry MOT codes and SQLSTATEs', () => {
  it('unique violation, null violation, missing table, too many clients', async () => {
    const disk = new MemDisk();
    const e = await open(disk, { ...MODES.synchronous, max_connections: 3 });
    await e.createTable(ACCOUNTS);
    const s = e.openSession();
    await s.transaction((tx) => tx.insert('accounts', { id: 1, owner: 'a', balance: 0n }));
    const tx = s.begin();
    const dup = await expectMotError(() => tx.insert('accounts', { id: 1, owner: 'b', balance: 0n }), '23505');
    expect(dup.rc).toBe('RC_UNIQUE_VIOLATION');
    expect(dup.detail ?? dup.message).toMatch(/1/);
    const nul = await expectMotError(() => tx.insert('accounts', { id: 2, owner: null, balance: 0n }), 'HV000');
    expect(nul.rc).toBe('RC_NULL_VIOLATION');
    expect(nul.detail).toMatch(/owner/);
    const missing = await expectMotError(() => tx.get('nope', 1), '42P01');
    expect(missing.message).toMatch(/nope/);
    tx.rollback();
    e.openSession();
    e.openSession();
    const tooMany = await expectMotError(() => e.openSession(), '53300');
    expect(tooMany.message).toMatch(/too many clients/);
    await e.close();
  });
});

/** A disk whose flushes fail (EIO) once `failing` is set, as an fsync failure would. */
class FailingDisk implements Disk {
  failing = false;
  constructor(private readonly inner: Disk) {}
  get description() {
    return 'failing';
  }
  async open(path: string, o?: { create?: boolean }): Promise<DiskFile> {
    const f = await this.inner.open(path, o);
    const self = this;
    const fail = () => Object.assign(new Error(`EIO: i/o error, fdatasync '${path}'`), { code: 'EIO', syscall: 'fdatasync' });
    return {
      path: f.path,
      size: () => f.size(),
      read: (a, b) => f.read(a, b),
      write: (a, b) => f.write(a, b),
      truncate: (n) => f.truncate(n),
      close: () => f.close(),
      async sync() {
        if (self.failing) throw fail();
        return f.sync();
      },
      async writeAndSync(a, b, lane) {
        if (self.failing) throw fail();
        return f.writeAndSync(a, b, lane);
      },
    };
  }
  readFile(p: string) {
    return this.inner.readFile(p);
  }
  list(d: string) {
    return this.inner.list(d);
  }
  mkdirp(d: string) {
    return this.inner.mkdirp(d);
  }
  exists(p: string) {
    return this.inner.exists(p);
  }
  rename(a: string, b: string) {
    return this.inner.rename(a, b);
  }
  remove(p: string) {
    return this.inner.remove(p);
  }
  syncDir(d: string) {
    return this.inner.syncDir(d);
  }
  lockDirectory(d: string) {
    return this.inner.lockDirectory(d);
  }
  directoryLockHolder(d: string) {
    return this.inner.directoryLockHolder(d);
  }
  close() {
    return this.inner.close();
  }
}

describe('engine: a failed flush is never a successful commit', () => {
  for (const mode of ['synchronous', 'group'] as const) {
    it(`${mode}: the waiting commit fails, its writes are not applied, and later commits fail until reopen`, async () => {
      const disk = new FailingDisk(new MemDisk());
      const clock = new ManualClock();
      const e = await open(disk, MODES[mode], { clock });
      const created = e.createTable(ACCOUNTS);
      await clock.advance(10_000);
      await created;
      disk.failing = true;
      const s = e.openSession();
      const p = s.transaction((tx) => tx.insert('accounts', { id: 1, owner: 'a', balance: 0n }));
      const caught = p.catch((x: unknown) => x);
      await clock.advance(10_000);
      const err = (await caught) as MotError;
      expect(err).toBeInstanceOf(MotError);
      // The flush failed: its redo may or may not be on disk, so the outcome is unknown (08007), never "committed".
      expect(err.sqlstate).toBe('08007');
      expect(err.message).toMatch(/outcome of the commit is unknown: an fdatasync/);
      expect(e.openSession().begin().get('accounts', 1)).toBeUndefined();
      disk.failing = false;
      const later = await expectMotError(s.transaction((tx) => tx.insert('accounts', { id: 2, owner: 'b', balance: 0n })), '25006');
      expect(later.message).toMatch(/read-only until it is reopened/);
      await e.close().catch(() => undefined);
      const again = await open(disk, MODES[mode], { clock });
      const r = again.openSession().begin();
      expect(r.get('accounts', 1)).toBeUndefined();
      again.openSession().transaction((tx) => tx.insert('accounts', { id: 3, owner: 'c', balance: 0n }));
      await clock.advance(10_000);
      await settle();
      expect(again.openSession().begin().get('accounts', 3)).toBeDefined();
      await again.close();
    });
  }
});

describe('engine: a key inserted then deleted by one transaction', () => {
  it('stays invisible to it, logs nothing, and aborts it if another transaction commits that key meanwhile (found by the model-based simulation, seed 1253552670)', async () => {
    const disk = new MemDisk();
    const e = await open(disk, MODES.asynchronous);
    await e.createTable(ACCOUNTS);
    const s1 = e.openSession().begin();
    const s2 = e.openSession().begin();
    s1.insert('accounts', { id: 7, owner: 'one', balance: 1n });
    s2.insert('accounts', { id: 7, owner: 'two', balance: 2n });
    await s2.commit();
    expect(s1.delete('accounts', 7)).toBe(true);
    expect(s1.get('accounts', 7)).toBeUndefined();
    expect(s1.scan('accounts')).toEqual([]);
    expect(s1.delete('accounts', 7)).toBe(false);
    expect(s1.update('accounts', 7, { balance: 3n })).toBe(false);
    await expectMotError(s1.commit(), '40001');

    await e.flush();
    const lsn = e.stats().walEndLsn;
    const alone = e.openSession().begin();
    alone.insert('accounts', { id: 8, owner: 'x', balance: 0n });
    alone.delete('accounts', 8);
    alone.insert('accounts', { id: 8, owner: 'y', balance: 0n });
    alone.delete('accounts', 8);
    await alone.commit();
    await e.flush();
    expect(e.stats().walEndLsn).toBe(lsn); // nothing logged
    expect(e.openSession().begin().get('accounts', 8)).toBeUndefined();
    await e.close();
  });
});
