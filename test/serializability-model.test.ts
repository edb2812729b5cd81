// Model-based (fast-check commands): several sessions keep transactions open at once and interleave
// their operations in any order fast-check draws (point reads of present and absent keys, scans with
// limits and composite prefixes, inserts with omitted columns, NULLs and boundary values of every
// type, unique-index collisions, updates of indexed columns, deletes), commit while others are open,
// roll back, let virtual time pass, run DDL (tables, and unique and non-unique indexes created and
// dropped on tables with rows: a unique one over duplicates is refused), crash and recover. After each recovery, and at the end,
// the oracle re-executes every transaction in CSN order on its model (src/sim/serializability.ts)
// and compares the recovered tables with the state after a prefix of the log (src/sim/checker.ts).
// A failure shrinks to a minimal command list and prints fast-check's seed and path; set
// MOTSIM_FC_SEED and MOTSIM_FC_PATH to replay it.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Engine } from '../src/engine.js';
import { isMotError } from '../src/errors.js';
import type { Row, Value } from '../src/store/schema.js';
import type { Session } from '../src/transaction/session.js';
import { SimWorld } from '../src/sim/world.js';
import { Ledger } from '../src/sim/ledger.js';
import { formatEntryData } from '../src/sim/entry-data.js';
import { checkCrash, type CrashCheckResult } from '../src/sim/checker.js';
import { WorkloadRunner, type OpenTransaction } from '../src/sim/workload.js';
import { readEngineState } from '../src/sim/engine-state.js';
import type { ModelDb } from '../src/sim/model.js';
import type { CrashTestMode } from '../src/sim/crash-test.js';
import { BYTES, FLOATS, INT32S, INT64S, PAIRS_TABLE, PAIR_BS, SCRATCH_TABLE, STRINGS, TOGGLED_INDEXES, TYPED_TABLE, UNIQUES } from '../src/sim/default-workload.js';

const MODES: readonly CrashTestMode[] = ['synchronous', 'group', 'asynchronous'];
const SESSIONS = 4;
const RUNS = Number(process.env.MOTSIM_FC_RUNS ?? 150);
const WAL_WRITER_DELAY_US = 1000;

function config(mode: CrashTestMode): Record<string, string | number | boolean> {
  return {
    synchronous_commit: mode !== 'asynchronous',
    enable_group_commit: mode === 'group',
    group_commit_size: 3,
    group_commit_timeout: '300us',
    wal_writer_delay: `${WAL_WRITER_DELAY_US}us`,
    wal_segment_size: '1MB',
    redo_buffer_size: '64KB',
  };
}

interface Real {
  mode: CrashTestMode;
  world: SimWorld;
  engine: Engine;
  ledger: Ledger;
  runner: WorkloadRunner;
  sessions: Session[];
  open: Map<number, OpenTransaction>;
  committing: Set<number>;
  /** Tables and rows when the current incarnation started. */
  base: ModelDb;
  checks: CrashCheckResult[];
}

/** What fast-check needs to decide which commands can run: sessions with a transaction open or committing. */
interface Model {
  open: Set<number>;
  committing: Set<number>;
}

type Cmd = fc.AsyncCommand<Model, Real>;

async function start(mode: CrashTestMode, seed: number): Promise<Real> {
  const world = SimWorld.create({ seed, machine: { sockets: 2, coresPerSocket: 2 } });
  const ledger = new Ledger();
  ledger.walSegmentBytes = 1024 * 1024;
  const engine = await world.run('open', Engine.open(world.dir, world.engineOptions({ config: config(mode), observer: ledger.observer() })));
  for (const def of [TYPED_TABLE, PAIRS_TABLE, SCRATCH_TABLE]) await world.run(`create ${def.name}`, engine.createTable(def));
  await world.run('flush', engine.flush());
  ledger.startEpoch(0, engine.recovery.wal.end.endLsn);
  const sessions = Array.from({ length: SESSIONS }, (_, core) => engine.openSession({ core }));
  return {
    mode,
    world,
    engine,
    ledger,
    runner: new WorkloadRunner(ledger, sessions, world.clock, world.random, { engine, busy: (us) => world.scheduler.busyUs(us) }),
    sessions,
    open: new Map(),
    committing: new Set(),
    base: readEngineState(engine),
    checks: [],
  };
}

