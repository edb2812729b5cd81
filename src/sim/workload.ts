// Workloads the crash checker can judge: transactions on one checked table whose rows carry the id of
// the transaction that wrote them, recorded in the ledger as they run. A workload is a function of a
// WorkloadContext; `defaultWorkload` is the one crash-test runs unless given another.

import type { IndexDef, Row, TableDef } from '../store/schema.js';
import type { DdlResult, Engine } from '../engine.js';
import type { DdlOp, KeyInput, OpOutcome } from './model.js';
import type { Session } from '../transaction/session.js';
import type { Transaction } from '../transaction/transaction.js';
import type { Clock } from '../io/clock.js';
import type { Random } from '../io/random.js';
import { Errors, isMotError, type MotError } from '../errors.js';
import type { Ledger, LedgerEntry, RowValue } from './ledger.js';

/** The table every checked workload writes: key, writer's ledger id, a padding that names both. */
export const CHECKED_TABLE: TableDef = {
  name: 'crash_rows',
  columns: [
    { name: 'k', type: 'int64', nullable: false },
    { name: 'v', type: 'int64', nullable: false },
    { name: 'pad', type: 'varchar', size: 1000, nullable: false },
  ],
  primaryKey: ['k'],
};
export const PAD_BYTES_MAX = 1000;

/**
 * SQLSTATEs of a commit refused because the WAL failed for good: EIO (58030), outcome unknown after a
 * failed fdatasync (08007) or read-only until reopened (25006). Disk full (53100) is not among them:
 * sync and group resume once space returns.
 */
const WAL_FAILURE_SQLSTATES = new Set(['58030', '08007', '25006']);
/** transaction_resolution_unknown: the commit may or may not survive (Errors.commitOutcomeUnknown). */
const OUTCOME_UNKNOWN_SQLSTATE = '08007';

/**
 * One transaction as a workload writes it: every operation and the engine's answer are recorded in
 * the ledger, and the checker re-executes them in serial (CSN) order on its model. `put`, `remove`
 * and `get` work on the checked table (CHECKED_TABLE); the others on any table.
 */
export interface RecordedTransaction {
  /** Ledger id: the `v` of every row this transaction writes to the checked table (use it in your rows too). */
  readonly id: number;
  /** Insert or update row `key` of the checked table; its padding is `padBytes` long (0..1000) and names this transaction. */
  put(key: number, padBytes?: number): void;
  /** Delete row `key` of the checked table; false if there is none. */
  remove(key: number): boolean;
  /** Row `key` of the checked table as this transaction sees it. */
  get(key: number): RowValue | undefined;
  /** Insert a row: 'ok', or `23505 <constraint>` when the primary key or a unique index refuses it (the transaction goes on). */
  insert(table: string, row: Row): OpOutcome;
  /** Change columns of row `key`: true, false if there is no such row, or `23505 <index>`. */
  update(table: string, key: KeyInput, changes: Row): OpOutcome | boolean;
  /** Delete row `key`: false if there is none. */
  delete(table: string, key: KeyInput): boolean;
  /** Row `key` as this transaction sees it. */
  read(table: string, key: KeyInput): Row | undefined;
  /** Rows with from <= key <= to (a composite prefix covers the keys starting with it), at most `limit`. */
  scan(table: string, from?: KeyInput, to?: KeyInput, limit?: number): Row[];
}

export type TransactionResult = 'acked' | 'rejected' | 'rolled-back' | 'stopped';

