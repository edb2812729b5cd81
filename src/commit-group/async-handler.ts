// Asynchronous commit (synchronous_commit = off): the commit copies its redo into the active buffer
// and returns at once; a background writer flushes the buffer every wal_writer_delay. What was not
// flushed when the machine crashes is lost (PostgreSQL documents up to three times the delay).
// Buffered redo is bounded by async_redo_buffer_size_max: past it a commit waits for the next flush
// (back-pressure) instead of growing memory without bound.

import type { Timer } from '../io/clock.js';
import type { HandlerContext, LogStats, RedoLogHandler } from './redo-log-handler.js';
import { emptyStats } from './redo-log-handler.js';
import type { WalWriter } from '../wal/wal-writer.js';

/**
 * Redo buffers are self-delimiting (each starts with its length), so the background writer packs
 * consecutive ones into frames of about this size: one header and one CRC per frame instead of per
 * transaction, as MOT's asynchronous writer writes whole arrays of buffers.
 */
export const FRAME_PAYLOAD_BYTES_TARGET = 64 * 1024;

/** Group consecutive buffers into frame payloads of at most `targetBytes` (a bigger buffer goes alone). */
export function packFrames(buffers: readonly Uint8Array[], targetBytes: number): Uint8Array[][] {
  const frames: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let bytes = 0;
  for (const b of buffers) {
    if (current.length > 0 && bytes + b.length > targetBytes) {
      frames.push(current);
      current = [];
      bytes = 0;
    }
    current.push(b);
    bytes += b.length;
  }
  if (current.length > 0) frames.push(current);
  return frames;
}

export class AsyncRedoLogHandler implements RedoLogHandler {
  readonly mode = 'asynchronous' as const;
  private readonly s: LogStats = emptyStats('asynchronous');
  private active: Uint8Array[] = [];
  private activeBytes = 0;
  private activeTransactions = 0;
  private timer: Timer | undefined;
  /** Rounds placed in the log and not yet durable, oldest first (the WAL acknowledges them in order). */
  private readonly rounds: Promise<void>[] = [];
  private closed = false;
  private readonly wal: WalWriter;

  constructor(private readonly ctx: HandlerContext) {
    this.wal = ctx.wal!;
    this.arm();
  }

  private arm(): void {
    if (this.closed) return;
    this.timer = this.ctx.clock.setTimer(this.ctx.config.walWriterDelayUs, () => {
      this.timer = undefined;
      void this.flushRound().catch(() => undefined).finally(() => this.arm());
    });
  }

  commit(buffers: Uint8Array[]): Promise<void> | undefined {
    if (this.wal.failed) return Promise.reject(this.wal.failed);
    for (const b of buffers) {
      this.active.push(b);
      this.activeBytes += b.length;
    }
    this.activeTransactions++;
    this.s.buffers += buffers.length;
    this.s.transactions++;
    if (this.activeBytes >= this.ctx.config.asyncRedoBufferBytesMax) return this.flushRound();
    return undefined;
  }

  /**
   * Place everything buffered in the log now, in this synchronous step, and start writing it: a
   * checkpoint's PREPARE calls this so that every commit with a CSN up to its consistency point lies
   * below its L0. Rounds may overlap: the WAL acknowledges batches in LSN order.
   */
  placeBuffered(): void {
    if (this.active.length > 0) void this.startRound().catch(() => undefined);
  }

  /** One background-writer round: everything buffered, and every round before it, made durable. */
  private flushRound(): Promise<void> {
    if (this.active.length === 0) return this.rounds.length === 0 ? Promise.resolve() : this.rounds[this.rounds.length - 1]!;
    return this.startRound();
  }

  /** Swap the active buffer out, place it (synchronously) and write+flush it on lane 0. */
  private startRound(): Promise<void> {
    const buffers = this.active;
    const transactions = this.activeTransactions;
    this.active = [];
    this.activeBytes = 0;
    this.activeTransactions = 0;
    let run: Promise<void>;
    try {
      const frames = packFrames(buffers, FRAME_PAYLOAD_BYTES_TARGET);
      const batch = this.wal.place(frames);
      this.ctx.observer?.logged?.(0, batch.frameLsns, frames, this.ctx.clock.nowUs());
      this.s.flushes++;
      this.s.walBytes += batch.endLsn - batch.startLsn;
      run = this.wal.write(batch, 0).then(() => {
        this.ctx.observer?.flushed?.(0, batch.startLsn, batch.endLsn, transactions, batch.endLsn - batch.startLsn, this.ctx.clock.nowUs());
      });
    } catch (e) {
      run = Promise.reject(e);
    }
    this.rounds.push(run);
    const done = (): void => {
      const i = this.rounds.indexOf(run);
      if (i >= 0) this.rounds.splice(i, 1);
    };
    run.then(done, done);
    return run;
  }

  async flush(): Promise<void> {
    await this.flushRound();
    await this.wal.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    await this.flush();
  }

  abandon(): void {
    this.closed = true;
    this.timer?.cancel();
  }

  stats(): LogStats {
    return { ...this.s };
  }
}
