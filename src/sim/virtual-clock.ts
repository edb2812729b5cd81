// Virtual time for the engine: a Clock whose time is the scheduler's and whose timers are its events.
// Invariants: nowUs never decreases; wallMs = epochMs + floor(nowUs / 1000); nothing reads real time.

import type { Clock, Micros, Timer } from '../io/clock.js';
import type { Scheduler } from './scheduler.js';

export interface VirtualClockOptions {
  /** Wall-clock time, ms since the Unix epoch, at virtual time 0 (default 2024-01-01T00:00:00Z). */
  epochMs?: number;
}

export const VIRTUAL_EPOCH_MS_DEFAULT = Date.UTC(2024, 0, 1);

export class VirtualClock implements Clock {
  readonly epochMs: number;

  constructor(
    readonly scheduler: Scheduler,
    options: VirtualClockOptions = {},
  ) {
    this.epochMs = options.epochMs ?? VIRTUAL_EPOCH_MS_DEFAULT;
  }

  nowUs(): Micros {
    return this.scheduler.nowUs;
  }

  wallMs(): number {
    return this.epochMs + Math.floor(this.scheduler.nowUs / 1000);
  }

  setTimer(delayUs: Micros, fn: () => void): Timer {
    const handle = this.scheduler.after(delayUs, fn, 'clock.timer');
    return { cancel: () => handle.cancel() };
  }

  sleepUs(delayUs: Micros): Promise<void> {
    return new Promise((resolve) => {
      this.scheduler.after(delayUs, resolve, 'clock.sleep');
    });
  }

  yieldToEventLoop(): Promise<void> {
    return new Promise((resolve) => {
      this.scheduler.after(0, resolve, 'clock.yield');
    });
  }
}
