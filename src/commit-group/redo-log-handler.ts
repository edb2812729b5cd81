// The redo log handler a committing transaction hands its redo buffers to. One implementation per
// logging mode (MOT's RedoLogHandler family): synchronous, group synchronous (per-socket commit
// groups), asynchronous (background writer), and none (enable_redo_log = false).

import type { Clock } from '../io/clock.js';
import type { WalWriter } from '../wal/wal-writer.js';
import type { FramePayload } from '../wal/wal-format.js';
import type { EngineConfig, LoggingMode } from '../config/config.js';

/** What happened on the commit path, for statistics, reports and the simulator's ledger. */
export interface CommitObserver {
  groupOpened?(socket: number, groupId: number, atUs: number): void;
  groupJoined?(socket: number, groupId: number, member: number, atUs: number): void;
  groupClosed?(socket: number, groupId: number, reason: 'size' | 'timeout' | 'flush', members: number, atUs: number): void;
  /**
   * Frames of redo were placed in the log (not yet durable): payloads[i] (one redo buffer, or several
   * laid end to end) is the frame at frameLsns[i]. Each buffer's end block holds its transaction id
   * and CSN (redo-format.ts). Called once per batch, in log order.
   */
  logged?(socket: number, frameLsns: readonly number[], payloads: readonly FramePayload[], atUs: number): void;
  /** A batch of redo reached the disk: everything up to endLsn is durable. */
  flushed?(socket: number | undefined, startLsn: number, endLsn: number, transactions: number, bytes: number, atUs: number): void;
}

export interface LogStats {
  mode: LoggingMode;
  /** Redo buffers handed to the log (one or more per committed writing transaction). */
  buffers: number;
  transactions: number;
  /** Write+flush requests issued (a group, a sync commit or an async flush round each count one). */
  flushes: number;
  groups: number;
  groupsClosedBySize: number;
  groupsClosedByTimeout: number;
  walBytes: number;
}

export interface RedoLogHandler {
  readonly mode: LoggingMode;
  /**
   * Log a committed transaction's redo buffers. Resolves when the mode's promise holds: durable
   * (synchronous, group) or buffered (asynchronous, none). Rejects with a MotError if the redo
   * could not be made durable: the transaction is then NOT committed.
   * Returns undefined when the commit is already complete (asynchronous fast path, none).
   */
  commit(buffers: Uint8Array[], socket: number): Promise<void> | undefined;
  /** Make everything handed over so far durable (flush_table, close). */
  flush(): Promise<void>;
  /**
   * Place every buffer handed over so far in the log now, in the caller's synchronous step (a
   * checkpoint's PREPARE); absent when commit() always places at once or waits for durability.
   */
  placeBuffered?(): void;
  /** Flush and stop timers. */
  close(): Promise<void>;
  /** Stop timers without flushing (a simulated crash). */
  abandon?(): void;
  stats(): LogStats;
}

export interface HandlerContext {
  config: EngineConfig;
  clock: Clock;
  wal: WalWriter | undefined;
  observer?: CommitObserver;
}

export function emptyStats(mode: LoggingMode): LogStats {
  return { mode, buffers: 0, transactions: 0, flushes: 0, groups: 0, groupsClosedBySize: 0, groupsClosedByTimeout: 0, walBytes: 0 };
}

export function batchBytes(buffers: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of buffers) n += b.length;
  return n;
}
