// Regression tests for the transaction-layer defects of issue 9 ("Correctness first"), each named
// after the defect it pins: redo that could not be replayed, unique keys checked after the redo was
// durable, write skew, a refused insert that was not a read, a remembered slot that held another row,
// phantoms, column names inherited from Object.prototype and hostile API values. Every test reopens
// the directory where durability is involved: a commit is only correct if it also replays.

import { describe, expect, it } from 'vitest';
import { Engine, type EngineOptions } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import type { Disk } from '../src/io/disk.js';
import type { TableDef } from '../src/store/schema.js';
import { MotError } from '../src/errors.js';
import { ManualClock, settle } from './helpers/manual-clock.js';

const MODES = {
  synchronous: { synchronous_commit: true, enable_group_commit: false },
  group: { synchronous_commit: true, enable_group_commit: true, group_commit_size: 16, group_commit_timeout: '10ms' },
  asynchronous: { synchronous_commit: false, wal_writer_delay: '5ms' },
} as const;
type Mode = keyof typeof MODES;
const MODE_NAMES = Object.keys(MODES) as Mode[];

const SEGMENT = { wal_segment_size: '1MB', redo_buffer_size: '256KB' };

function open(disk: Disk, mode: Mode, extra: Partial<EngineOptions> = {}): Promise<Engine> {
  return Engine.open('/db', { disk, config: { ...SEGMENT, ...MODES[mode] }, onWarning: () => undefined, ...extra });
}

/** The error `p` rejects (or `f` throws) with; fails the test if it is not a MotError with this SQLSTATE. */
async function motError(p: Promise<unknown> | (() => unknown), sqlstate: string): Promise<MotError> {
  try {
    if (typeof p === 'function') await p();
    else await p;
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(MotError);
    expect((e as MotError).sqlstate, (e as MotError).message).toBe(sqlstate);
    return e as MotError;
  }
  throw new Error(`expected a MotError with SQLSTATE ${sqlstate}`);
}

/** Engine on a manual clock: group and async flushes happen only when the test advances time. */
async function manual(mode: Mode): Promise<{ disk: MemDisk; clock: ManualClock; e: Engine; run: <T>(p: Promise<T>) => Promise<T> }> {
  const disk = new MemDisk();
  const clock = new ManualClock();
  const e = await open(disk, mode, { clock });
  const run = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    void p.then(() => (done = true), () => (done = true));
    for (let i = 0; i < 100 && !done; i++) await clock.advance(10_000);
    return p;
  };
  return { disk, clock, e, run };
}

const KV: TableDef = {
  name: 'kv',
  columns: [
    { name: 'k', type: 'int32', nullable: false },
    { name: 'v', type: 'int32' },
  ],
  primaryKey: ['k'],
};

describe('defect 1: a commit whose redo cannot be replayed (omitted nullable columns)', () => {
  for (const mode of MODE_NAMES) {
    it(`${mode}: an insert that omits a nullable column, or gives it undefined, stores NULL and the directory reopens`, async () => {
      const disk = new MemDisk();
      const e = await open(disk, mode);
      await e.createTable(KV);
      const s = e.openSession();
      await s.transaction((tx) => tx.insert('kv', { k: 1 }));
      await s.transaction((tx) => tx.insert('kv', { k: 2, v: undefined as unknown as null }) /* a JavaScript caller's undefined */);
      await s.transaction((tx) => {
        tx.insert('kv', { k: 3, v: 7 });
        tx.update('kv', 3, { v: undefined as unknown as null }); // undefined in an update means "unchanged"
      });
      expect(s.begin().get('kv', 1)).toEqual({ k: 1, v: null });
      s.close();
      await e.close();
      const again = await open(disk, mode);
      const tx = again.openSession().begin();
      expect(tx.scan('kv')).toEqual([
        { k: 1, v: null },
        { k: 2, v: null },
        { k: 3, v: 7 },
      ]);
      await again.close();
    });
  }
});

