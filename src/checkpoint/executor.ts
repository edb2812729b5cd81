// Where a checkpoint's CPU work on segments runs (sealing: CRCs and header; verifying at recovery), and
// how the capture scan lets commits run between its batches. Injected, so the real disk uses worker
// threads and the simulator runs the same leaves (checkpoint-format.ts) inline on its own thread: the
// simulated disk lives in the main thread, so all file I/O stays there and workers only see buffers.

import type { Clock } from '../io/clock.js';
import { sealSegment, verifySegment, isSegmentFault, type SegmentFault, type SegmentHeader } from './checkpoint-format.js';

export type ExecutorKind = 'threads' | 'inline';

export interface CheckpointExecutor {
  readonly kind: ExecutorKind;
  /**
   * Segments worth having in flight at once: the workers asked for, bounded by the cores that can run
   * them (this machine's for threads, the simulated machine's inline). Callers also bound it by the
   * segments they have, and threads start only when a segment is waiting for one.
   */
  readonly parallelism: number;
  /** Worker threads started so far (0 inline): never more than parallelism, nor than segments submitted. */
  readonly threadsStarted: number;
  /** Fill in a segment's header and CRCs (checkpoint-format.ts sealSegment); returns the sealed bytes. */
  seal(bytes: Uint8Array, header: SegmentHeader): Promise<Uint8Array>;
  /** Verify a segment read back (verifySegment); returns its bytes, or where and why it is damaged. */
  verify(bytes: Uint8Array, expected: SegmentHeader): Promise<Uint8Array | SegmentFault>;
  /** Let other work (commits) run before the capture scan goes on. */
  pause(): Promise<void>;
  /** Release the threads. */
  close(): Promise<void>;
}

/** Makes an executor for a job configured for `workers` (checkpoint_workers, checkpoint_recovery_workers). */
export type ExecutorFactory = (workers: number) => CheckpointExecutor;

/** The workers worth running: the configured count, never more than the cores (and at least 1). */
export function boundedParallelism(workers: number, cores: number): number {
  return Math.max(1, Math.min(workers, cores));
}

/**
 * Runs the leaves on the calling thread. `pause` sleeps `pauseUs` on the injected clock: in the
 * simulator this lets virtual time pass between capture batches, so commits interleave with the scan.
 */
export class InlineExecutor implements CheckpointExecutor {
  readonly kind = 'inline' as const;
  readonly threadsStarted = 0;

  constructor(
    private readonly clock: Clock,
    private readonly pauseUs: number,
    /** Bounds the segments in flight, as threads would (the engine passes the simulated machine's cores); default: no bound of its own. */
    readonly parallelism = Number.POSITIVE_INFINITY,
  ) {}

  async seal(bytes: Uint8Array, header: SegmentHeader): Promise<Uint8Array> {
    sealSegment(bytes, header);
    return bytes;
  }

  async verify(bytes: Uint8Array, expected: SegmentHeader): Promise<Uint8Array | SegmentFault> {
    const r = verifySegment(bytes, expected);
    return isSegmentFault(r) ? r : bytes;
  }

  pause(): Promise<void> {
    return this.clock.sleepUs(this.pauseUs);
  }

  async close(): Promise<void> {}
}
