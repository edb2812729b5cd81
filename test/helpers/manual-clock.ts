// A hand-driven Clock for unit tests: time moves only when the test calls advance(), so group-commit
// timeouts and async flush intervals are tested without sleeping.

import type { Clock, Timer } from '../../src/io/clock.js';

export class ManualClock implements Clock {
  private now = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  nowUs(): number {
    return this.now;
  }
  wallMs(): number {
    return 1_700_000_000_000 + this.now / 1000;
  }
  setTimer(delayUs: number, fn: () => void): Timer {
    const t = { at: this.now + delayUs, seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => (t.cancelled = true) };
  }
  sleepUs(delayUs: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(delayUs, resolve));
  }
  /** A real event-loop turn (time does not move): timers here fire only through advance(). */
  yieldToEventLoop(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
  /** Move time forward, firing due timers in order and letting promise continuations run. */
  async advance(deltaUs: number): Promise<void> {
    const target = this.now + deltaUs;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.now = Math.max(this.now, next.at);
      next.fn();
      await settle();
    }
    this.now = target;
    await settle();
  }
}

/** Let pending promise continuations (and already-queued I/O callbacks) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