const USERS: TableDef = {
  name: 'users',
  columns: [
    { name: 'id', type: 'int64', nullable: false },
    { name: 'email', type: 'varchar', size: 40 },
    { name: 'team', type: 'int32' },
  ],
  primaryKey: ['id'],
  indexes: [
    { name: 'users_email', columns: ['email'], unique: true },
    { name: 'users_team', columns: ['team'] },
  ],
};

describe('defect 2: a unique secondary-index violation is refused before the redo is logged', () => {
  for (const mode of MODE_NAMES) {
    it(`${mode}: a duplicate unique value is refused with 23505, nothing is logged, no lock is left behind, and the directory reopens`, async () => {
      const { disk, e, run } = await manual(mode);
      await run(e.createTable(USERS));
      const s = e.openSession();
      await run(s.transaction((tx) => tx.insert('users', { id: 1n, email: 'a@x', team: 1 })));
      const walBefore = e.stats().walEndLsn;
      // In one statement: refused at once.
      const dup = s.begin();
      await motError(() => dup.insert('users', { id: 2n, email: 'a@x', team: 1 }), '23505');
      dup.rollback();
      // Two concurrent transactions inserting one unique value: one commits, the other is refused.
      const a = e.openSession().begin();
      const b = e.openSession().begin();
      a.insert('users', { id: 3n, email: 'b@x', team: 2 });
      b.insert('users', { id: 4n, email: 'b@x', team: 2 });
      const ca = a.commit();
      const cb = b.commit();
      const [ra, rb] = await run(Promise.allSettled([ca, cb]));
      expect(ra.status).toBe('fulfilled');
      expect(rb.status).toBe('rejected');
      expect(['23505', '40001']).toContain(((rb as PromiseRejectedResult).reason as MotError).sqlstate);
      expect(b.state).toBe('aborted');
      // An update moving a row onto a taken unique value is refused too.
      const u = s.begin();
      await motError(() => u.update('users', 1n, { email: 'b@x' }), '23505');
      u.rollback();
      // Nothing is locked: row 3 can be updated.
      await run(s.transaction((tx) => tx.update('users', 3n, { team: 9 })));
      expect(e.stats().walEndLsn).toBeGreaterThan(walBefore);
      await run(e.close());
      const again = await open(disk, mode);
      const rows = again.openSession().begin().scan('users');
      expect(rows.map((r) => [r.id, r.email, r.team])).toEqual([
        [1n, 'a@x', 1],
        [3n, 'b@x', 9],
      ]);
      await again.close();
    });

    it(`${mode}: swapping unique values between two rows (through a third value), and freeing then reusing one, commit and replay`, async () => {
      const { disk, e, run } = await manual(mode);
      await run(e.createTable(USERS));
      const s = e.openSession();
      await run(
        s.transaction((tx) => {
          tx.insert('users', { id: 1n, email: 'a', team: 1 });
          tx.insert('users', { id: 2n, email: 'b', team: 1 });
          tx.insert('users', { id: 3n, email: 'c', team: 1 });
        }),
      );
      // Checked per statement, as PostgreSQL checks a non-deferrable unique constraint: a direct swap
      // is refused at its first step...
      const direct = s.begin();
      await motError(() => direct.update('users', 1n, { email: 'b' }), '23505');
      direct.rollback();
      // ...one through a free value commits; its write set is a swap, applied and replayed whole.
      await run(
        s.transaction((tx) => {
          tx.update('users', 1n, { email: 'tmp' });
          tx.update('users', 2n, { email: 'a' });
          tx.update('users', 1n, { email: 'b' });
        }),
      );
      await run(
        s.transaction((tx) => {
          tx.delete('users', 3n);
          tx.insert('users', { id: 4n, email: 'c', team: 2 });
        }),
      );
      // Two rows of one transaction may not share a unique value.
      const both = s.begin();
      both.insert('users', { id: 5n, email: 'd', team: 1 });
      await motError(() => both.insert('users', { id: 6n, email: 'd', team: 1 }), '23505');
      both.rollback();
      await run(e.close());
      const again = await open(disk, mode);
      const rows = again.openSession().begin().scan('users');
      expect(rows.map((r) => [r.id, r.email])).toEqual([
        [1n, 'b'],
        [2n, 'a'],
        [4n, 'c'],
      ]);
      await again.close();
    });
  }
});