export interface WorkloadContext {
  readonly random: Random;
  readonly clock: Clock;
  /** One session per simulated core (so spread over the sockets). */
  readonly sessions: readonly Session[];
  /** True once the machine crashed: return soon. */
  readonly stopped: boolean;
  /**
   * Run one recorded transaction on `session`; `body` returns 'rollback' to roll back. Resolves with
   * what happened; a serialization failure or a WAL failure is 'rejected', never a rejection.
   */
  transaction(session: Session, body: TransactionBody): Promise<TransactionResult>;
  /** Wait in virtual time (think time). */
  sleepUs(delayUs: number): Promise<void>;
  /** DDL while transactions run, recorded like transactions: 'acked' once done, 'rejected' if refused. */
  createTable(def: TableDef): Promise<TransactionResult>;
  dropTable(name: string): Promise<TransactionResult>;
  truncateTable(name: string): Promise<TransactionResult>;
  /**
   * CREATE [UNIQUE] INDEX on a table with rows: 'rejected' when refused (e.g. 23505: two rows share a
   * key of the unique index; the checker then checks that they did, at the statement's place).
   */
  createIndex(table: string, index: IndexDef): Promise<TransactionResult>;
  dropIndex(table: string, index: string): Promise<TransactionResult>;
  /** Tables that exist now (as the engine's catalog says), by name. */
  tableNames(): string[];
  /** Names of the secondary indexes a table has now (none for a missing table). */
  indexNames(table: string): string[];
  /**
   * The session's thread computes for `delayUs` (a transaction's CPU): in the simulator virtual time
   * moves on and no event runs meanwhile, as a JavaScript thread busy in synchronous code lets no
   * timer fire; a no-op without a simulator.
   */
  cpuUs(delayUs: number): void;
}

export type Workload = (ctx: WorkloadContext) => Promise<void>;

/**
 * A transaction's body: its operations, then nothing (commit) or 'rollback'. It may be async and wait
 * between operations (ctx.sleepUs), so that other sessions' transactions run and commit meanwhile:
 * that is where isolation bugs live.
 */
export type TransactionBody = (tx: RecordedTransaction) => void | 'rollback' | Promise<void | 'rollback'>;

/** The padding stored for `key` by ledger entry `id`: its prefix names both, so any mix-up shows. */
export function padFor(id: number, key: number, padBytes: number): string {
  const prefix = `${id}.${key}.`;
  return padBytes <= prefix.length ? prefix : prefix + 'x'.repeat(Math.min(PAD_BYTES_MAX, padBytes) - prefix.length);
}

/** A recorded transaction left open: write to it, then commit or roll back (once). */
export interface OpenTransaction extends RecordedTransaction {
  readonly session: Session;
  /** Commit; resolves with what happened (never rejects for a MotError). */
  commit(): Promise<TransactionResult>;
  rollback(): void;
}

class Recorded implements OpenTransaction {
  /** The checked table's final writes (what the crash checker compares recovered rows with). */
  private readonly writes = new Map<number, RowValue | null>();
  /** Keys this transaction inserted (absent before it): deleting one again leaves no write at all. */
  private readonly inserted = new Set<number>();
  private ended = false;

  constructor(
    readonly session: Session,
    private readonly tx: Transaction,
    private readonly entry: LedgerEntry,
    private readonly ledger: Ledger,
    private readonly clock: Clock,
  ) {}

  get id(): number {
    return this.entry.id;
  }

  put(key: number, padBytes = 0): void {
    if (!(Number.isSafeInteger(key) && key >= 0)) throw Errors.invalidArgument('key', `${key} is not a non-negative safe integer`);
    if (!(Number.isInteger(padBytes) && padBytes >= 0 && padBytes <= PAD_BYTES_MAX)) {
      throw Errors.invalidArgument('padBytes', `${padBytes} is not an integer from 0 to ${PAD_BYTES_MAX}`);
    }
    const value: RowValue = { v: this.entry.id, pad: padFor(this.entry.id, key, padBytes) };
    const k = BigInt(key);
    if (this.read(CHECKED_TABLE.name, k)) {
      this.update(CHECKED_TABLE.name, k, { v: BigInt(value.v), pad: value.pad });
    } else {
      const outcome = this.insert(CHECKED_TABLE.name, { k, v: BigInt(value.v), pad: value.pad });
      if (outcome !== 'ok') throw Errors.invalidState(`put(${key}): the checked table refused the insert (${outcome})`);
      if (this.writes.get(key) !== null) this.inserted.add(key); // absent before this transaction
    }
    this.writes.set(key, value);
  }

