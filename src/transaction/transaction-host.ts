// What a transaction needs from the engine that runs it: tables, the lock table, the CSN counter,
// the redo encoder and the redo log handler. Keeps transaction.ts free of engine wiring.

import type { Clock } from '../io/clock.js';
import type { SlotId, Table } from '../store/table.js';
import type { RedoEncoder } from '../redo/redo-encoder.js';
import type { RedoLogHandler } from '../commit-group/redo-log-handler.js';
import type { LockTable } from './lock-table.js';
import type { MotError } from '../errors.js';
import type { Value } from '../store/schema.js';
import type { CommitPacer } from './commit-pacer.js';

export interface TransactionHost {
  readonly clock: Clock;
  readonly locks: LockTable;
  readonly redoEncoder: RedoEncoder;
  readonly log: RedoLogHandler;
  /** The table by name; throws RC_TABLE_NOT_FOUND. */
  table(name: string): Table;
  /** Next commit sequence number. */
  nextCsn(): number;
  /** The highest commit sequence number assigned so far. */
  lastCsn(): number;
  /** Why writing commits are refused right now (WAL failure, closing), or undefined. */
  writeRefusal(): MotError | undefined;
  /** Told about committed writes as they are applied (the checkpoint's capture, src/checkpoint/). */
  readonly applyHook: ApplyHook;
  /**
   * Applying the writes of a transaction whose redo was handed to the log failed: a bug, since every
   * check ran before. The engine stops accepting writes (memory may differ from the log) and returns
   * the error to give the client.
   */
  applyFailed(txId: number, cause: unknown): MotError;
  /** Lets the event loop turn between commits (commit-pacer.ts). */
  readonly commitPacer: CommitPacer;
}

export interface ApplyHook {
  /** Before the committed row at `slot` is updated or removed by the transaction with this CSN. */
  beforeRowChange(table: Table, slot: SlotId, csn: number): void;
  /** The transaction with this CSN removes the row with this key (encodedKey: Table.encodeKey of it). */
  rowRemoved(table: Table, key: Value | Value[], encodedKey: string | number | bigint, csn: number): void;
  /** Every write of the transaction with this CSN is applied. */
  applied(csn: number): void;
}
