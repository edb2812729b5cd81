// Workloads the crash checker can judge: transactions on one checked table whose rows carry the id of
// the transaction that wrote them, recorded in the ledger as they run. A workload is a function of a
// WorkloadContext; `defaultWorkload` is the one crash-test runs unless given another.

import type { TableDef } from '../store/schema.js';
import type { Session } from '../transaction/session.js';
import type { Transaction } from '../transaction/transaction.js';
import type { Clock } from '../io/clock.js';
import type { Random } from '../io/random.js';
import { Errors, isMotError } from '../errors.js';
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

/** One transaction as a workload writes it; every change is recorded in the ledger. */
export interface RecordedTransaction {
  /** Ledger id: the `v` of every row this transaction writes. */
  readonly id: number;
  /** Insert or update row `key`; its padding is `padBytes` long (0..1000) and names this transaction. */
  put(key: number, padBytes?: number): void;
  /** Delete row `key`; false if there is none. */
  remove(key: number): boolean;
  /** Row `key` as this transaction sees it. */
  get(key: number): RowValue | undefined;
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
  transaction(session: Session, body: (tx: RecordedTransaction) => void | 'rollback'): Promise<TransactionResult>;
  /** Wait in virtual time (think time). */
  sleepUs(delayUs: number): Promise<void>;
  /**
   * The session's thread computes for `delayUs` (a transaction's CPU): in the simulator virtual time
   * moves on and no event runs meanwhile, as a JavaScript thread busy in synchronous code lets no
   * timer fire; a no-op without a simulator.
   */
  cpuUs(delayUs: number): void;
}

export type Workload = (ctx: WorkloadContext) => Promise<void>;

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
    if (this.tx.get(CHECKED_TABLE.name, k)) {
      this.tx.update(CHECKED_TABLE.name, k, { v: BigInt(value.v), pad: value.pad });
    } else {
      this.tx.insert(CHECKED_TABLE.name, { k, v: BigInt(value.v), pad: value.pad });
      if (this.writes.get(key) !== null) this.inserted.add(key); // absent before this transaction
    }
    this.writes.set(key, value);
  }

  remove(key: number): boolean {
    const removed = this.tx.delete(CHECKED_TABLE.name, BigInt(key));
    if (!removed) return false;
    if (this.inserted.delete(key)) this.writes.delete(key); // insert + delete: the engine logs nothing
    else this.writes.set(key, null);
    return true;
  }

  get(key: number): RowValue | undefined {
    const row = this.tx.get(CHECKED_TABLE.name, BigInt(key));
    return row === undefined ? undefined : { v: Number(row.v), pad: String(row.pad) };
  }

  rollback(): void {
    if (this.ended) return;
    this.ended = true;
    this.tx.rollback();
    this.ledger.rolledBack(this.entry);
  }

  async commit(): Promise<TransactionResult> {
    if (this.ended) throw Errors.invalidState(`recorded transaction ${this.entry.id} already ended`);
    this.ended = true;
    const entry = this.entry;
    entry.writes = [...this.writes].map(([key, value]) => ({ key, value }));
    this.ledger.commitCalled(entry, this.clock.nowUs());
    try {
      const result = await this.tx.commit();
      this.ledger.acked(entry, result.csn, this.clock.nowUs());
      return 'acked';
    } catch (e) {
      if (!isMotError(e)) throw e;
      this.ledger.rejected(entry, `${e.sqlstate} ${e.message}`, WAL_FAILURE_SQLSTATES.has(e.sqlstate), this.clock.nowUs(), e.sqlstate === OUTCOME_UNKNOWN_SQLSTATE);
      return 'rejected';
    }
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
    /** Busy time in the simulator (Scheduler.busyUs); absent: cpuUs() is a no-op. */
    private readonly busy?: (us: number) => void,
  ) {}

  sleepUs(delayUs: number): Promise<void> {
    return this.clock.sleepUs(delayUs);
  }

  cpuUs(delayUs: number): void {
    if (!(Number.isFinite(delayUs) && delayUs >= 0)) throw Errors.invalidArgument('cpuUs', `${delayUs} is not a number of µs >= 0`);
    this.cpuUsMax = Math.max(this.cpuUsMax, delayUs);
    this.busy?.(delayUs);
  }

  /** Start a recorded transaction on `session` (which must have none open). */
  begin(session: Session): OpenTransaction {
    const tx = session.begin();
    const entry = this.ledger.begin(tx.txId, session.id, session.socket, this.clock.nowUs());
    return new Recorded(session, tx, entry, this.ledger, this.clock);
  }

  async transaction(session: Session, body: (tx: RecordedTransaction) => void | 'rollback'): Promise<TransactionResult> {
    if (this.stopped) return 'stopped';
    const open = this.begin(session);
    let verdict: void | 'rollback';
    try {
      verdict = body(open);
    } catch (e) {
      open.rollback();
      if (isMotError(e)) return 'rolled-back';
      throw e;
    }
    if (verdict === 'rollback') {
      open.rollback();
      return 'rolled-back';
    }
    return open.commit();
  }
}