describe('a unique key a statement found free is validated at commit, even after the row moved off it (found by the oracle: asynchronous, seed 9200055)', () => {
  for (const mode of MODE_NAMES) {
    it(`${mode}: insert with u3, another transaction commits u3, update to u0: the first fails with 40001`, async () => {
      const { e, run } = await manual(mode);
      await run(e.createTable(USERS));
      const t2 = e.openSession().begin();
      t2.insert('users', { id: 9n, email: 'u3', team: 1 }); // "u3 is free"
      await run(e.openSession().transaction((tx) => tx.insert('users', { id: 3n, email: 'u3', team: 1 })));
      t2.update('users', 9n, { email: 'u0' }); // its claim moves off u3; what it saw does not change
      await motError(run(t2.commit()), '40001');
      await run(e.close());
    });
  }
});

describe('a unique key found free stays validated when the row that took it meanwhile is written later by the same transaction (found by crash-test: asynchronous, seed 376, --checkpoint-every-us 400)', () => {
  for (const mode of MODE_NAMES) {
    it(`${mode}: insert with u3 (free), another transaction moves row 3 onto u3, the first then writes row 3 and moves its own row off u3: 40001`, async () => {
      const { e, run } = await manual(mode);
      await run(e.createTable(USERS));
      await run(e.openSession().transaction((tx) => tx.insert('users', { id: 3n, email: 'u1', team: 1 })));
      const t2 = e.openSession().begin();
      t2.insert('users', { id: 9n, email: 'u3', team: 1 }); // "u3 is free"
      await run(e.openSession().transaction((tx) => tx.update('users', 3n, { email: 'u3' })));
      t2.update('users', 9n, { email: 'u0' });
      t2.update('users', 3n, { team: 2 }); // row 3 now holds u3, and t2 writes it: not a row t2 freed
      await motError(run(t2.commit()), '40001');
      await run(e.close());
    });

    it(`${mode}: a key found free because this transaction had moved the committed row off it first commits`, async () => {
      const { e, run } = await manual(mode);
      await run(e.createTable(USERS));
      await run(e.openSession().transaction((tx) => tx.insert('users', { id: 3n, email: 'u3', team: 1 })));
      const t2 = e.openSession().begin();
      t2.update('users', 3n, { email: 'u1' }); // frees u3 in t2's view
      t2.insert('users', { id: 9n, email: 'u3', team: 1 }); // "u3 is free": row 3 held it, t2 freed it
      expect((await run(t2.commit())).csn).toBeGreaterThan(0);
      await run(e.close());
    });
  }
});

describe('defect 4: write skew (validation skipped while another transaction held locks on rows it read)', () => {
  for (const mode of MODE_NAMES) {
    it(`${mode}: two transactions each read x and y and withdraw 100 from their own row: only one commits`, async () => {
      const { disk, e, run } = await manual(mode);
      await run(e.createTable(KV));
      await run(
        e.openSession().transaction((tx) => {
          tx.insert('kv', { k: 1, v: 50 }); // x
          tx.insert('kv', { k: 2, v: 50 }); // y
        }),
      );
      const t1 = e.openSession().begin();
      const t2 = e.openSession().begin();
      const withdraw = (tx: typeof t1, own: number): void => {
        const sum = (tx.get('kv', 1)!.v as number) + (tx.get('kv', 2)!.v as number);
        if (sum >= 100) tx.update('kv', own, { v: (tx.get('kv', own)!.v as number) - 100 });
      };
      withdraw(t2, 2);
      withdraw(t1, 1);
      const results = await run(Promise.allSettled([t2.commit(), t1.commit()]));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((failed.reason as MotError).sqlstate).toBe('40001');
      const rows = e.openSession().begin().scan('kv');
      expect(rows.reduce((sum, r) => sum + (r.v as number), 0)).toBe(0);
      await run(e.close());
      await (await open(disk, mode)).close();
    });
  }

  it('the same history through SQL in two sessions: one COMMIT fails with 40001', async () => {
    const { e, run } = await manual('group');
    await run(e.sql('CREATE TABLE acct (id int PRIMARY KEY, bal int)'));
    await run(e.sql('INSERT INTO acct VALUES (1, 50), (2, 50)'));
    const s1 = e.openSession();
    const s2 = e.openSession();
    await run(e.sql('BEGIN', s1));
    await run(e.sql('BEGIN', s2));
    await run(e.sql('SELECT * FROM acct', s2));
    await run(e.sql('SELECT * FROM acct', s1));
    await run(e.sql('UPDATE acct SET bal = -50 WHERE id = 2', s2));
    await run(e.sql('UPDATE acct SET bal = -50 WHERE id = 1', s1));
    const results = await run(Promise.allSettled([e.sql('COMMIT', s2), e.sql('COMMIT', s1)]));
    const failures = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failures).toHaveLength(1);
    expect((failures[0]!.reason as MotError).sqlstate).toBe('40001');
    const [sum] = await run(e.sql('SELECT * FROM acct'));
    expect(sum!.rows.map((r) => Number(r[1]))).not.toEqual([-50, -50]);
    await run(e.close());
  });
});

