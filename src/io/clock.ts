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
}
