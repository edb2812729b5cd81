// The workload crash-test runs unless given another: every session runs a bounded number of
// transactions mixing the shapes that hide isolation and durability bugs: hot-key puts and deletes
// with padding (now and then a big transaction spanning several redo buffers), point reads of present
// and absent keys, range scans with and without a limit (composite prefixes too), inserts that omit
// nullable columns or carry boundary values of every column type, unique-index collisions, updates of
// indexed columns, read-then-write patterns known for anomalies (write skew, count-then-insert, a
// unique swap through a free value), client rollbacks, and DDL in the middle: create, truncate and
// drop a table, and create and drop a unique and a non-unique index on tables with rows (a unique one
// is refused with 23505 whenever two rows share a key, which the checker confirms at its place).
// Sessions either think between transactions or never yield (a tight `await commit()` loop).

import type { IndexDef, Row, TableDef, Value } from '../store/schema.js';
import type { Random } from '../io/random.js';
import type { Session } from '../transaction/session.js';
import { CHECKED_TABLE, type RecordedTransaction, type Workload, type WorkloadContext } from './workload.js';

/** A table of every column type, with a unique and a non-unique secondary index. */
export const TYPED_TABLE: TableDef = {
  name: 'typed',
  columns: [
    { name: 'id', type: 'int32', nullable: false },
    { name: 'i32', type: 'int32' },
    { name: 'i64', type: 'int64' },
    { name: 'f64', type: 'float64' },
    { name: 'b', type: 'bool' },
    { name: 's', type: 'varchar', size: 24 },
    { name: 'by', type: 'bytes', size: 16 },
    { name: 'u', type: 'varchar', size: 12 },
    { name: 'g', type: 'int32' },
    { name: 'w', type: 'int64', nullable: false },
  ],
  primaryKey: ['id'],
  indexes: [
    { name: 'typed_u', columns: ['u'], unique: true },
    { name: 'typed_g', columns: ['g'] },
  ],
};

/** A composite primary key (int32, varchar), scanned by prefix. */
export const PAIRS_TABLE: TableDef = {
  name: 'pairs',
  columns: [
    { name: 'a', type: 'int32', nullable: false },
    { name: 'b', type: 'varchar', size: 8, nullable: false },
    { name: 'n', type: 'int64', nullable: false },
    { name: 'w', type: 'int64', nullable: false },
  ],
  primaryKey: ['a', 'b'],
  indexes: [{ name: 'pairs_n', columns: ['n'] }],
};

/** Created, truncated and dropped while the workload runs. */
export const SCRATCH_TABLE: TableDef = {
  name: 'scratch',
  columns: [
    { name: 'k', type: 'int32', nullable: false },
    { name: 'x', type: 'varchar', size: 8 },
    { name: 'w', type: 'int64', nullable: false },
  ],
  primaryKey: ['k'],
};