describe('defect 5: an insert refused with 23505 is a read of the key', () => {
  for (const mode of MODE_NAMES) {
    it(`${mode}: the key it saw is deleted by another transaction before it commits: it fails with 40001`, async () => {
      const { e, run } = await manual(mode);
      await run(e.createTable(KV));
      const s = e.openSession();
      await run(s.transaction((tx) => tx.insert('kv', { k: 1, v: 1 })));
      const t1 = e.openSession().begin();
      await motError(() => t1.insert('kv', { k: 1, v: 2 }), '23505');
      t1.insert('kv', { k: 10, v: 0 }); // "the key existed", recorded elsewhere
      await run(s.transaction((tx) => tx.delete('kv', 1)));
      await motError(run(t1.commit()), '40001');
      await run(e.close());
    });
  }
});

describe('defect 6: a remembered slot must still hold the same row', () => {
  for (const mode of MODE_NAMES) {
    it(`${mode}: the row a transaction updated is deleted (and its slot reused) by others: reading it fails with 40001, never another row`, async () => {
      const { e, run } = await manual(mode);
      await run(e.createTable(KV));
      const other = e.openSession();
      await run(other.transaction((tx) => tx.insert('kv', { k: 1, v: 1 })));
      const t1 = e.openSession().begin();
      t1.update('kv', 1, { v: 100 });
      await run(other.transaction((tx) => tx.delete('kv', 1)));
      await motError(() => t1.get('kv', 1), '40001');
      const t2 = e.openSession().begin();
      t2.update('kv', 1, { v: 5 }); // there is no row 1: nothing to update
      expect(t2.get('kv', 1)).toBeUndefined();
      t2.rollback();

      await run(other.transaction((tx) => tx.insert('kv', { k: 1, v: 1 })));
      const t3 = e.openSession().begin();
      t3.update('kv', 1, { v: 100 });
      await run(other.transaction((tx) => tx.delete('kv', 1)));
      await run(other.transaction((tx) => tx.insert('kv', { k: 2, v: 2 }))); // reuses the freed slot
      const seen = (() => {
        try {
          return t3.get('kv', 1);
        } catch (err) {
          expect((err as MotError).sqlstate).toBe('40001');
          return 'refused';
        }
      })();
      expect(seen).toBe('refused');
      expect(t3.state).toBe('aborted');
      await run(e.close());
    });
  }
});

