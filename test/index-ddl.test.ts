// CREATE INDEX and DROP INDEX on live tables (engine.createIndex / dropIndex): logged as CREATE_INDEX
// and DROP_INDEX redo entries, replayed after a crash in every logging mode, carried by full and
// incremental checkpoints and by PITR restores; every refusal (names, MOT's limits, unknown columns,
// duplicate names, duplicate rows under a new unique index) comes before anything is logged; a
// transaction that used the table before its indexes changed cannot commit on that stale view; the
// DDL is refused while commits hold keys of the table or a checkpoint runs.

import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine.js';
import { isMotError, type MotError } from '../src/errors.js';
import type { TableDef } from '../src/store/schema.js';
import { readWal } from '../src/wal/wal-reader.js';
import { decodeRedoBuffer } from '../src/redo/redo-decoder.js';
import { RedoOp } from '../src/redo/redo-format.js';
import { SYS_LOGIN } from '../src/admin/accounts.js';
import { restoreFromPitr } from '../src/admin/pitr-restore.js';
import { ACCOUNTS, engineState, openEngine, sim, world, type World } from './helpers/checkpoint-sim.js';
import { ModelDb, defText, type DdlOp, type RecordedOp } from '../src/sim/model.js';
import { checkSerializable } from '../src/sim/serializability.js';
import type { LedgerEntry } from '../src/sim/ledger.js';

const ITEMS: TableDef = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32', nullable: false },
    { name: 'u', type: 'varchar', size: 8 },
    { name: 'g', type: 'int32' },
    { name: 'note', type: 'varchar', size: 250 },
  ],
  primaryKey: ['id'],
};

const MODES = {
  synchronous: { synchronous_commit: true, enable_group_commit: false },
  group: { synchronous_commit: true, enable_group_commit: true, group_commit_size: 4, group_commit_timeout: '1ms' },
  asynchronous: { synchronous_commit: false, wal_writer_delay: '2ms' },
} as const;

async function refusal(w: World, label: string, p: Promise<unknown>): Promise<MotError> {
  const r = await sim(w, label, p.then(() => undefined, (e: unknown) => e));
  if (isMotError(r)) return r;
  throw new Error(`expected ${label} to be refused, got ${String(r)}`);
}

/** Rows 0..n-1 with u = 'u<i>' (distinct), g = i % 3, note NULL for even ids. */
async function loadItems(w: World, e: Engine, n: number): Promise<void> {
  await sim(w, 'create', e.createTable(ITEMS));
  const tx = e.openSession().begin();
  for (let i = 0; i < n; i++) tx.insert('items', { id: i, u: `u${i}`, g: i % 3, ...(i % 2 === 0 ? {} : { note: `n${i}` }) });
  await sim(w, 'load', tx.commit());
}

/** The redo ops in the WAL, in log order (one list per redo buffer; a frame may hold several). */
async function walOps(w: World): Promise<number[][]> {
  const scan = await sim(w, 'read wal', readWal(w.disk, '/db/wal', { segmentBytes: 1024 * 1024 }));
  const out: number[][] = [];
  for (const f of scan.frames) {
    if (f.type !== 1) continue;
    for (let at = 0; at < f.payload.length; ) {
      const bytes = new DataView(f.payload.buffer, f.payload.byteOffset + at, 4).getUint32(0, true);
      out.push(decodeRedoBuffer(f.payload.subarray(at, at + bytes)).entries.map((x) => x.op));
      at += bytes;
    }
  }
  return out;
}

function indexes(e: Engine, table: string): string[] {
  return e.catalog.get(table).schema.indexes.map((i) => `${i.unique ? 'unique ' : ''}${i.name}(${i.columns.map((c) => e.catalog.get(table).schema.columns[c]!.name).join(',')})`);
}

/** A crash: the engine is abandoned and the machine restarts from what was durable. */
async function crashAndReopen(w: World, e: Engine, config: Record<string, string | number | boolean> = {}): Promise<{ w2: World; e2: Engine }> {
  await e.abandon();
  const w2 = world(w.seed + 1000, w.disk.snapshotDurable());
  return { w2, e2: await openEngine(w2, config) };
}

