// Knows which commits hold a CSN but have not applied their writes yet (they wait for their flush),
// so a checkpoint's RESOLVE step can wait for exactly those with CSN <= C. It wraps the redo log
// handler: a commit whose log promise is pending is registered under its CSN; Transaction.apply (and
// the engine's DDL) reports it applied; a rejected one (WAL failure) counts as settled.
// Invariant: the CSN of a commit is the engine's current CSN when it reaches the log (Transaction.commit
// takes its CSN and hands its redo to the log in one synchronous step), so the registry is keyed right.

import { assert } from '../errors.js';
import type { LogStats, RedoLogHandler } from '../commit-group/redo-log-handler.js';
import type { LoggingMode } from '../config/config.js';

interface Waiter {
  remaining: Set<number>;
  resolve: () => void;
}

/** Bound on concurrent RESOLVE waits (one checkpoint runs at a time; a small margin). */
const WAITERS_MAX = 4;

export class CommitTracker implements RedoLogHandler {
  readonly mode: LoggingMode;
  /** CSN -> log promise of commits not yet applied. Bounded by the commits in flight (sessions). */
  private readonly committing = new Map<number, Promise<void>>();
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly inner: RedoLogHandler,
    private readonly currentCsn: () => number,
    private readonly onCommit: () => void,
  ) {
    this.mode = inner.mode;
  }

  commit(buffers: Uint8Array[], socket: number): Promise<void> | undefined {
    const logged = this.inner.commit(buffers, socket);
    if (logged !== undefined) {
      const csn = this.currentCsn();
      assert(!this.committing.has(csn), `CSN ${csn} reaches the log once`);
      this.committing.set(csn, logged);
    }
    this.onCommit();
    return logged;
  }

  /** The commit with this CSN applied its writes (or never waited: then a no-op). */
  applied(csn: number): void {
    if (this.committing.size === 0 || !this.committing.delete(csn)) return;
    if (this.waiters.length > 0) this.settle(csn);
  }

  /** Commits registered and not yet applied. */
  get inFlight(): number {
    return this.committing.size;
  }

  /**
   * Resolves once every commit in flight now has applied its writes or failed. Commits that reach the
   * log later are not waited for (they get higher CSNs). Returns how many were waited for.
   */
  async waitForCommitting(): Promise<number> {
    const remaining = new Set(this.committing.keys());
    if (remaining.size === 0) return 0;
    assert(this.waiters.length < WAITERS_MAX, `at most ${WAITERS_MAX} RESOLVE waits at once`);
    const waited = remaining.size;
    const done = new Promise<void>((resolve) => this.waiters.push({ remaining, resolve }));
    for (const csn of remaining) {
      // A rejected log promise means the WAL failed: the transaction aborts without applying.
      this.committing.get(csn)!.then(undefined, () => {
        this.committing.delete(csn);
        this.settle(csn);
      });
    }
    await done;
    return waited;
  }

  private settle(csn: number): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.remaining.delete(csn) && w.remaining.size === 0) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  // ---- the rest of RedoLogHandler, delegated ----

  flush(): Promise<void> {
    return this.inner.flush();
  }

  placeBuffered(): void {
    this.inner.placeBuffered?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  abandon(): void {
    this.inner.abandon?.();
  }

  stats(): LogStats {
    return this.inner.stats();
  }
}