describe('defect 7: phantoms (a row inserted into a range a transaction scanned)', () => {
  for (const mode of MODE_NAMES) {
    it(`${mode}: count-then-insert: a committed insert into the scanned range aborts the scanner`, async () => {
      const { e, run } = await manual(mode);
      await run(e.createTable(KV));
      const s = e.openSession();
      await run(s.transaction((tx) => [1, 2, 3].forEach((k) => tx.insert('kv', { k, v: 0 }))));
      const t1 = e.openSession().begin();
      const count = t1.scan('kv', 0, 100).length;
      t1.insert('kv', { k: 1000, v: count });
      await run(s.transaction((tx) => tx.insert('kv', { k: 50, v: 0 })));
      await motError(run(t1.commit()), '40001');
      await run(e.close());
    });

    it(`${mode}: a scan with a limit reads only up to its last row: an insert past it does not abort`, async () => {
      const { e, run } = await manual(mode);
      await run(e.createTable(KV));
      const s = e.openSession();
      await run(s.transaction((tx) => [1, 2, 3, 4].forEach((k) => tx.insert('kv', { k, v: 0 }))));
      const t1 = e.openSession().begin();
      expect(t1.scan('kv', 0, 100, { limit: 2 }).map((r) => r.k)).toEqual([1, 2]);
      t1.insert('kv', { k: 1000, v: 2 });
      await run(s.transaction((tx) => tx.insert('kv', { k: 50, v: 0 })));
      await run(t1.commit());
      const t2 = e.openSession().begin();
      expect(t2.scan('kv', 0, 100, { limit: 2 }).map((r) => r.k)).toEqual([1, 2]);
      t2.insert('kv', { k: 1001, v: 2 });
      await run(s.transaction((tx) => tx.insert('kv', { k: 0, v: 0 })));
      await motError(run(t2.commit()), '40001');
      await run(e.close());
    });
  }

  it('group: an insert into the scanned range still waiting for its flush aborts the scanner', async () => {
    const { e, run, clock } = await manual('group');
    await run(e.createTable(KV));
    const t1 = e.openSession().begin();
    expect(t1.scan('kv', 0, 100)).toEqual([]);
    t1.insert('kv', { k: 1000, v: 0 });
    const w = e.openSession().begin();
    w.insert('kv', { k: 5, v: 0 });
    const pending = w.commit();
    await settle();
    await motError(t1.commit(), '40001');
    await clock.advance(20_000);
    await pending;
    await run(e.close());
  });
});

describe('defect 16: columns named like Object.prototype members', () => {
  const PROTO: TableDef = {
    name: 'proto',
    columns: [
      { name: 'constructor', type: 'int32', nullable: false },
      { name: 'toString', type: 'varchar', size: 10 },
      { name: 'valueOf', type: 'int64' },
      { name: 'hasOwnProperty', type: 'bool' },
    ],
    primaryKey: ['constructor'],
    indexes: [{ name: 'proto_vo', columns: ['valueOf'], unique: true }],
  };
  for (const mode of MODE_NAMES) {
    it(`${mode}: inserts that omit them, updates of them, deletes and a reopen all work`, async () => {
      const disk = new MemDisk();
      const e = await open(disk, mode);
      await e.createTable(PROTO);
      const s = e.openSession();
      await s.transaction((tx) => tx.insert('proto', { constructor: 1 }));
      await s.transaction((tx) => tx.insert('proto', { constructor: 2, toString: 'two', valueOf: 2n }));
      await s.transaction((tx) => tx.update('proto', 1, { toString: 'one', hasOwnProperty: true }));
      await s.transaction((tx) => tx.update('proto', 2, { valueOf: 20n }));
      await s.transaction((tx) => tx.insert('proto', { constructor: 3 }));
      await s.transaction((tx) => tx.delete('proto', 3));
      const expected = [
        { constructor: 1, toString: 'one', valueOf: null, hasOwnProperty: true },
        { constructor: 2, toString: 'two', valueOf: 20n, hasOwnProperty: null },
      ];
      expect(s.begin().scan('proto')).toEqual(expected);
      s.close();
      await e.close();
      const again = await open(disk, mode);
      expect(again.openSession().begin().scan('proto')).toEqual(expected);
      await again.close();
    });
  }
});