export interface DefaultWorkloadOptions {
  /** Transactions each session runs (default 6). */
  transactionsPerSession?: number;
  /** Hot keys small transactions write (default 12): few, so transactions overwrite and conflict. */
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
   * Think time before each transaction, at most (default 200 µs). 0: none at all, the session never
   * sleeps (a tight `await commit()` loop: it yields only where the engine makes it).
   */
  thinkUsMax?: number;
  /** CPU each transaction costs its session's thread, µs, drawn uniformly (default 0: none). */
  cpuUsMin?: number;
  cpuUsMax?: number;
}

/** First key of the rows big transactions write (apart from the hot keys). */
export const BIG_TRANSACTION_KEY_FIRST = 1000;
const BIG_TRANSACTION_ROWS = 72;

/**
 * Every session runs a bounded number of small transactions (1..n puts and deletes on a few hot keys,
 * random padding), now and then a big one (several redo buffers) or a client rollback.
 */
export function defaultWorkload(options: DefaultWorkloadOptions = {}): Workload {
  const perSession = options.transactionsPerSession ?? 6;
  const keys = options.keys ?? 12;
  const writesMax = options.writesPerTransactionMax ?? 3;
  const deleteP = options.deleteProbability ?? 0.25;
  const rollbackP = options.rollbackProbability ?? 0.05;
  const bigP = options.bigTransactionProbability ?? 0.03;
  const padMax = options.padBytesMax ?? 600;
  const thinkMax = options.thinkUsMax ?? 200;
  const cpuMin = options.cpuUsMin ?? 0;
  const cpuMax = Math.max(cpuMin, options.cpuUsMax ?? 0);
  return async (ctx) => {
    const r = ctx.random;
    const loop = async (session: Session): Promise<void> => {
      for (let i = 0; i < perSession && !ctx.stopped; i++) {
        if (thinkMax > 0) await ctx.sleepUs(r.int(thinkMax + 1));
        if (ctx.stopped) return;
        const cpu = cpuMax > 0 ? cpuMin + r.int(cpuMax - cpuMin + 1) : 0;
        const big = r.chance(bigP);
        const rollback = r.chance(rollbackP);
        const writes = 1 + r.int(writesMax);
        const plan = Array.from({ length: big ? BIG_TRANSACTION_ROWS : writes }, (_, j) =>
          big
            ? { key: BIG_TRANSACTION_KEY_FIRST + j, del: false, pad: 900 + r.int(51) }
            : { key: r.int(keys), del: r.chance(deleteP), pad: r.int(padMax + 1) },
        );
        await ctx.transaction(session, (tx) => {
          for (const w of plan) {
            if (w.del) tx.remove(w.key);
            else tx.put(w.key, w.pad);
          }
          if (cpu > 0 && !rollback) ctx.cpuUs(cpu); // a rolled-back transaction's work is not modelled
          return rollback ? 'rollback' : undefined;
        });
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