  remove(key: number): boolean {
    const removed = this.delete(CHECKED_TABLE.name, BigInt(key));
    if (!removed) return false;
    if (this.inserted.delete(key)) this.writes.delete(key); // insert + delete: the engine logs nothing
    else this.writes.set(key, null);
    return true;
  }

  get(key: number): RowValue | undefined {
    const row = this.read(CHECKED_TABLE.name, BigInt(key));
    return row === undefined ? undefined : { v: Number(row.v), pad: String(row.pad) };
  }

  insert(table: string, row: Row): OpOutcome {
    const result = refusalOr(() => this.tx.insert(table, row));
    this.entry.ops.push({ op: 'insert', table, row: { ...row }, result });
    return result;
  }

  update(table: string, key: KeyInput, changes: Row): OpOutcome | boolean {
    let found = false;
    const refused = refusalOr(() => (found = this.tx.update(table, key, changes)));
    const result = refused === 'ok' ? found : refused;
    this.entry.ops.push({ op: 'update', table, key, changes: { ...changes }, result });
    return result;
  }

  delete(table: string, key: KeyInput): boolean {
    const result = this.tx.delete(table, key);
    this.entry.ops.push({ op: 'delete', table, key, result });
    return result;
  }

  read(table: string, key: KeyInput): Row | undefined {
    const result = this.tx.get(table, key);
    this.entry.ops.push({ op: 'get', table, key, result });
    return result;
  }

  scan(table: string, from?: KeyInput, to?: KeyInput, limit?: number): Row[] {
    const result = this.tx.scan(table, from, to, limit === undefined ? {} : { limit });
    this.entry.ops.push({ op: 'scan', table, from, to, limit, result });
    return result;
  }

  rollback(): void {
    if (this.ended) return;
    this.ended = true;
    this.tx.rollback();
    this.ledger.rolledBack(this.entry, this.clock.nowUs());
  }

  async commit(): Promise<TransactionResult> {
    if (this.ended) throw Errors.invalidState(`recorded transaction ${this.entry.id} already ended`);
    this.ended = true;
    const entry = this.entry;
    entry.writes = [...this.writes].map(([key, value]) => ({ key, value }));
    const tx = this.tx;
    this.ledger.commitCalled(entry, this.clock.nowUs(), () => tx.csn);
    try {
      const result = await tx.commit();
      this.ledger.acked(entry, result.csn, this.clock.nowUs(), result.snapshotCsn);
      return 'acked';
    } catch (e) {
      if (!isMotError(e)) throw e;
      recordRefusal(this.ledger, entry, e, this.clock.nowUs());
      return 'rejected';
    }
  }
}

/** A commit or DDL statement the engine refused: in the ledger with its SQLSTATE, and whether its outcome is unknown. */
function recordRefusal(ledger: Ledger, entry: LedgerEntry, e: MotError, atUs: number): void {
  ledger.rejected(entry, `${e.sqlstate} ${e.message}`, WAL_FAILURE_SQLSTATES.has(e.sqlstate), atUs, e.sqlstate === OUTCOME_UNKNOWN_SQLSTATE);
}

/** Run `f`; a unique violation becomes `23505 <constraint>`, anything else propagates. */
function refusalOr(f: () => unknown): OpOutcome {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!isMotError(e) || e.sqlstate !== '23505') throw e;
    const constraint = /constraint "([^"]+)"/.exec(e.message)?.[1] ?? '?';
    return `23505 ${constraint}`;
  }
}

/** The context a workload runs in during one engine incarnation. */
export class WorkloadRunner implements WorkloadContext {
  stopped = false;
  /** The longest single cpuUs() call so far (the event-loop lateness check scales with it). */
  cpuUsMax = 0;

  constructor(
    private readonly ledger: Ledger,
    readonly sessions: readonly Session[],
    readonly clock: Clock,
    readonly random: Random,
    /** The engine (for DDL) and busy time in the simulator (Scheduler.busyUs; absent: cpuUs() is a no-op). */
    private readonly options: { engine?: Engine; busy?: (us: number) => void } = {},
  ) {}

