// The executor of the real disk: a piscina pool of up to checkpoint_workers (or
// checkpoint_recovery_workers) threads, never more than this machine's cores, running
// segment-worker.js. Threads start on demand, one when a segment waits and none is free, so a
// one-segment checkpoint starts one thread however many workers are configured; once started they
// stay until close (starting one costs tens of ms of CPU). One hop costs ~200-300 µs here
// (docs/architecture.md), so a task is a whole segment (up to checkpoint_segsize bytes), transferred
// without copying.

import { Piscina } from 'piscina';
import type { Clock } from '../io/clock.js';
import { workerUrl } from '../io/worker-url.js';
import type { SegmentFault, SegmentHeader } from './checkpoint-format.js';
import { boundedParallelism, type CheckpointExecutor } from './executor.js';
import type { SegmentTask } from './segment-worker.js';

export class ThreadExecutor implements CheckpointExecutor {
  readonly kind = 'threads' as const;
  readonly parallelism: number;
  private readonly pool: Piscina;
  private started = 0;

  /** `workers` configured, `cores` this machine's (os.availableParallelism(), read once by the engine). */
  constructor(
    workers: number,
    cores: number,
    private readonly clock: Clock,
  ) {
    this.parallelism = boundedParallelism(workers, cores);
    this.pool = new Piscina({
      filename: workerUrl('checkpoint/segment-worker.js'),
      minThreads: 0,
      maxThreads: this.parallelism,
      // Tasks queue inside piscina: the callers bound them (at most `parallelism` segments in flight).
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
    });
    this.pool.on('workerCreate', () => this.started++);
  }

  get threadsStarted(): number {
    return this.started;
  }

  async seal(bytes: Uint8Array, header: SegmentHeader): Promise<Uint8Array> {
    return (await this.run({ op: 'seal', bytes, header })) as Uint8Array;
  }

  async verify(bytes: Uint8Array, expected: SegmentHeader): Promise<Uint8Array | SegmentFault> {
    return (await this.run({ op: 'verify', bytes, header: expected })) as Uint8Array | SegmentFault;
  }

  /** The clock's turn of the event loop (setImmediate on the real clock): flush completions and commits go first. */
  pause(): Promise<void> {
    return this.clock.yieldToEventLoop();
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