/** Crash the machine, recover, and let the checker judge the incarnation that crashed. */
async function crashAndCheck(r: Real): Promise<void> {
  const crashedEpoch = r.world.epoch;
  const crashAtUs = r.world.scheduler.nowUs;
  r.ledger.crashed(crashAtUs); // answers that arrive later reach no client
  r.world.crash(r.engine);
  r.open.clear();
  r.committing.clear();
  const world = r.world.restart({ faults: {} });
  const engine = await world.run('recover', Engine.open(world.dir, world.engineOptions({ config: config(r.mode), observer: r.ledger.observer() })));
  const state = readEngineState(engine);
  const check = checkCrash({ mode: r.mode, ledger: r.ledger, epoch: crashedEpoch, base: r.base, recovery: { ok: true, state }, damage: [], crashAtUs, walWriterDelayUs: WAL_WRITER_DELAY_US });
  r.checks.push(check);
  expect(check.violations.map((v) => `${v.kind}: ${v.message}\n    ${v.entries.map(formatEntryData).join('\n    ')}`).join('\n')).toBe('');
  r.ledger.startEpoch(world.epoch, engine.recovery.wal.end.endLsn);
  r.world = world;
  r.engine = engine;
  r.base = state;
  r.sessions = Array.from({ length: SESSIONS }, (_, core) => engine.openSession({ core }));
  r.runner = new WorkloadRunner(r.ledger, r.sessions, world.clock, world.random, { engine, busy: (us) => world.scheduler.busyUs(us) });
}

/** Run one recorded operation; an error that ends the transaction (40001, a table gone) rolls it back. */
function operate(r: Real, m: Model, s: number, f: (tx: OpenTransaction) => unknown): void {
  if (!r.open.has(s)) return;
  const tx = r.open.get(s)!;
  try {
    f(tx);
  } catch (e) {
    if (!isMotError(e)) throw e;
    tx.rollback();
    r.open.delete(s);
    m.open.delete(s);
  }
}

/** The `pick`-th (modulo) session that is idle, or that has a transaction open. */
function idle(m: Readonly<Model>): number[] {
  return Array.from({ length: SESSIONS }, (_, s) => s).filter((s) => !m.open.has(s) && !m.committing.has(s));
}
function pickOf(list: readonly number[], pick: number): number {
  return list[pick % list.length]!;
}
function openSessions(m: Readonly<Model>): number[] {
  return [...m.open].sort((a, b) => a - b);
}

class Begin implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => idle(m).length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const s = pickOf(idle(m), this.pick);
    r.open.set(s, r.runner.begin(r.sessions[s]!));
    m.open.add(s);
  }
  toString = (): string => `begin(idle #${this.pick})`;
}

type OpSpec =
  | { kind: 'read'; table: string; key: Value | Value[] }
  | { kind: 'scan'; table: string; from?: Value | Value[]; to?: Value | Value[]; limit?: number }
  | { kind: 'insert'; table: string; row: Row }
  | { kind: 'update'; table: string; key: Value | Value[]; changes: Row }
  | { kind: 'delete'; table: string; key: Value | Value[] };

class Op implements Cmd {
  constructor(
    readonly pick: number,
    readonly spec: OpSpec,
  ) {}
  check = (m: Readonly<Model>): boolean => m.open.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const o = this.spec;
    operate(r, m, pickOf(openSessions(m), this.pick), (tx) => {
      if (o.kind === 'read') return tx.read(o.table, o.key);
      if (o.kind === 'scan') return tx.scan(o.table, o.from, o.to, o.limit);
      if (o.kind === 'insert') return tx.insert(o.table, o.row);
      if (o.kind === 'update') return tx.update(o.table, o.key, o.changes);
      return tx.delete(o.table, o.key);
    });
  }
  toString = (): string => `${this.spec.kind}(open #${this.pick}, ${stringify(this.spec)})`;
}

class Commit implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.open.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const s = pickOf(openSessions(m), this.pick);
    const tx = r.open.get(s)!;
    r.open.delete(s);
    m.open.delete(s);
    m.committing.add(s);
    r.committing.add(s);
    const world = r.world;
    void tx.commit().then(() => {
      if (r.world !== world) return; // the machine crashed meanwhile: the client never heard back
      m.committing.delete(s);
      r.committing.delete(s);
    });
    await world.scheduler.run({ untilUs: world.scheduler.nowUs }); // what can run at this instant runs
  }
  toString = (): string => `commit(open #${this.pick})`;
}

class Rollback implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.open.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const s = pickOf(openSessions(m), this.pick);
    r.open.get(s)!.rollback();
    r.open.delete(s);
    m.open.delete(s);
  }
  toString = (): string => `rollback(open #${this.pick})`;
}

class Advance implements Cmd {
  constructor(readonly us: number) {}
  check = (): boolean => true;
  async run(_m: Model, r: Real): Promise<void> {
    await r.world.scheduler.run({ untilUs: r.world.scheduler.nowUs + this.us });
  }
  toString = (): string => `advance(${this.us}us)`;
}

