// A client session, bound for its whole life to one simulated core and so to one NUMA socket (chosen
// by affinity_mode when it opens, as MOT fixes a committer's socket per thread). It runs one
// transaction at a time.

import { Errors } from '../errors.js';
import { Transaction, type CommitResult, type TransactionOwner } from './transaction.js';
import type { TransactionHost } from './transaction-host.js';

export interface SessionHost extends TransactionHost {
  nextTxId(): number;
  sessionClosed(session: Session): void;
  /** A transaction of a session ended, committed or aborted (statistics). */
  transactionEnded?(tx: Transaction): void;
}

export class Session implements TransactionOwner {
  private current: Transaction | undefined;
  private closedFlag = false;

  constructor(
    private readonly host: SessionHost,
    readonly id: number,
    readonly core: number,
    readonly socket: number,
  ) {}

  /** Start a transaction. A session runs one at a time. */
  begin(): Transaction {
    if (this.closedFlag) throw Errors.invalidState(`session ${this.id} is closed`);
    if (this.current) {
      throw Errors.invalidState(`session ${this.id} already has transaction ${this.current.txId} in progress (${this.current.state})`);
    }
    const tx = new Transaction(this.host, this.host.nextTxId(), this.socket, this);
    this.current = tx;
    return tx;
  }

  transactionEnded(tx: Transaction): void {
    if (this.current === tx) this.current = undefined;
    this.host.transactionEnded?.(tx);
  }

  /** Run `body` in a transaction and commit it; roll back if `body` throws. */
  async transaction<T>(body: (tx: Transaction) => T): Promise<{ value: T; commit: CommitResult }> {
    const tx = this.begin();
    let value: T;
    try {
      value = body(tx);
    } catch (e) {
      tx.rollback();
      throw e;
    }
    const commit = await tx.commit();
    return { value, commit };
  }

  get inTransaction(): boolean {
    return this.current !== undefined;
  }

  close(): void {
    if (this.closedFlag) return;
    this.current?.rollback();
    this.closedFlag = true;
    this.host.sessionClosed(this);
  }
}