export const INT32S = [-2147483648, -1, 0, 1, 7, 2147483647];
export const INT64S: Value[] = [-(2n ** 63n), -1n, 0n, 5, 2n ** 53n + 1n, 2n ** 63n - 1n];
export const FLOATS = [0, -0, 1.5, -1e308, 5e-324, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
export const STRINGS = ['', 'a', 'é', '日本', 'a\u0000b', '😀', 'x'.repeat(24), 'ü'.repeat(12)];
export const BYTES = [new Uint8Array(0), new Uint8Array([0]), new Uint8Array([1]), new Uint8Array([0, 1, 255]), new Uint8Array(16).fill(0xab)];
export const UNIQUES = ['u0', 'u1', 'u2', 'u3', 'u4'];
export const PAIR_BS = ['', 'a', 'b', 'é', 'zz'];

export interface DefaultWorkloadOptions {
  /** Transactions each session runs (default 6). */
  transactionsPerSession?: number;
  /** Hot keys of the checked table small transactions write (default 12): few, so transactions overwrite and conflict. */
  keys?: number;
  /** Writes per small transaction, at most (default 3). */
  writesPerTransactionMax?: number;
  /** Share of deletes among writes (default 0.25). */
  deleteProbability?: number;
  /** Share of transactions rolled back by the client (default 0.05). */
  rollbackProbability?: number;
  /** Share of big transactions: 72 rows of ~950 bytes, more than one 64 KB redo buffer (default 0.03). */
  bigTransactionProbability?: number;
  /** Padding of a small transaction's rows, at most (default 600 bytes: frames cross sectors). */
  padBytesMax?: number;
  /**
   * Think time before each transaction, at most (default 200 µs). 0: none at all, and no pause inside
   * transactions either: the session never sleeps (a tight `await commit()` loop; it yields only
   * where the engine makes it). See tightLoopWorkload().
   */
  thinkUsMax?: number;
  /** CPU each transaction costs its session's thread, µs, drawn uniformly (default 0: none). */
  cpuUsMin?: number;
  cpuUsMax?: number;
  /** Share of transactions on the typed, pairs and scratch tables rather than the checked table (default 0.6; 0: only the checked table). */
  mixedShare?: number;
  /** Chance that a session runs a DDL statement instead of a transaction (default 0.04). */
  ddlProbability?: number;
}

/** First key of the rows big transactions write (apart from the hot keys). */
export const BIG_TRANSACTION_KEY_FIRST = 1000;
const BIG_TRANSACTION_ROWS = 72;
/** Keys of the typed and scratch tables: few, so transactions meet. */
const TYPED_KEYS = 10;
const PAIR_AS = 3;

export function defaultWorkload(options: DefaultWorkloadOptions = {}): Workload {
  const perSession = options.transactionsPerSession ?? 6;
  const mixedShare = options.mixedShare ?? 0.6;
  const ddlP = options.ddlProbability ?? 0.04;
  const thinkMax = options.thinkUsMax ?? 200;
  const rollbackP = options.rollbackProbability ?? 0.05;
  const cpuMin = options.cpuUsMin ?? 0;
  const cpuMax = Math.max(cpuMin, options.cpuUsMax ?? 0);
  // A session that never sleeps: it yields only where the engine makes it (its commit pacer).
  const tight = thinkMax === 0;
  return async (ctx) => {
    const r = ctx.random;
    if (mixedShare > 0) await ensureTables(ctx);
    const loop = async (session: Session): Promise<void> => {
      for (let i = 0; i < perSession && !ctx.stopped; i++) {
        if (!tight) await ctx.sleepUs(r.int(thinkMax + 1));
        if (ctx.stopped) return;
        if (mixedShare > 0 && r.chance(ddlP)) {
          await randomDdl(ctx, r);
          continue;
        }
        const rollback = r.chance(rollbackP);
        const cpu = cpuMax > 0 ? cpuMin + r.int(cpuMax - cpuMin + 1) : 0;
        const work = (): void => {
          if (cpu > 0 && !rollback) ctx.cpuUs(cpu); // a rolled-back transaction's work is not modelled
        };
        if (r.chance(mixedShare)) {
          // Waits between operations let other sessions commit inside this transaction's lifetime:
          // mostly short, now and then as long as a group-commit timeout, and for the hot-row shapes
          // always as long as a commit takes (that is their point). A tight loop never sleeps, so
          // its transactions only interleave where the engine yields.
          const pause = (): Promise<void> | undefined => (tight ? undefined : ctx.sleepUs(r.chance(0.8) ? r.int(40) : r.int(1500)));
          const longPause = (): Promise<void> | undefined => (tight ? undefined : ctx.sleepUs(r.int(1500)));
          const body = mixedTransaction(r, new Set(ctx.tableNames()), pause, longPause);
          await ctx.transaction(session, async (tx) => {
            await body(tx);
            work();
            return rollback ? 'rollback' : undefined;
          });
        } else {
          const body = checkedTableTransaction(r, options);
          await ctx.transaction(session, (tx) => {
            body(tx);
            work();
            return rollback ? 'rollback' : undefined;
          });
        }
      }
    };
    await Promise.all(ctx.sessions.map(loop));
  };
}

/**
 * Sessions that never yield: each runs `transactionsPerSession` (default 150) transactions back to
 * back, `await commit()` after `await commit()` with no think time, each costing its thread 5-15 µs
 * of CPU. In asynchronous mode a commit resolves through microtasks only, so nothing but the engine
 * itself (its CommitPacer and back-pressure) lets timers such as the background flush run.
 */
export function tightLoopWorkload(options: DefaultWorkloadOptions = {}): Workload {
  return defaultWorkload({ transactionsPerSession: 150, cpuUsMin: 5, cpuUsMax: 15, ...options, thinkUsMax: 0 });
}

async function ensureTables(ctx: WorkloadContext): Promise<void> {
  const have = new Set(ctx.tableNames());
  for (const def of [TYPED_TABLE, PAIRS_TABLE, SCRATCH_TABLE]) if (!have.has(def.name)) await ctx.createTable(def);
}

/**
 * Indexes the workload creates and drops while transactions run (each toggles: created when absent,
 * dropped when present). `typed.s` holds 8 values (or NULL) and is mostly unique over the few rows a
 * run writes, `typed.g` 3 and `scratch.x` 4, so a unique index on them is accepted or refused (23505)
 * in different proportions; `typed (b, g)` is not unique.
 */
export const TOGGLED_INDEXES: readonly { table: string; index: IndexDef }[] = [
  { table: 'typed', index: { name: 'typed_s_uq', columns: ['s'], unique: true } },
  { table: 'typed', index: { name: 'typed_g_uq', columns: ['g'], unique: true } },
  { table: 'typed', index: { name: 'typed_b_g', columns: ['b', 'g'] } },
  { table: 'scratch', index: { name: 'scratch_x_uq', columns: ['x'], unique: true } },
];

async function randomDdl(ctx: WorkloadContext, r: Random): Promise<void> {
  const exists = ctx.tableNames().includes(SCRATCH_TABLE.name);
  // Index toggles twice as likely as each table statement: they need rows and open transactions to meet.
  const pick = r.int(3 + 2 * TOGGLED_INDEXES.length);
  if (!exists) await ctx.createTable(SCRATCH_TABLE);
  else if (pick === 0) await ctx.dropTable(SCRATCH_TABLE.name);
  else if (pick === 1) await ctx.truncateTable(SCRATCH_TABLE.name);
  else if (pick === 2) await ctx.truncateTable(PAIRS_TABLE.name);
  else await toggleIndex(ctx, TOGGLED_INDEXES[(pick - 3) % TOGGLED_INDEXES.length]!);
}

async function toggleIndex(ctx: WorkloadContext, { table, index }: { table: string; index: IndexDef }): Promise<void> {
  if (!ctx.tableNames().includes(table)) return;
  if (ctx.indexNames(table).includes(index.name)) await ctx.dropIndex(table, index.name);
  else await ctx.createIndex(table, index);
}

/** The original hot-key shape on the checked table: puts and deletes with padding, now and then a big one. */
function checkedTableTransaction(r: Random, o: DefaultWorkloadOptions): (tx: RecordedTransaction) => void {
  const keys = o.keys ?? 12;
  const writesMax = o.writesPerTransactionMax ?? 3;
  const deleteP = o.deleteProbability ?? 0.25;
  const bigP = o.bigTransactionProbability ?? 0.03;
  const padMax = o.padBytesMax ?? 600;
  const big = r.chance(bigP);
  const plan = Array.from({ length: big ? BIG_TRANSACTION_ROWS : 1 + r.int(writesMax) }, (_, j) =>
    big ? { key: BIG_TRANSACTION_KEY_FIRST + j, del: false, pad: 900 + r.int(51) } : { key: r.int(keys), del: r.chance(deleteP), pad: r.int(padMax + 1) },
  );
  return (tx) => {
    for (const w of plan) {
      if (w.del) tx.remove(w.key);
      else tx.put(w.key, w.pad);
    }
  };
}

/**
 * A transaction on the other tables. Its shape is drawn now; the values it writes may depend on
 * what it reads (that is the point of read-then-write shapes), always from the same draws. It pauses
 * between reading and writing, where another transaction may commit what it read.
 */
function mixedTransaction(r: Random, tables: ReadonlySet<string>, pause: Pause, longPause: Pause): (tx: RecordedTransaction) => Promise<void> {
  const shape = r.int(7);
  const seed = r.int(2 ** 30);
  const pauses = r.chance(0.7);
  const maybePause = (): Promise<void> | undefined => (pauses ? pause() : undefined);
  return async (tx) => {
    const d = pseudo(seed ^ tx.id);
    if (shape === 0 && tables.has(TYPED_TABLE.name)) await writeSkew(tx, d, maybePause);
    else if (shape === 1 && tables.has(PAIRS_TABLE.name)) await countThenInsert(tx, d, maybePause);
    else if (shape === 2 && tables.has(TYPED_TABLE.name)) await uniqueSwap(tx, d, maybePause);
    else if (shape === 3 && tables.has(TYPED_TABLE.name)) await hotRow(tx, d, longPause);
    else if (shape === 4 && tables.has(TYPED_TABLE.name)) await writeIndexedThenWait(tx, d, longPause);
    else await randomOps(tx, d, tables, maybePause);
  };
}

type Pause = () => Promise<void> | undefined;

/** Two rows as accounts: withdraw from one if their sum allows (the write-skew history). */
async function writeSkew(tx: RecordedTransaction, r: Random, pause: Pause): Promise<void> {
  const a = r.int(4);
  const b = (a + 1 + r.int(3)) % 4;
  const ra = tx.read(TYPED_TABLE.name, a);
  const rb = tx.read(TYPED_TABLE.name, b);
  await pause();
  const bal = (row: Row | undefined): bigint => (row && typeof row.i64 === 'bigint' ? row.i64 : 0n);
  if (ra === undefined) {
    tx.insert(TYPED_TABLE.name, { id: a, i64: 100n, w: BigInt(tx.id) });
    return;
  }
  if (bal(ra) + bal(rb) >= 100n) tx.update(TYPED_TABLE.name, a, { i64: bal(ra) - 100n, w: BigInt(tx.id) });
  else tx.update(TYPED_TABLE.name, a, { i64: bal(ra) + 150n, w: BigInt(tx.id) });
}

/** Count a prefix of the pairs table, then insert a row carrying the count (the phantom history). */
async function countThenInsert(tx: RecordedTransaction, r: Random, pause: Pause): Promise<void> {
  const a = r.int(PAIR_AS);
  const rows = tx.scan(PAIRS_TABLE.name, [a], [a]);
  await pause();
  const b = PAIR_BS[r.int(PAIR_BS.length)]!;
  if (rows.some((row) => row.b === b)) tx.delete(PAIRS_TABLE.name, [a, b]);
  else tx.insert(PAIRS_TABLE.name, { a, b, n: BigInt(rows.length), w: BigInt(tx.id) });
}

/** Move a unique value from one row to another through a free value (a swap when both hold one). */
async function uniqueSwap(tx: RecordedTransaction, r: Random, pause: Pause): Promise<void> {
  const x = r.int(TYPED_KEYS);
  const y = (x + 1 + r.int(TYPED_KEYS - 1)) % TYPED_KEYS;
  const rx = tx.read(TYPED_TABLE.name, x);
  const ry = tx.read(TYPED_TABLE.name, y);
  if (!rx || !ry) return;
  await pause();
  const tmp = `t${tx.id % 100000}`;
  if (tx.update(TYPED_TABLE.name, x, { u: tmp }) !== true) return;
  tx.update(TYPED_TABLE.name, y, { u: rx.u ?? null, w: BigInt(tx.id) });
  await pause();
  tx.update(TYPED_TABLE.name, x, { u: ry.u ?? null, w: BigInt(tx.id) });
}

/**
 * Two hot rows every session works on, always pausing in the middle: insert one (refused when it is
 * there: the refusal says it exists), delete it, or update it and read it back. So transactions keep
 * meeting rows that others deleted, re-inserted or changed while they were open.
 */
async function hotRow(tx: RecordedTransaction, r: Random, pause: Pause): Promise<void> {
  const k = HOT_KEYS[r.int(HOT_KEYS.length)]!;
  const t = TYPED_TABLE.name;
  switch (r.int(4)) {
    case 0:
      if (tx.insert(t, { id: k, g: 1, w: BigInt(tx.id) }) !== 'ok') {
        await pause();
        tx.insert(t, { id: 100 + (tx.id % 1000), w: BigInt(tx.id) }); // something to commit after the refusal
      }
      return;
    case 1:
      tx.delete(t, k);
      return;
    case 2:
      if (tx.update(t, k, { g: 2, w: BigInt(tx.id) }) === true) {
        await pause();
        tx.read(t, k);
        tx.update(t, k, { i32: tx.id % 1000 });
      }
      return;
    default:
      tx.read(t, k);
      await pause();
      tx.update(t, k, { g: 0, w: BigInt(tx.id) });
  }
}

/**
 * Write an indexed column (s or g, which the workload's CREATE UNIQUE INDEX statements cover; often a
 * value another row holds), then wait as long as a commit takes before committing: so transactions
 * keep uncommitted index keys across other sessions' commits and index DDL.
 */
async function writeIndexedThenWait(tx: RecordedTransaction, r: Random, pause: Pause): Promise<void> {
  const k = r.int(TYPED_KEYS);
  const changes: Row = r.chance(0.5) ? { s: pickOf(r, STRINGS) } : { g: r.int(3) };
  if (tx.update(TYPED_TABLE.name, k, { ...changes, w: BigInt(tx.id) }) === false) tx.insert(TYPED_TABLE.name, { id: k, ...changes, w: BigInt(tx.id) });
  await pause();
  tx.read(TYPED_TABLE.name, (k + 1) % TYPED_KEYS);
}

/** Rows of the typed table that hotRow() transactions fight over. */
const HOT_KEYS = [0, 1];

/**
 * 1..5 random operations on the typed, pairs and scratch tables, with pauses between them; half of
 * them go back to the row the previous one touched (read it again after updating it: where a
 * transaction meets a row another one deleted, or whose slot it reused, meanwhile).
 */
async function randomOps(tx: RecordedTransaction, r: Random, tables: ReadonlySet<string>, pause: Pause): Promise<void> {
  const n = 1 + r.int(5);
  let last: { table: string; key: Value | Value[] } | undefined;
  for (let i = 0; i < n; i++) {
    if (i > 0) await pause();
    const again = last !== undefined && r.chance(0.5);
    const table = again ? last!.table : [TYPED_TABLE.name, PAIRS_TABLE.name, SCRATCH_TABLE.name][r.int(3)]!;
    if (!tables.has(table)) continue;
    const key = again ? last!.key : randomKey(table, r);
    last = { table, key };
    switch (again ? (r.chance(0.6) ? 0 : 4) : r.int(6)) {
      case 0:
        tx.read(table, key);
        break;
      case 1:
        randomScan(tx, table, r);
        break;
      case 2:
      case 3:
        tx.insert(table, randomRow(table, key, r, tx.id));
        break;
      case 4:
        tx.update(table, key, randomChanges(table, r, tx.id));
        break;
      default:
        tx.delete(table, key);
    }
  }
}

function randomScan(tx: RecordedTransaction, table: string, r: Random): void {
  const limit = r.chance(0.3) ? r.int(4) : undefined;
  if (table === PAIRS_TABLE.name) {
    const a = r.int(PAIR_AS);
    if (r.chance(0.5)) tx.scan(table, [a], [a], limit);
    else tx.scan(table, [a, PAIR_BS[r.int(PAIR_BS.length)]!], undefined, limit);
    return;
  }
  const lo = r.chance(0.2) ? undefined : r.int(TYPED_KEYS);
  const hi = r.chance(0.2) ? undefined : (lo ?? 0) + r.int(TYPED_KEYS);
  tx.scan(table, lo, hi, limit);
}

function randomKey(table: string, r: Random): Value | Value[] {
  if (table === PAIRS_TABLE.name) return [r.int(PAIR_AS), PAIR_BS[r.int(PAIR_BS.length)]!];
  return r.int(TYPED_KEYS);
}

function pickOf<T>(r: Random, values: readonly T[]): T {
  return values[r.int(values.length)]!;
}

/** A row for `key`, each nullable column omitted, NULL or a boundary value. */
function randomRow(table: string, key: Value | Value[], r: Random, id: number): Row {
  if (table === PAIRS_TABLE.name) {
    const [a, b] = key as Value[];
    return { a, b, n: BigInt(r.int(5)), w: BigInt(id) };
  }
  if (table === SCRATCH_TABLE.name) {
    const row: Row = { k: key as Value, w: BigInt(id) };
    if (r.chance(0.7)) row.x = r.chance(0.2) ? null : pickOf(r, ['', 'x', 'yy', 'é']);
    return row;
  }
  const row: Row = { id: key as Value, w: BigInt(id) };
  const maybe = (name: string, values: readonly Value[]): void => {
    const p = r.next();
    if (p < 0.3) return; // omitted: NULL
    row[name] = p < 0.4 ? null : pickOf(r, values);
  };
  maybe('i32', INT32S);
  maybe('i64', INT64S);
  maybe('f64', FLOATS);
  maybe('b', [true, false]);
  maybe('s', STRINGS);
  maybe('by', BYTES);
  maybe('u', UNIQUES);
  maybe('g', [0, 1, 2]);
  return row;
}

/** Changes for an update: one to three columns, indexed ones included. */
function randomChanges(table: string, r: Random, id: number): Row {
  if (table === PAIRS_TABLE.name) return { n: BigInt(r.int(5)), w: BigInt(id) };
  if (table === SCRATCH_TABLE.name) return { x: r.chance(0.3) ? null : pickOf(r, ['', 'x', 'zz']), w: BigInt(id) };
  const out: Row = { w: BigInt(id) };
  const columns: [string, readonly Value[]][] = [
    ['i32', INT32S],
    ['i64', INT64S],
    ['f64', FLOATS],
    ['s', STRINGS],
    ['by', BYTES],
    ['u', UNIQUES],
    ['g', [0, 1, 2]],
  ];
  const k = 1 + r.int(3);
  for (let i = 0; i < k; i++) {
    const [name, values] = pickOf(r, columns);
    out[name] = r.chance(0.2) ? null : pickOf(r, values);
  }
  return out;
}

/** A small deterministic generator for the values a transaction draws (the same whatever it reads). */
function pseudo(seed: number): Random {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const r: Random = {
    seed,
    next,
    int: (max) => Math.floor(next() * max),
    chance: (p) => p > 0 && next() < p,
    fork: () => pseudo(s ^ 0x5bd1e995),
  };
  return r;
}

export { CHECKED_TABLE };