class Ddl implements Cmd {
  constructor(readonly what: 'truncate-pairs' | 'drop-scratch' | 'create-scratch' | 'truncate-scratch') {}
  check = (): boolean => true;
  async run(_m: Model, r: Real): Promise<void> {
    const has = r.runner.tableNames().includes(SCRATCH_TABLE.name);
    let done: Promise<unknown>;
    if (this.what === 'truncate-pairs') done = r.runner.truncateTable(PAIRS_TABLE.name);
    else if (this.what === 'create-scratch') done = has ? Promise.resolve() : r.runner.createTable(SCRATCH_TABLE);
    else if (!has) done = Promise.resolve();
    else done = this.what === 'drop-scratch' ? r.runner.dropTable(SCRATCH_TABLE.name) : r.runner.truncateTable(SCRATCH_TABLE.name);
    void done;
    await r.world.scheduler.run({ untilUs: r.world.scheduler.nowUs });
  }
  toString = (): string => this.what;
}

/** CREATE INDEX when the table lacks it, else DROP INDEX (one of the default workload's TOGGLED_INDEXES). */
class IndexDdl implements Cmd {
  constructor(readonly which: number) {}
  check = (): boolean => true;
  async run(_m: Model, r: Real): Promise<void> {
    const { table, index } = TOGGLED_INDEXES[this.which]!;
    if (r.runner.tableNames().includes(table)) {
      const done = r.runner.indexNames(table).includes(index.name) ? r.runner.dropIndex(table, index.name) : r.runner.createIndex(table, index);
      void done;
    }
    await r.world.scheduler.run({ untilUs: r.world.scheduler.nowUs });
  }
  toString = (): string => {
    const { table, index } = TOGGLED_INDEXES[this.which]!;
    return `toggle-index(${table}.${index.name})`;
  };
}

class Crash implements Cmd {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await crashAndCheck(r);
    m.open.clear();
    m.committing.clear();
  }
  toString = (): string => 'crash+recover';
}

function stringify(spec: OpSpec): string {
  return JSON.stringify(spec, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `x'${Buffer.from(v).toString('hex')}'` : Object.is(v, -0) ? '-0' : v));
}

// ---- arbitraries ----

const session = fc.integer({ min: 0, max: SESSIONS - 1 });
const typedKey = fc.integer({ min: 0, max: 5 });
const pairKey = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom(...PAIR_BS));
/** A column's value: omitted (undefined), NULL, or a boundary value of its type. */
const maybe = <T>(values: readonly T[]): fc.Arbitrary<T | null | undefined> => fc.oneof(fc.constant(undefined), fc.constant(null), fc.constantFrom(...values));

const typedRow = fc
  .record({
    id: typedKey,
    i32: maybe(INT32S),
    i64: maybe(INT64S),
    f64: maybe(FLOATS),
    b: maybe([true, false]),
    s: maybe(STRINGS),
    by: maybe(BYTES),
    u: maybe(UNIQUES),
    g: maybe([0, 1, 2]),
    w: fc.bigInt({ min: 0n, max: 99n }),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Row);

const typedChanges = fc
  .record({ i32: maybe(INT32S), i64: maybe(INT64S), f64: maybe(FLOATS), s: maybe(STRINGS), by: maybe(BYTES), u: maybe(UNIQUES), g: maybe([0, 1, 2]) })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Row);

const opSpec: fc.Arbitrary<OpSpec> = fc.oneof(
  typedKey.map((key) => ({ kind: 'read', table: TYPED_TABLE.name, key }) as OpSpec),
  pairKey.map((key) => ({ kind: 'read', table: PAIRS_TABLE.name, key }) as OpSpec),
  fc.tuple(fc.option(typedKey, { nil: undefined }), fc.option(typedKey, { nil: undefined }), fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined })).map(
    ([from, to, limit]) => ({ kind: 'scan', table: TYPED_TABLE.name, from, to, limit }) as OpSpec,
  ),
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined })).map(
    ([a, limit]) => ({ kind: 'scan', table: PAIRS_TABLE.name, from: [a], to: [a], limit }) as OpSpec,
  ),
  typedRow.map((row) => ({ kind: 'insert', table: TYPED_TABLE.name, row }) as OpSpec),
  fc.tuple(pairKey, fc.bigInt({ min: 0n, max: 5n })).map(([[a, b], n]) => ({ kind: 'insert', table: PAIRS_TABLE.name, row: { a, b, n, w: 0n } }) as OpSpec),
  fc.tuple(fc.integer({ min: 0, max: 5 }), fc.option(fc.constantFrom('x', 'yy', ''), { nil: null })).map(
    ([k, x]) => ({ kind: 'insert', table: SCRATCH_TABLE.name, row: { k, x, w: 0n } }) as OpSpec,
  ),
  fc.tuple(typedKey, typedChanges).map(([key, changes]) => ({ kind: 'update', table: TYPED_TABLE.name, key, changes }) as OpSpec),
  fc.tuple(pairKey, fc.bigInt({ min: 0n, max: 5n })).map(([key, n]) => ({ kind: 'update', table: PAIRS_TABLE.name, key, changes: { n } }) as OpSpec),
  typedKey.map((key) => ({ kind: 'delete', table: TYPED_TABLE.name, key }) as OpSpec),
  pairKey.map((key) => ({ kind: 'delete', table: PAIRS_TABLE.name, key }) as OpSpec),
);

