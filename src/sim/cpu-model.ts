// CPU time in virtual time: each transaction costs a fixed number of µs on its session's core, and
// sessions sharing a core run one after another. Invariant: a core is never busy twice at once.

import type { Clock } from '../io/clock.js';
import { Errors } from '../errors.js';
import type { WorkloadName } from '../bench/workloads.js';

/**
 * Measured CPU per committed transaction of this engine, µs (the committing thread's work: build the
 * transaction, validate, encode redo and frame, hand it to the log, apply). Measured on this 2-core VM
 * with 64 sessions in a closed loop on the in-memory disk, where wall time per commit is CPU time per
 * commit (one JavaScript thread): insert 4.8 (asynchronous) to 8.0 µs, update-mix 8.1 to 12.1 µs
 * (`node dist/bench/sim-cpu-cost.js` re-measures them; bench/results/sim-cpu-cost.json). The default
 * is the mean over the three modes, rounded.
 */
export const TX_CPU_US_DEFAULT: Readonly<Record<WorkloadName, number>> = { insert: 7, 'update-mix': 11 };

export class CpuModel {
  private readonly freeAtUs: number[];

  constructor(
    private readonly clock: Clock,
    /** Cores that execute transactions. */
    readonly cores: number,
    /** Virtual µs one transaction occupies its core. */
    readonly txCpuUs: number,
  ) {
    if (!(Number.isInteger(cores) && cores >= 1 && cores <= 65_536)) throw Errors.invalidArgument('cpu cores', `${cores} is not an integer from 1 to 65536`);
    if (!(Number.isFinite(txCpuUs) && txCpuUs > 0)) {
      throw Errors.invalidArgument('cpu µs per transaction', `${txCpuUs} must be > 0 (virtual time must advance, or a closed loop never yields)`);
    }
    this.freeAtUs = new Array<number>(cores).fill(0);
  }

  /** One transaction's CPU work on `core` (taken modulo the core count): resolves when it is done. */
  run(core: number): Promise<void> {
    const c = core % this.cores;
    const now = this.clock.nowUs();
    const endUs = Math.max(now, this.freeAtUs[c]!) + this.txCpuUs;
    this.freeAtUs[c] = endUs;
    return this.clock.sleepUs(endUs - now);
  }
}