describe('CREATE INDEX / DROP INDEX: logged, replayed, checkpointed', () => {
  for (const [mode, config] of Object.entries(MODES)) {
    it(`${mode}: create and drop index are logged as CREATE_INDEX / DROP_INDEX and replayed after a crash`, async () => {
      const w = world(1);
      const e = await openEngine(w, config);
      await loadItems(w, e, 10);
      const created = await sim(w, 'create u', e.createIndex('items', { name: 'items_u', columns: ['u'], unique: true }));
      await sim(w, 'create g', e.createIndex('items', { name: 'items_g', columns: ['g', 'u'] }));
      await sim(w, 'drop g', e.dropIndex('items', 'items_g'));
      const last = await sim(w, 'create note', e.createIndex('items', { name: 'items_note', columns: ['note'] }));
      expect(last.csn).toBeGreaterThan(created.csn);
      expect(indexes(e, 'items')).toEqual(['unique items_u(u)', 'items_note(note)']);
      await sim(w, 'flush', e.flush()); // asynchronous mode: the DDL resolved before it was durable
      expect((await walOps(w)).filter((ops) => ops[0]! >= RedoOp.CREATE_TABLE)).toEqual([
        [RedoOp.CREATE_TABLE],
        [RedoOp.CREATE_INDEX],
        [RedoOp.CREATE_INDEX],
        [RedoOp.DROP_INDEX],
        [RedoOp.CREATE_INDEX],
      ]);
      const { w2, e2 } = await crashAndReopen(w, e, config);
      expect(e2.recovery.wal.transactionsReplayed).toBe(6);
      expect(indexes(e2, 'items')).toEqual(['unique items_u(u)', 'items_note(note)']);
      expect(e2.catalog.get('items').lookupIndex('items_u', 'u3')).toHaveLength(1);
      expect(e2.catalog.get('items').lookupIndex('items_note', 'n3')).toHaveLength(1);
      const tx = e2.openSession().begin();
      const dup = (() => {
        try {
          tx.insert('items', { id: 99, u: 'u3' });
        } catch (err) {
          return err as MotError;
        }
        return undefined;
      })();
      expect([dup?.sqlstate, dup?.message]).toEqual(['23505', 'duplicate key value violates unique constraint "items_u"']);
      tx.insert('items', { id: 100, u: null, g: 1 }); // NULLs never conflict
      tx.insert('items', { id: 101, u: null, g: 1 });
      await sim(w2, 'commit', tx.commit());
      await sim(w2, 'close', e2.close());
    });
  }

  it('a full checkpoint and incremental ones carry the changed definition: the increment writes the table whole, recovery needs no WAL', async () => {
    const w = world(2);
    const e = await openEngine(w);
    await loadItems(w, e, 30);
    await sim(w, 'full', e.checkpoint());
    await sim(w, 'create', e.createIndex('items', { name: 'items_u', columns: ['u'], unique: true }));
    const tx = e.openSession().begin();
    tx.update('items', 1, { g: 7 });
    await sim(w, 'update', tx.commit());
    const inc1 = await sim(w, 'increment 1', e.incrementCheckpoint());
    // Without the index change only row 1 would be in the increment; the new definition needs all 30.
    expect(inc1).toMatchObject({ kind: 'incremental', rows: 30, tombstones: 0 });
    await sim(w, 'drop', e.dropIndex('items', 'items_u'));
    await sim(w, 'create g', e.createIndex('items', { name: 'items_g', columns: ['g'] }));
    const inc2 = await sim(w, 'increment 2', e.incrementCheckpoint());
    expect(inc2).toMatchObject({ kind: 'incremental', rows: 30 });
    const tx2 = e.openSession().begin();
    tx2.update('items', 2, { g: 8 });
    await sim(w, 'update', tx2.commit());
    const inc3 = await sim(w, 'increment 3', e.incrementCheckpoint());
    expect(inc3).toMatchObject({ kind: 'incremental', rows: 1 }); // nothing redefined since: only the changed row
    const before = engineState(e);
    const { w2, e2 } = await crashAndReopen(w, e);
    expect(e2.recovery.checkpoint?.chain).toHaveLength(4);
    expect(e2.recovery.wal.transactionsReplayed).toBe(0);
    expect(indexes(e2, 'items')).toEqual(['items_g(g)']);
    expect(engineState(e2)).toEqual(before);
    expect(e2.catalog.get('items').lookupIndex('items_g', 7)).toHaveLength(1);
    await sim(w2, 'close', e2.close());
  });

  it('the increment after an index change, crashed before each of its disk operations, recovers the same rows and definition', async () => {
    const w = world(14);
    const e = await openEngine(w);
    await loadItems(w, e, 20);
    await sim(w, 'full', e.checkpoint());
    await sim(w, 'create', e.createIndex('items', { name: 'items_u', columns: ['u'], unique: true }));
    await sim(w, 'drop', e.dropIndex('items', 'items_u'));
    await sim(w, 'create g', e.createIndex('items', { name: 'items_g', columns: ['g'] }));
    const tx = e.openSession().begin();
    tx.update('items', 3, { g: 9 });
    tx.delete('items', 4);
    await sim(w, 'change', tx.commit());
    const state = engineState(e);
    const image = w.disk.snapshotDurable();
    const probe = world(15, image);
    const pe = await openEngine(probe);
    const before = probe.disk.operationCount;
    expect(await sim(probe, 'probe', pe.incrementCheckpoint())).toMatchObject({ kind: 'incremental', rows: 19 });
    const ops = probe.disk.operationCount - before;
    expect(ops).toBeGreaterThan(5);
    for (let k = 0; k <= ops; k++) {
      const label = `crash before operation ${k} of ${ops}`;
      const wk = world(100 + k, image);
      const ek = await openEngine(wk);
      const crashAt = wk.disk.operationCount + k;
      let crashed: ReturnType<typeof wk.disk.snapshotDurable> | undefined;
      wk.disk.onOperation((op) => {
        if (op.index === crashAt && crashed === undefined) {
          wk.disk.crash();
          crashed = wk.disk.snapshotDurable();
        }
      });
      await sim(wk, label, ek.incrementCheckpoint().then(() => undefined, () => undefined));
      await ek.abandon();
      if (crashed === undefined) {
        wk.disk.crash();
        crashed = wk.disk.snapshotDurable();
      }
      const w2 = world(500 + k, crashed);
      const e2 = await openEngine(w2);
      expect(engineState(e2), label).toEqual(state);
      expect(indexes(e2, 'items'), label).toEqual(['items_g(g)']);
      expect(e2.catalog.get('items').lookupIndex('items_g', 9), label).toHaveLength(1);
    }
  });

  it('an index change after the last checkpoint is replayed from the WAL on top of the chain', async () => {
    const w = world(3);
    const e = await openEngine(w);
    await loadItems(w, e, 12);
    await sim(w, 'full', e.checkpoint());
    await sim(w, 'increment', e.incrementCheckpoint());
    await sim(w, 'create', e.createIndex('items', { name: 'items_u', columns: ['u'], unique: true }));
    const { w2, e2 } = await crashAndReopen(w, e);
    expect(e2.recovery.wal.transactionsReplayed).toBe(1);
    expect(indexes(e2, 'items')).toEqual(['unique items_u(u)']);
    // The replayed change is in the change log: the next increment writes the table whole.
    expect(await sim(w2, 'increment', e2.incrementCheckpoint())).toMatchObject({ kind: 'incremental', rows: 12 });
    const { e2: e3, w2: w3 } = await crashAndReopen(w2, e2);
    expect(indexes(e3, 'items')).toEqual(['unique items_u(u)']);
    expect(engineState(e3).size).toBe(12);
    await sim(w3, 'close', e3.close());
  });

  it('RESTORE FROM PITR to a moment before CREATE INDEX brings back the definition without it, and after it with it', async () => {
    const w = world(4);
    const e = await openEngine(w);
    await sim(w, 'create', e.createTable(ACCOUNTS));
    await sim(w, 'pitr', e.sql("create pitr p for cluster range 1 'd'"));
    await sim(w, 'rows', e.sql("insert into acct values (1, 10, 'a'), (2, 20, 'b')"));
    await sim(w, 'later', w.clock.sleepUs(1_000_000));
    const before = w.clock.wallMs();
    await sim(w, 'later', w.clock.sleepUs(1_000_000));
    await sim(w, 'index', e.createIndex('acct', { name: 'acct_balance', columns: ['balance'], unique: true }));
    await sim(w, 'full', e.checkpoint());
    await sim(w, 'later', w.clock.sleepUs(1_000_000));
    const after = w.clock.wallMs();
    await sim(w, 'later', w.clock.sleepUs(1_000_000));
    await sim(w, 'drop', e.dropIndex('acct', 'acct_note'));
    const rows = engineState(e);
    await sim(w, 'restore before', restoreFromPitr(e, SYS_LOGIN, { level: 'table', database: 'postgres', table: 'acct' }, 'p', before));
    expect(indexes(e, 'acct')).toEqual(['acct_note(note)']);
    expect(engineState(e)).toEqual(rows);
    await sim(w, 'restore after', restoreFromPitr(e, SYS_LOGIN, { level: 'table', database: 'postgres', table: 'acct' }, 'p', after));
    expect(indexes(e, 'acct')).toEqual(['acct_note(note)', 'unique acct_balance(balance)']);
    expect(engineState(e)).toEqual(rows);
    await sim(w, 'close', e.close());
  });
});