describe('defect 18: hostile API values get a MotError naming the culprit, never a TypeError', () => {
  it('null or non-object rows, null-prototype values and keys, null scan bounds', async () => {
    const disk = new MemDisk();
    const e = await open(disk, 'synchronous');
    await e.createTable(KV);
    const tx = e.openSession().begin();
    for (const row of [null, undefined, 42, 'row', [1, 2]]) {
      const err = await motError(() => tx.insert('kv', row as never), '22023');
      expect(err.message).toContain('kv');
    }
    await motError(() => tx.update('kv', 1, null as never), '22023');
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 5;
    bare.v = 6;
    tx.insert('kv', bare as never); // a null-prototype row is a fine row
    expect(tx.get('kv', 5)).toEqual({ k: 5, v: 6 });
    const weird = await motError(() => tx.insert('kv', { k: 7, v: Object.create(null) }), '42804');
    expect(weird.message).toContain('"v"');
    // A key of the wrong shape is an invalid argument (22023), of the wrong type a datatype mismatch (42804).
    const badKey = async (f: () => unknown): Promise<void> => {
      try {
        f();
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(MotError);
        expect(['22023', '42804']).toContain((err as MotError).sqlstate);
        expect((err as MotError).message).toContain('"kv"');
        return;
      }
      throw new Error('expected a MotError');
    };
    for (const key of [Object.create(null), undefined, null, {}, [1, 2], 1.5, 'x', Symbol('k')]) {
      await badKey(() => tx.get('kv', key as never));
      await badKey(() => tx.delete('kv', key as never));
      await badKey(() => tx.update('kv', key as never, { v: 1 }));
      if (key !== undefined) await badKey(() => tx.scan('kv', key as never)); // undefined: no bound
    }
    await motError(() => tx.scan('kv', 0, 10, { limit: -1 }), '22023');
    await motError(() => tx.insert('nosuch', { k: 1 }), '42P01');
    tx.rollback();
    await motError(() => e.createTable(null as never), '22023');
    await e.close();
  });
});

describe('DROP or TRUNCATE while a transaction on the table commits (found while fixing defect 14)', () => {
  for (const mode of MODE_NAMES) {
    for (const ddl of ['drop', 'truncate'] as const) {
      it(`${mode}: ${ddl} issued before or after the commit: one serial order explains both answers, and the directory reopens`, async () => {
        const { disk, e, run } = await manual(mode);
        await run(e.createTable(KV));
        await run(e.openSession().transaction((tx) => tx.insert('kv', { k: 1, v: 1 })));
        const statement = (): Promise<unknown> => (ddl === 'drop' ? e.dropTable('kv') : e.truncateTable('kv'));
        // The DDL first: the commit that follows aborts (the table is locked until the DDL is applied).
        const t1 = e.openSession().begin();
        t1.insert('kv', { k: 2, v: 2 });
        const first = await run(Promise.allSettled([statement(), t1.commit()]));
        expect(first[0]!.status).toBe('fulfilled');
        if (mode === 'asynchronous' && ddl === 'truncate') {
          // Applied at once, before the commit validates: the insert simply comes after the truncate.
          expect(first[1]!.status).toBe('fulfilled');
          expect(e.openSession().begin().scan('kv').map((r) => r.k)).toEqual([2]);
        } else {
          expect(first[1]!.status).toBe('rejected');
          expect(['40001', '42P01']).toContain(((first[1] as PromiseRejectedResult).reason as MotError).sqlstate);
        }
        if (ddl === 'drop') await run(e.createTable(KV));
        await run(e.openSession().transaction((tx) => tx.insert('kv', { k: 3, v: 3 })));
        // The commit first: in sync and group modes it holds its keys until applied, and the DDL is refused meanwhile.
        const t2 = e.openSession().begin();
        t2.insert('kv', { k: 4, v: 4 });
        const second = await run(Promise.allSettled([t2.commit(), statement()]));
        expect(second[0]!.status).toBe('fulfilled');
        if (second[1]!.status === 'rejected') expect(((second[1] as PromiseRejectedResult).reason as MotError).sqlstate).toBe('55006');
        const expected = e.tables().some((t) => t.name === 'kv') ? e.openSession().begin().scan('kv') : undefined;
        await run(e.close());
        const again = await open(disk, mode);
        const after = again.tables().some((t) => t.name === 'kv') ? again.openSession().begin().scan('kv') : undefined;
        expect(after).toEqual(expected);
        await again.close();
      });
    }
  }
});