  sleepUs(delayUs: number): Promise<void> {
    return this.clock.sleepUs(delayUs);
  }

  cpuUs(delayUs: number): void {
    if (!(Number.isFinite(delayUs) && delayUs >= 0)) throw Errors.invalidArgument('cpuUs', `${delayUs} is not a number of µs >= 0`);
    this.cpuUsMax = Math.max(this.cpuUsMax, delayUs);
    this.options.busy?.(delayUs);
  }

  /** Start a recorded transaction on `session` (which must have none open). */
  begin(session: Session): OpenTransaction {
    const tx = session.begin();
    const entry = this.ledger.begin(tx.txId, session.id, session.socket, this.clock.nowUs());
    return new Recorded(session, tx, entry, this.ledger, this.clock);
  }

  async transaction(session: Session, body: TransactionBody): Promise<TransactionResult> {
    if (this.stopped) return 'stopped';
    const open = this.begin(session);
    let verdict: void | 'rollback';
    try {
      const v = body(open);
      // A synchronous body commits in the same step; an asynchronous one lets others run in between.
      verdict = v instanceof Promise ? await v : v;
    } catch (e) {
      open.rollback();
      if (isMotError(e)) return 'rolled-back';
      throw e;
    }
    if (this.stopped) {
      open.rollback(); // the machine crashed while the body waited
      return 'stopped';
    }
    if (verdict === 'rollback') {
      open.rollback();
      return 'rolled-back';
    }
    return open.commit();
  }

  createTable(def: TableDef): Promise<TransactionResult> {
    return this.ddl({ ddl: 'create', table: def.name, def }, undefined, (e) => e.createTable(def));
  }

  dropTable(name: string): Promise<TransactionResult> {
    return this.ddl({ ddl: 'drop', table: name }, this.tableId(name), (e) => e.dropTable(name));
  }

  truncateTable(name: string): Promise<TransactionResult> {
    return this.ddl({ ddl: 'truncate', table: name }, this.tableId(name), (e) => e.truncateTable(name));
  }

  createIndex(table: string, index: IndexDef): Promise<TransactionResult> {
    return this.ddl({ ddl: 'create-index', table, index }, this.tableId(table), (e) => e.createIndex(table, index));
  }

  dropIndex(table: string, index: string): Promise<TransactionResult> {
    return this.ddl({ ddl: 'drop-index', table, index }, this.tableId(table), (e) => e.dropIndex(table, index));
  }

  tableNames(): string[] {
    return this.needEngine().tables().map((t) => t.name);
  }

  indexNames(table: string): string[] {
    return this.needEngine().catalog.find(table)?.schema.indexes.map((i) => i.name) ?? [];
  }

  private tableId(name: string): number | undefined {
    return this.needEngine().tables().find((t) => t.name === name)?.id;
  }

  private needEngine(): Engine {
    if (!this.options.engine) throw Errors.invalidState('this workload context was made without an engine: it cannot run DDL');
    return this.options.engine;
  }

  private async ddl(op: DdlOp, tableId: number | undefined, run: (engine: Engine) => Promise<DdlResult>): Promise<TransactionResult> {
    if (this.stopped) return 'stopped';
    const engine = this.needEngine();
    const entry = this.ledger.ddlRequested(op, tableId, 0, this.clock.nowUs());
    // The engine makes every check of a DDL statement in the call's first synchronous step: its view
    // is the state after this CSN (LedgerEntry.snapshotCsn).
    entry.snapshotCsn = engine.lastCsn();
    try {
      const result = await run(engine);
      this.ledger.acked(entry, result.csn, this.clock.nowUs());
      return 'acked';
    } catch (e) {
      if (!isMotError(e)) throw e;
      recordRefusal(this.ledger, entry, e, this.clock.nowUs());
      return 'rejected';
    }
  }
}
