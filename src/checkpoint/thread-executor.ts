// The executor of the real disk: a piscina pool of checkpoint_workers (or checkpoint_recovery_workers)
// threads running segment-worker.js. One hop costs ~200-300 µs here (docs/architecture.md), so a task
// is a whole segment (up to checkpoint_segsize bytes), transferred without copying.

import { Piscina } from 'piscina';
import { workerUrl } from '../io/worker-url.js';
import type { SegmentFault, SegmentHeader } from './checkpoint-format.js';
import type { CheckpointExecutor } from './executor.js';
import type { SegmentTask } from './segment-worker.js';

export class ThreadExecutor implements CheckpointExecutor {
  readonly kind = 'threads' as const;
  private readonly pool: Piscina;

  constructor(readonly threads: number) {
    this.pool = new Piscina({
      filename: workerUrl('checkpoint/segment-worker.js'),
      minThreads: threads,
      maxThreads: threads,
      // Tasks queue inside piscina: the callers bound them (at most one segment per worker in flight).
      concurrentTasksPerWorker: 1,
      idleTimeout: 10_000,
    });
  }

  async seal(bytes: Uint8Array, header: SegmentHeader): Promise<Uint8Array> {
    return (await this.run({ op: 'seal', bytes, header })) as Uint8Array;
  }

  async verify(bytes: Uint8Array, expected: SegmentHeader): Promise<Uint8Array | SegmentFault> {
    return (await this.run({ op: 'verify', bytes, header: expected })) as Uint8Array | SegmentFault;
  }

  /** setImmediate: runs after pending I/O callbacks, so flush completions and commits go first. */
  pause(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private run(task: SegmentTask): Promise<unknown> {
    const bytes = ownBuffer(task.bytes);
    return this.pool.run({ ...task, bytes }, { transferList: [bytes.buffer as ArrayBuffer] });
  }
}

/** A view that owns its whole ArrayBuffer, so transferring it detaches nothing else (e.g. a Buffer pool slab). */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : new Uint8Array(bytes); // a copy (Buffer#slice would share memory)
}