describe('CREATE INDEX / DROP INDEX: every refusal comes before anything is logged', () => {
  it('a unique index over duplicate rows is refused with 23505 naming the index and the key; nothing reaches the WAL and the directory reopens', async () => {
    const w = world(5);
    const e = await openEngine(w);
    await loadItems(w, e, 9);
    const walEnd = e.stats().walEndLsn;
    const err = await refusal(w, 'unique g', e.createIndex('items', { name: 'items_g', columns: ['g'], unique: true }));
    expect([err.sqlstate, err.message, err.detail]).toEqual(['23505', 'duplicate key value violates unique constraint "items_g"', expect.stringMatching(/Key \(g\)=\([012]\) already exists in table "items"/)]);
    expect(e.stats().walEndLsn).toBe(walEnd);
    expect(indexes(e, 'items')).toEqual([]);
    // Two rows with NULL in the key do not conflict: the unique index on note is accepted.
    await sim(w, 'unique note', e.createIndex('items', { name: 'items_note', columns: ['note'], unique: true }));
    await sim(w, 'flush', e.flush());
    expect((await walOps(w)).flat()).not.toContain(RedoOp.DROP_INDEX);
    expect((await walOps(w)).flat().filter((op) => op === RedoOp.CREATE_INDEX)).toHaveLength(1);
    const { w2, e2 } = await crashAndReopen(w, e);
    expect(indexes(e2, 'items')).toEqual(['unique items_note(note)']);
    await sim(w2, 'close', e2.close());
  });

  it('names, limits, columns and duplicate names are refused with their SQLSTATEs, naming the table or index, before logging', async () => {
    const w = world(6);
    const e = await openEngine(w);
    await loadItems(w, e, 3);
    await sim(w, 'other', e.createTable({ ...ITEMS, name: 'other' }));
    await sim(w, 'first', e.createIndex('items', { name: 'items_g', columns: ['g'] }));
    const walEnd = e.stats().walEndLsn;
    const wide: TableDef = { name: 'wide', columns: Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, type: 'int32' as const, nullable: i > 0 })), primaryKey: ['c0'] };
    await sim(w, 'wide', e.createTable(wide));
    const walEnd2 = e.stats().walEndLsn;
    const cases: [string, () => Promise<unknown>, string, RegExp][] = [
      ['name too long', () => e.createIndex('items', { name: 'x'.repeat(64), columns: ['g'] }), '42622', /index name "x+" is too long: 64 bytes/],
      ['control character', () => e.createIndex('items', { name: 'a\nb', columns: ['g'] }), '42602', /invalid index name/],
      ['empty name', () => e.createIndex('items', { name: '', columns: ['g'] }), '22023', /invalid index name/],
      ['unknown column', () => e.createIndex('items', { name: 'ix', columns: ['nope'] }), '42703', /nope/],
      ['no columns', () => e.createIndex('items', { name: 'ix', columns: [] }), '42611', /Can't create index "ix" on table "items": no columns/],
      ['column twice', () => e.createIndex('items', { name: 'ix', columns: ['g', 'g'] }), '42611', /appears twice/],
      ['key too large', () => e.createIndex('items', { name: 'ix', columns: ['note', 'u', 'g'] }), 'HV030', /Can't create index "ix" on table "items"/],
      ['too many key columns', () => e.createIndex('wide', { name: 'ix', columns: wide.columns.slice(0, 11).map((c) => c.name) }), 'HV030', /Can't create index "ix" on table "wide"/],
      ['same name on the table', () => e.createIndex('items', { name: 'items_g', columns: ['u'] }), '42P07', /relation "items_g" already exists/],
      ['same name on another table of the database', () => e.createIndex('other', { name: 'items_g', columns: ['u'] }), '42P07', /relation "items_g" already exists/],
      ['the primary key name', () => e.createIndex('other', { name: 'items_pkey', columns: ['u'] }), '42P07', /relation "items_pkey" already exists/],
      ['missing table', () => e.createIndex('nope', { name: 'ix', columns: ['g'] }), '42P01', /Table "nope" doesn't exist/],
      ['not a definition', () => e.createIndex('items', null as never), '22023', /index definition for table "items"/],
      ['unique not a boolean', () => e.createIndex('items', { name: 'ix', columns: ['g'], unique: 'yes' as never }), '22023', /`unique` must be true, false or absent/],
      ['drop a missing index', () => e.dropIndex('items', 'nope'), '42P01', /Index "nope" of table "items" doesn't exist/],
      ['drop the primary key', () => e.dropIndex('items', 'items_pkey'), '0A000', /primary key index "items_pkey" of table "items"/],
      ['drop on a missing table', () => e.dropIndex('nope', 'items_g'), '42P01', /Table "nope" doesn't exist/],
    ];
    for (const [label, run, sqlstate, pattern] of cases) {
      const err = await refusal(w, label, run());
      expect([err.sqlstate, err.message + (err.detail ? ` ${err.detail}` : '')], label).toEqual([sqlstate, expect.stringMatching(pattern)]);
    }
    // MOT_LIMITS: 10 indexes counting the primary key.
    for (let i = 1; i < 10; i++) await sim(w, `index ${i}`, e.createIndex('wide', { name: `w${i}`, columns: [`c${i}`] }));
    const tooMany = await refusal(w, 'eleventh', e.createIndex('wide', { name: 'w10', columns: ['c10'] }));
    expect([tooMany.sqlstate, tooMany.rc]).toEqual(['HV029', 'RC_TABLE_EXCEEDS_MAX_INDEXES']);
    expect(e.stats().walEndLsn).toBeGreaterThan(walEnd2); // the nine accepted ones
    const ops = (await walOps(w)).map((t) => t[0]);
    expect(ops.filter((op) => op === RedoOp.CREATE_INDEX)).toHaveLength(10);
    expect(ops).not.toContain(RedoOp.DROP_INDEX);
    expect(walEnd).toBeLessThan(walEnd2);
    const { w2, e2 } = await crashAndReopen(w, e);
    expect(indexes(e2, 'wide')).toHaveLength(9);
    await sim(w2, 'close', e2.close());
  });
});

describe('CREATE INDEX / DROP INDEX: concurrency', () => {
  it('a transaction that touched the table before CREATE UNIQUE INDEX cannot commit on its stale view (40001), at its next statement or at commit', async () => {
    const w = world(7);
    const e = await openEngine(w);
    await loadItems(w, e, 4);
    // Inserted before the index exists: a duplicate of row 1's u, allowed then.
    const stale = e.openSession().begin();
    stale.insert('items', { id: 10, u: 'u1' });
    const staleNext = e.openSession().begin();
    staleNext.insert('items', { id: 11, u: 'u2' });
    const reader = e.openSession().begin();
    reader.get('items', 1);
    await sim(w, 'index', e.createIndex('items', { name: 'items_u', columns: ['u'], unique: true }));
    const atCommit = await refusal(w, 'stale commit', stale.commit());
    expect([atCommit.sqlstate, atCommit.detail]).toEqual(['40001', expect.stringMatching(/table "items".*indexes changed \(CREATE\/DROP INDEX\)/)]);
    expect(() => staleNext.get('items', 3)).toThrow(/could not serialize access/);
    expect(staleNext.state).toBe('aborted');
    expect((await refusal(w, 'stale reader', reader.commit())).sqlstate).toBe('40001');
    // A transaction begun after the index sees it.
    const fresh = e.openSession().begin();
    expect(() => fresh.insert('items', { id: 12, u: 'u1' })).toThrow(/unique constraint "items_u"/);
    fresh.insert('items', { id: 12, u: 'u9' });
    await sim(w, 'fresh', fresh.commit());
    const { w2, e2 } = await crashAndReopen(w, e);
    expect([...engineState(e2).keys()].sort()).toEqual(['items/0', 'items/1', 'items/12', 'items/2', 'items/3']);
    await sim(w2, 'close', e2.close());
  });

  it('a transaction that touched the table before DROP INDEX cannot commit either; other tables are not affected', async () => {
    const w = world(8);
    const e = await openEngine(w);
    await loadItems(w, e, 4);
    await sim(w, 'other', e.createTable({ ...ITEMS, name: 'other' }));
    await sim(w, 'index', e.createIndex('items', { name: 'items_u', columns: ['u'], unique: true }));
    const stale = e.openSession().begin();
    stale.update('items', 1, { u: 'x1' });
    const elsewhere = e.openSession().begin();
    elsewhere.insert('other', { id: 1, u: 'u1' });
    await sim(w, 'drop', e.dropIndex('items', 'items_u'));
    expect((await refusal(w, 'stale', stale.commit())).sqlstate).toBe('40001');
    await sim(w, 'elsewhere', elsewhere.commit());
    expect(e.catalog.get('items').changeCount).toBeGreaterThan(0);
  });

  it('an insert refused by the second unique index saw the first one\'s key free: once another commit takes that key it cannot commit (40001)', async () => {
    const w = world(16);
    const e = await openEngine(w);
    await loadItems(w, e, 2); // (0, 'u0', g 0), (1, 'u1', g 1)
    await sim(w, 'u', e.createIndex('items', { name: 'items_u', columns: ['u'], unique: true }));
    await sim(w, 'g', e.createIndex('items', { name: 'items_g', columns: ['g'], unique: true }));
    const tx = e.openSession().begin();
    // 'b' is free in items_u, g 1 is taken in items_g: refused naming items_g.
    expect(() => tx.insert('items', { id: 5, u: 'b', g: 1 })).toThrow(/unique constraint "items_g"/);
    tx.insert('items', { id: 7, u: 'z', g: 7 });
    const other = e.openSession().begin();
    other.insert('items', { id: 6, u: 'b', g: 2 });
    await sim(w, 'other', other.commit());
    // A serial execution after `other` refuses the row naming items_u: the answer tx got is stale.
    const err = await refusal(w, 'commit', tx.commit());
    expect([err.sqlstate, err.detail]).toEqual(['40001', expect.stringMatching(/index "items_u" it found free was taken/)]);
  });

  it('moves Table.changeCount and schemaVersion: the validation shortcut cannot skip an index change', async () => {
    const w = world(9);
    const e = await openEngine(w);
    await loadItems(w, e, 2);
    const t = e.catalog.get('items');
    const [count, version] = [t.changeCount, t.schemaVersion];
    await sim(w, 'index', e.createIndex('items', { name: 'items_g', columns: ['g'] }));
    expect([t.changeCount > count, t.schemaVersion]).toEqual([true, version + 1]);
    await sim(w, 'drop', e.dropIndex('items', 'items_g'));
    expect(t.schemaVersion).toBe(version + 2);
  });

  it('is refused (55006) while a commit holds keys of the table or another DDL statement holds it, and (HV025) while a checkpoint runs', async () => {
    const w = world(10);
    const e = await openEngine(w, MODES.group);
    await loadItems(w, e, 4);
    const tx = e.openSession().begin();
    tx.update('items', 1, { g: 9 });
    const committing = tx.commit(); // waits for its group (1 ms)
    const busy = await refusal(w, 'during commit', e.createIndex('items', { name: 'items_g', columns: ['g'] }));
    expect([busy.sqlstate, busy.message]).toEqual(['55006', expect.stringMatching(/table "items"/)]);
    await sim(w, 'commit', committing);
    const first = e.createIndex('items', { name: 'items_g', columns: ['g'] });
    const second = await refusal(w, 'second DDL', e.createIndex('items', { name: 'items_u', columns: ['u'] }));
    expect([second.sqlstate, second.message]).toEqual(['55006', expect.stringMatching(/table "items"/)]);
    const truncate = await refusal(w, 'truncate meanwhile', e.truncateTable('items'));
    expect(truncate.sqlstate).toBe('55006');
    const sameName = await refusal(w, 'same name elsewhere', e.createTable({ ...ITEMS, name: 'other' }).then(() => e.createIndex('other', { name: 'items_g', columns: ['g'] })));
    expect(sameName.sqlstate).toBe('42P07');
    await sim(w, 'first', first);
    const running = e.checkpoint();
    const during = await refusal(w, 'during checkpoint', e.createIndex('items', { name: 'items_u', columns: ['u'] }));
    expect([during.sqlstate, during.message]).toEqual(['HV025', 'A checkpoint is in progress - cannot create index.']);
    const dropDuring = await refusal(w, 'drop during checkpoint', e.dropIndex('items', 'items_g'));
    expect([dropDuring.sqlstate, dropDuring.message]).toEqual(['HV025', 'A checkpoint is in progress - cannot drop index.']);
    await sim(w, 'checkpoint', running);
    await sim(w, 'after', e.dropIndex('items', 'items_g'));
    expect(indexes(e, 'items')).toEqual([]);
  });
});

describe('SQL: CREATE [UNIQUE] INDEX, DROP INDEX, SHOW INDEXES / COLUMNS', () => {
  async function sqlRows(w: World, e: Engine, text: string, session?: ReturnType<Engine['openSession']>): Promise<unknown[][]> {
    const results = await sim(w, text, e.sql(text, session));
    return results[results.length - 1]!.rows;
  }

  it('creates, shows and drops indexes; duplicates, names and IF [NOT] EXISTS behave as in PostgreSQL', async () => {
    const w = world(11);
    const e = await openEngine(w);
    await sim(w, 'setup', e.sql("create table t (id int primary key, u varchar(8), g int not null); insert into t values (1, 'a', 1), (2, 'b', 1), (3, null, 2)"));
    const [created] = await sim(w, 'create', e.sql('create unique index t_u on t (u); create index t_gu on t (g, u)'));
    expect(created!.command).toBe('CREATE INDEX');
    expect(await sqlRows(w, e, 'show indexes from t')).toEqual([
      ['t_pkey', 'id', true, true],
      ['t_u', 'u', true, false],
      ['t_gu', 'g, u', false, false],
    ]);
    expect(await sqlRows(w, e, 'show columns from postgres.t')).toEqual([
      ['id', 'integer', false, true],
      ['u', 'character varying(8)', true, false],
      ['g', 'integer', false, false],
    ]);
    const dupRow = await refusal(w, 'dup row', e.sql("insert into t values (4, 'a', 3)"));
    expect([dupRow.sqlstate, dupRow.message]).toEqual(['23505', expect.stringMatching(/^duplicate key value violates unique constraint "t_u"/)]);
    const dupIndex = await refusal(w, 'unique over duplicates', e.sql('create unique index t_g on t (g)'));
    expect([dupIndex.sqlstate, dupIndex.message, dupIndex.detail]).toEqual(['23505', expect.stringMatching(/^duplicate key value violates unique constraint "t_g"/), 'Key (g)=(1) already exists in table "t".']);
    expect((await refusal(w, 'same name', e.sql('create index t_u on t (g)'))).sqlstate).toBe('42P07');
    await sim(w, 'if not exists', e.sql('create index if not exists t_u on t (g)'));
    expect((await refusal(w, 'long name', e.sql(`create index ${'i'.repeat(64)} on t (g)`))).sqlstate).toBe('42622');
    expect((await refusal(w, 'unknown column', e.sql('create index t_x on t (nope)'))).sqlstate).toBe('42703');
    expect((await refusal(w, 'missing table', e.sql('create index t_x on nope (g)'))).sqlstate).toBe('42P01');
    expect((await refusal(w, 'no name', e.sql('create index on t (g)'))).sqlstate).toBe('42601');
    expect((await refusal(w, 'in a block', e.sql('begin; create index t_x on t (g)'))).sqlstate).toBe('25001');
    await sim(w, 'drop', e.sql('drop index t_gu; drop index if exists t_gu; drop index postgres.t_u'));
    expect(await sqlRows(w, e, 'show indexes in t')).toEqual([['t_pkey', 'id', true, true]]);
    const missing = await refusal(w, 'drop missing', e.sql('drop index t_gu'));
    expect([missing.sqlstate, missing.rc, missing.message]).toEqual(['42P01', 'RC_INDEX_NOT_FOUND', expect.stringMatching(/t_gu/)]);
    expect((await refusal(w, 'drop pkey', e.sql('drop index t_pkey on t'))).sqlstate).toBe('0A000');
    await sim(w, 'flush', e.flush());
    const { w2, e2 } = await crashAndReopen(w, e);
    expect(await sqlRows(w2, e2, 'show indexes from t')).toEqual([['t_pkey', 'id', true, true]]);
  });

  it('DROP INDEX without ON finds the index among the database\'s tables; several holders need ON', async () => {
    const w = world(12);
    const e = await openEngine(w);
    // The library API's CREATE TABLE does not check index names against other tables.
    await sim(w, 'a', e.createTable({ ...ITEMS, name: 'a', indexes: [{ name: 'ix', columns: ['g'] }] }));
    await sim(w, 'b', e.createTable({ ...ITEMS, name: 'b', indexes: [{ name: 'ix', columns: ['u'] }] }));
    const ambiguous = await refusal(w, 'ambiguous', e.sql('drop index ix'));
    expect([ambiguous.sqlstate, ambiguous.message]).toEqual(['22023', expect.stringMatching(/tables "a", "b" of database "postgres".*DROP INDEX ix ON table/)]);
    await sim(w, 'on b', e.sql('drop index ix on b'));
    await sim(w, 'the only one', e.sql('drop index ix'));
    expect([indexes(e, 'a'), indexes(e, 'b')]).toEqual([[], []]);
  });

  it('needs the privileges of CREATE/DROP TABLE: a tenant indexes only tables of its own databases (42501)', async () => {
    const w = world(13);
    const e = await openEngine(w);
    await sim(w, 'setup', e.sql("create table t (id int primary key, g int); create account acme admin_name 'boss'"));
    const acme = e.openSession({ account: 'acme' });
    await sim(w, 'acme', e.sql('create database shop; use shop; create table items (id int primary key, g int); create index items_g on items (g)', acme));
    expect(await sqlRows(w, e, 'show indexes from items', acme)).toEqual([
      ['items_pkey', 'id', true, true],
      ['items_g', 'g', false, false],
    ]);
    expect(indexes(e, 'shop.items')).toEqual(['items_g(g)']);
    for (const text of ['create index t_g on postgres.t (g)', 'drop index postgres.t_g', 'show indexes from postgres.t']) {
      const err = await refusal(w, text, e.sql(text, acme));
      expect([err.sqlstate, err.message], text).toEqual(['42501', expect.stringMatching(/account "acme".*database "postgres"/)]);
    }
    await sim(w, 'sys indexes postgres.t', e.sql('create index t_g on t (g)'));
    expect((await refusal(w, 'tenant drops it', e.sql('drop index postgres.t_g', acme))).sqlstate).toBe('42501');
    // Index names are per database: the same name in another database is another index.
    await sim(w, 'same name elsewhere', e.sql('create index items_g on t (g)'));
    await sim(w, 'tenant drops its own', e.sql('drop index items_g', acme));
    expect([indexes(e, 'shop.items'), indexes(e, 't')]).toEqual([[], ['t_g(g)', 'items_g(g)']]);
  });
});

describe('the oracle: index DDL in the serial order', () => {
  const def: TableDef = { name: 't', columns: [{ name: 'id', type: 'int32', nullable: false }, { name: 'g', type: 'int32' }], primaryKey: ['id'] };
  const uniqueG: DdlOp = { ddl: 'create-index', table: 't', index: { name: 't_g', columns: ['g'], unique: true } };
  function base(gs: (number | null)[]): ModelDb {
    const db = ModelDb.empty();
    db.applyDdl({ ddl: 'create', table: 't', def });
    gs.forEach((g, id) => db.putRow('t', { id, g }));
    return db;
  }
  function entry(id: number, fields: Partial<LedgerEntry>): LedgerEntry {
    return { id, epoch: 0, txId: id, session: 0, socket: 0, writes: [], outcome: 'acked', beganAtUs: 0, ops: [], ...fields };
  }
  const refusedDdl = (snapshotCsn: number): LedgerEntry => entry(1, { txId: -1, ddl: uniqueG, outcome: 'rejected', snapshotCsn, error: '23505 duplicate key value violates unique constraint "t_g"' });
  const acceptedDdl = (csn: number): LedgerEntry => entry(1, { txId: -1, ddl: uniqueG, csn, logPosition: csn - 1, snapshotCsn: csn - 1 });

  it('a CREATE UNIQUE INDEX refused with 23505 must meet two rows sharing a key at its place (after its snapshot CSN)', () => {
    expect(checkSerializable([refusedDdl(0)], base([1, 1, null])).violations).toEqual([]);
    const wrong = checkSerializable([refusedDdl(0)], base([1, 2, null, null])).violations;
    expect(wrong.map((v) => `${v.kind}: ${v.message}`)).toEqual([expect.stringMatching(/^not-serializable: CREATE UNIQUE INDEX t_g ON t \(g\) was refused .* no two rows share a key in the state after CSN 0/)]);
    // The duplicate appears only with the commit at CSN 1: a refusal placed after CSN 0 is wrong, after CSN 1 right.
    const insert: RecordedOp = { op: 'insert', table: 't', row: { id: 5, g: 2 }, result: 'ok' };
    const tx = entry(2, { csn: 1, logPosition: 0, ops: [insert] });
    expect(checkSerializable([tx, refusedDdl(0)], base([1, 2])).violations).toHaveLength(1);
    expect(checkSerializable([tx, refusedDdl(1)], base([1, 2])).violations).toEqual([]);
  });

  it('a CREATE UNIQUE INDEX accepted over duplicate rows is a violation; after it, the model refuses duplicates per statement and the definition cell changes', () => {
    const wrong = checkSerializable([acceptedDdl(1)], base([3, 3])).violations;
    expect(wrong.map((v) => v.message)).toEqual([expect.stringMatching(/CREATE UNIQUE INDEX t_g ON t \(g\) was accepted at CSN 1, but two rows share the key \(g\)=\(3\)/)]);
    const ddl = acceptedDdl(1);
    const dup: RecordedOp = { op: 'insert', table: 't', row: { id: 9, g: 3 }, result: '23505 t_g' };
    const after = entry(2, { csn: 2, logPosition: 1, ops: [dup] });
    const ok = checkSerializable([ddl, after], base([3, 4]));
    expect(ok.violations).toEqual([]);
    expect(ok.defsAfter.get(ddl)).toBe(defText({ ...def, indexes: [{ name: 't_g', columns: ['g'], unique: true }] }));
    // Before the index the same insert is accepted: answering 23505 there is not serializable (and the
    // row it then adds makes the index accepted at CSN 2 one over duplicates).
    const before = entry(2, { csn: 1, logPosition: 0, ops: [dup] });
    expect(checkSerializable([before, acceptedDdl(2)], base([3, 4])).violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/tx#2 \(CSN 1\) is not serializable.*the engine answered 23505 t_g, a serial execution answers ok/),
      expect.stringMatching(/accepted at CSN 2, but two rows share the key \(g\)=\(3\)/),
    ]);
    const dropped = entry(3, { txId: -1, ddl: { ddl: 'drop-index', table: 't', index: 't_g' }, csn: 2, logPosition: 1 });
    const afterDrop = entry(4, { csn: 3, logPosition: 2, ops: [{ ...dup, result: 'ok' }] });
    const cycle = checkSerializable([acceptedDdl(1), dropped, afterDrop], base([3, 4]));
    expect(cycle.violations).toEqual([]);
    expect(cycle.defsAfter.get(dropped)).toBe(defText({ ...def, indexes: [] }));
  });
});
