// Time, injected. The engine reads time and sets timers only through a Clock, so the same code runs
// with real time (RealClock, here) and with virtual time (sim/virtual-clock.ts).

/** Microseconds on a monotonic clock. */
export type Micros = number;

export interface Timer {
  /** Cancel the timer; a no-op if it already fired. */
  cancel(): void;
}

export interface Clock {
  /** Monotonic time in microseconds (arbitrary origin). */
  nowUs(): Micros;
  /** Wall-clock time in milliseconds since the Unix epoch (commit timestamps, PITR). */
  wallMs(): number;
  /** Call `fn` once, `delayUs` microseconds from now. */
  setTimer(delayUs: Micros, fn: () => void): Timer;
  /** Resolve after `delayUs` microseconds. */
  sleepUs(delayUs: Micros): Promise<void>;
  /**
   * Resolve once the event loop has had a turn: timers that are due and I/O completions run first.
   * A chain of promises that only ever awaits already-settled work runs as microtasks and starves
   * every timer; code that may loop like that (the commit path) awaits this now and then. Real time:
   * setImmediate (no minimum delay, unlike a 0 ms timer); virtual time: an event at the current time,
   * queued after the events already due.
   */
  yieldToEventLoop(): Promise<void>;
}

/** Real time: performance.now() and setTimeout (whose resolution is about 1 ms). */
export class RealClock implements Clock {
  nowUs(): Micros {
    return performance.now() * 1000;
  }
  wallMs(): number {
    return Date.now();
  }
  setTimer(delayUs: Micros, fn: () => void): Timer {
    const handle = setTimeout(fn, Math.max(0, delayUs / 1000));
    return { cancel: () => clearTimeout(handle) };
  }
  sleepUs(delayUs: Micros): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, delayUs / 1000)));
  }
  yieldToEventLoop(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
}
