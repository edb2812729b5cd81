// Lets the event loop run between commits. A session that awaits commit() in a tight loop resolves
// each commit through microtasks only (asynchronous mode; synchronous mode with the committing
// thread's blocking flush), which starves every timer and I/O callback: the asynchronous writer's
// flush, checkpoints, group timeouts. So a commit that ends once a yield is due awaits one turn of
// the event loop (Clock.yieldToEventLoop) before it returns, and so does every commit ending while that
// turn is pending: all sessions park, the loop turns. Bound: a due timer runs at most about
// COMMIT_YIELD_INTERVAL_US (twice that on the real clock, where setImmediate may run before the timers
// phase of the same loop iteration) plus one transaction per session late, whatever the sessions do.
// The interval is counted from when the previous turn was asked for, not from when it came: a timer
// that falls due while the sessions finish their transactions before that turn runs only at the next
// one, so counting from the turn's arrival added those transactions again (crash-test --mode
// asynchronous --seed 100514 --runs 1: a timer 578 µs late against 500 + 5 x 15).

import type { Clock } from '../io/clock.js';

/** Longest stretch of clock time commits may run without the event loop getting a turn. */
export const COMMIT_YIELD_INTERVAL_US = 500;
/** Most commits that may end without the event loop getting a turn (bounds it when time stands still). */
export const COMMIT_YIELD_COMMITS_MAX = 256;

export class CommitPacer {
  private turnAtUs: number;
  private commitsSinceTurn = 0;
  private turn: Promise<void> | undefined;

  constructor(private readonly clock: Clock) {
    this.turnAtUs = clock.nowUs();
  }

  /** Called as each commit ends: a promise to await before returning, or undefined (no yield due). */
  pace(): Promise<void> | undefined {
    if (this.turn !== undefined) return this.turn;
    const nowUs = this.clock.nowUs();
    if (++this.commitsSinceTurn < COMMIT_YIELD_COMMITS_MAX && nowUs - this.turnAtUs < COMMIT_YIELD_INTERVAL_US) return undefined;
    this.turnAtUs = nowUs; // the next interval starts now, when the turn is asked for (see the header)
    this.commitsSinceTurn = 0;
    const turn = this.clock.yieldToEventLoop().then(() => {
      this.turn = undefined;
    });
    this.turn = turn;
    return turn;
  }
}