function commands(): fc.Arbitrary<Cmd>[] {
  const op = fc.tuple(session, opSpec).map(([s, spec]): Cmd => new Op(s, spec));
  // Weighted so that transactions hold a few operations each, overlap, and commit; DDL and crashes
  // are rare (a crash ends every open transaction).
  return [
    fc.oneof(
      { arbitrary: session.map((s): Cmd => new Begin(s)), weight: 6 },
      { arbitrary: op, weight: 16 },
      { arbitrary: session.map((s): Cmd => new Commit(s)), weight: 6 },
      { arbitrary: session.map((s): Cmd => new Rollback(s)), weight: 1 },
      { arbitrary: fc.integer({ min: 0, max: 2000 }).map((us): Cmd => new Advance(us)), weight: 4 },
      { arbitrary: fc.constantFrom('truncate-pairs', 'drop-scratch', 'create-scratch', 'truncate-scratch').map((w): Cmd => new Ddl(w as Ddl['what'])), weight: 1 },
      { arbitrary: fc.integer({ min: 0, max: TOGGLED_INDEXES.length - 1 }).map((i): Cmd => new IndexDdl(i)), weight: 1 },
      { arbitrary: fc.constant<Cmd>(new Crash()), weight: 1 },
    ),
  ];
}

describe('model-based (fast-check): interleaved transactions over every column type, indexes, scans and DDL are serializable in CSN order and recover as a log prefix', () => {
  for (const mode of MODES) {
    it(`${mode}: ${RUNS} command sequences, checked after every crash and at the end`, async () => {
      const seed = process.env.MOTSIM_FC_SEED !== undefined ? Number(process.env.MOTSIM_FC_SEED) : undefined;
      const path = process.env.MOTSIM_FC_PATH;
      const replayPath = process.env.MOTSIM_FC_COMMANDS;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 0x7fff_ffff }), fc.commands(commands(), { maxCommands: 100, size: 'max', ...(replayPath ? { replayPath } : {}) }), async (worldSeed, cmds) => {
          const real = await start(mode, worldSeed);
          await fc.asyncModelRun(() => ({ model: { open: new Set<number>(), committing: new Set<number>() }, real }), cmds);
          // Let every commit finish, then the final check: crash, recover, and judge the last incarnation.
          await real.world.scheduler.run({ untilUs: real.world.scheduler.nowUs + 20_000 });
          await crashAndCheck(real);
          void real.engine.abandon();
        }),
        { numRuns: RUNS, ...(seed !== undefined ? { seed } : {}), ...(path !== undefined ? { path } : {}), reporter: replayReporter(mode) },
      );
    }, 600_000);
  }

  it('the oracle is not vacuous: transactions commit, and reads are re-executed', async () => {
    const r = await start('group', 5);
    const s0 = r.runner.begin(r.sessions[0]!);
    s0.insert(TYPED_TABLE.name, { id: 1, w: 1n });
    const s1 = r.runner.begin(r.sessions[1]!);
    s1.read(TYPED_TABLE.name, 2);
    s1.scan(TYPED_TABLE.name, 2, 4);
    await r.world.run('commits', Promise.all([s0.commit(), s1.commit()]));
    await crashAndCheck(r);
    expect(r.checks[0]!.serialized).toBe(2);
    expect(r.checks[0]!.acked).toBe(1);
  });
});

/** fast-check's report plus the replay line (environment variables this file reads). */
function replayReporter(mode: CrashTestMode) {
  return (details: fc.RunDetails<[number, Iterable<fc.AsyncCommand<Model, Real>>]>): void => {
    if (!details.failed) return;
    const commandsPath = /replayPath="([^"]*)"/.exec(String(details.counterexample?.[1] ?? ''))?.[1] ?? '';
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `${fc.defaultReportMessage(details)}\n${cause}\nreplay: MOTSIM_FC_SEED=${details.seed} MOTSIM_FC_PATH=${details.counterexamplePath ?? ''} ` +
        `MOTSIM_FC_COMMANDS='${commandsPath}' npx vitest run test/serializability-model.test.ts -t ${mode}`,
    );
  };
}
