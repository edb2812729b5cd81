// Asynchronous commit (synchronous_commit = off): the commit copies its redo into the active buffer
// and returns at once; a background writer flushes the buffer every wal_writer_delay. What was not
// flushed when the machine crashes is lost. The loss is bounded by construction (docs/architecture.md,
// "The asynchronous loss bound"):
// - the writer ticks every wal_writer_delay D at a fixed cadence, and each tick with anything buffered
//   places it in the log and starts writing it, even while an earlier round is still in flight (the
//   WAL acknowledges batches in LSN order); the commit path yields to the event loop (CommitPacer), so
//   ticks are not starved by sessions committing in a tight loop;
// - back-pressure by age: a commit is not acknowledged while the oldest acknowledged commit not yet
//   durable is older than ASYNC_BACK_PRESSURE_DELAYS x D (it waits until the rounds holding the old
//   ones are durable), so a stalled flush cannot let acknowledgements run ahead without bound;
// - back-pressure by size: past async_redo_buffer_size_max buffered bytes a commit waits for a round;
// - after a WAL failure every commit is refused (the engine is read-only until reopened).

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

/**
 * Back-pressure by age, in units of wal_writer_delay: a commit waits while an acknowledged commit not
 * yet durable is older than this many delays. With ticks every delay, a healthy disk never triggers it.
 */
export const ASYNC_BACK_PRESSURE_DELAYS = 2;

interface Round {
  /** Resolves once the round (and every round before it) is durable. */
  done: Promise<void>;
  /** Clock time the oldest commit in it entered the buffer (its acknowledgement is no earlier). */
  oldestUs: number;
}

export class AsyncRedoLogHandler implements RedoLogHandler {
  readonly mode = 'asynchronous' as const;
  private readonly s: LogStats = emptyStats('asynchronous');
  private active: Uint8Array[] = [];
  private activeBytes = 0;
  private activeTransactions = 0;
  /** Clock time the oldest commit in the active buffer entered it (undefined: empty). */
  private activeOldestUs: number | undefined;
  private timer: Timer | undefined;
  /** Rounds placed in the log and not yet durable, oldest first (the WAL acknowledges them in order). */
  private readonly rounds: Round[] = [];
  private closed = false;
  private readonly wal: WalWriter;
  private readonly backPressureAgeUs: number;

  constructor(private readonly ctx: HandlerContext) {
    this.wal = ctx.wal!;
    this.backPressureAgeUs = ASYNC_BACK_PRESSURE_DELAYS * ctx.config.walWriterDelayUs;
    this.arm();
  }

  /** The writer's tick, at a fixed cadence: the next one is armed before this one's round starts. */
  private arm(): void {
    if (this.closed) return;
    this.timer = this.ctx.clock.setTimer(this.ctx.config.walWriterDelayUs, () => {
      this.timer = undefined;
      this.arm();
      if (this.active.length > 0 && !this.wal.failed) void this.startRound().catch(() => undefined);
    });
  }

  commit(buffers: Uint8Array[]): Promise<void> | undefined {
    if (this.wal.failed) return Promise.reject(this.wal.failed);
    const now = this.ctx.clock.nowUs();
    const bufferedSinceUs = this.activeOldestUs;
    for (const b of buffers) {
      this.active.push(b);
      this.activeBytes += b.length;
    }
    this.activeOldestUs ??= now;
    this.activeTransactions++;
    this.s.buffers += buffers.length;
    this.s.transactions++;
    // Back-pressure: this commit waits (and so is not acknowledged yet) instead of buffering more.
    if (this.activeBytes >= this.ctx.config.asyncRedoBufferBytesMax) return this.startRound();
    if (bufferedSinceUs !== undefined && now - bufferedSinceUs > this.backPressureAgeUs) return this.startRound();
    const inFlight = this.rounds[0];
    if (inFlight !== undefined && now - inFlight.oldestUs > this.backPressureAgeUs) return this.rounds[this.rounds.length - 1]!.done;
    return undefined;
  }

  /**
   * Place everything buffered in the log now, in this synchronous step, and start writing it: a
   * checkpoint's PREPARE calls this so that every commit with a CSN up to its consistency point lies
   * below its L0.
   */
  placeBuffered(): void {
    if (this.active.length > 0) void this.startRound().catch(() => undefined);
  }

  /** Swap the active buffer out, place it (synchronously) and write+flush it on lane 0. */
  private startRound(): Promise<void> {
    const buffers = this.active;
    const transactions = this.activeTransactions;
    const oldestUs = this.activeOldestUs ?? this.ctx.clock.nowUs();
    this.active = [];
    this.activeBytes = 0;
    this.activeTransactions = 0;
    this.activeOldestUs = undefined;
    let done: Promise<void>;
    try {
      const frames = packFrames(buffers, FRAME_PAYLOAD_BYTES_TARGET);
      const batch = this.wal.place(frames);
      this.ctx.observer?.logged?.(0, batch.frameLsns, frames, this.ctx.clock.nowUs());
      this.s.flushes++;
      this.s.walBytes += batch.endLsn - batch.startLsn;
      done = this.wal.write(batch, 0).then(() => {
        this.ctx.observer?.flushed?.(0, batch.startLsn, batch.endLsn, transactions, batch.endLsn - batch.startLsn, this.ctx.clock.nowUs());
      });
    } catch (e) {
      done = Promise.reject(e);
    }
    const round: Round = { done, oldestUs };
    this.rounds.push(round);
    const settled = (): void => {
      const i = this.rounds.indexOf(round);
      if (i >= 0) this.rounds.splice(i, 1);
    };
    done.then(settled, settled);
    return done;
  }

  async flush(): Promise<void> {
    if (this.active.length > 0) await this.startRound();
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
