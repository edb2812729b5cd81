// Deterministic event scheduler: callbacks ordered by (virtual time µs, sequence number); between two
// events every promise continuation settles. Invariants: time never goes back; every run is bounded.
// Busy time (busyUs): the one JavaScript thread computes, so time passes while no event can run;
// events that came due meanwhile run late, at the current time, once the thread lets the loop turn.

import { assert } from '../errors.js';

/** A scheduled callback; `cancel()` is a no-op once it ran or was cancelled. */
export interface EventHandle {
  readonly atUs: number;
  readonly label: string;
  cancel(): void;
}

export interface RunOptions {
  /** Stop before running any event later than this virtual time (time advances to it). */
  untilUs?: number;
  /** Stop after this many events (default: SchedulerOptions.eventsPerRunMax). */
  maxEvents?: number;
  /** Stop as soon as this returns true (checked before the first event and after each one). */
  until?: () => boolean;
}

/**
 * Why run() returned. 'idle': no events left and nothing waited on. 'until': the predicate held.
 * 'time-limit' / 'event-limit': a bound was reached. 'pending': no events left but a tracked wait or
 * the `until` predicate is still unsatisfied: a hang in virtual time (a failure).
 */
export type RunStatus = 'idle' | 'until' | 'time-limit' | 'event-limit' | 'pending';

export interface RunResult {
  status: RunStatus;
  /** false only for 'pending' (a hang). */
  ok: boolean;
  nowUs: number;
  eventsRun: number;
  /** Events still queued (cancelled ones excluded). */
  eventsQueued: number;
  /** Labels of tracked waits that have not settled, oldest first. */
  pendingWaits: string[];
  /** One line for logs and assertion messages. */
  message: string;
}

export interface TraceEntry {
  atUs: number;
  seq: number;
  label: string;
}

export interface SchedulerOptions {
  /** Virtual time at start, µs (default 0). */
  startUs?: number;
  /** Bound on queued events; scheduling beyond it is a programmer error (default 10,000,000). */
  eventsQueuedMax?: number;
  /** Default bound on events per run() call (default 100,000,000). */
  eventsPerRunMax?: number;
  /** Every this many events run() yields to the real event loop with setImmediate (default 4096). */
  eventsPerRealYield?: number;
  /** Bound on tracked waits pending at once (default 1,000,000). */
  waitsTrackedMax?: number;
}

/** A hang in virtual time: no events left while something is still awaited. */
export class SimHangError extends Error {
  readonly result: RunResult;
  constructor(result: RunResult) {
    super(result.message);
    this.name = 'SimHangError';
    this.result = result;
  }
}

class ScheduledEvent implements EventHandle {
  cancelled = false;
  constructor(
    readonly atUs: number,
    readonly seq: number,
    readonly fn: () => void,
    readonly label: string,
    private readonly owner: Scheduler,
  ) {}
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.owner.noteCancelled(this);
  }
}

/**
 * Lets every queued promise continuation run, however deep the await chain: a nextTick queued from
 * a microtask runs only once Node has drained the whole microtask queue (processTicksAndRejections).
 * Engine code must therefore not use process.nextTick, setImmediate or real timers itself.
 */
function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class Scheduler {
  private now: number;
  private seqNext = 0;
  private readonly heap: ScheduledEvent[] = [];
  private liveCount = 0;
  private running = false;
  private readonly waits = new Map<number, string>();
  private waitIdNext = 0;
  private readonly listeners: Array<(entry: TraceEntry) => void> = [];
  private readonly eventsQueuedMax: number;
  private readonly eventsPerRunMax: number;
  private readonly eventsPerRealYield: number;
  private readonly waitsTrackedMax: number;
  private eventsTotal = 0;
  private lateUsMaxValue = 0;

  constructor(options: SchedulerOptions = {}) {
    this.now = options.startUs ?? 0;
    this.eventsQueuedMax = options.eventsQueuedMax ?? 10_000_000;
    this.eventsPerRunMax = options.eventsPerRunMax ?? 100_000_000;
    this.eventsPerRealYield = options.eventsPerRealYield ?? 4096;
    this.waitsTrackedMax = options.waitsTrackedMax ?? 1_000_000;
    assert(Number.isFinite(this.now) && this.now >= 0, `scheduler startUs must be >= 0, got ${this.now}`);
  }

  /** Current virtual time, µs. */
  get nowUs(): number {
    return this.now;
  }

  /**
   * The thread computes for `us` µs (a transaction's CPU in a simulated workload): virtual time moves
   * on now, synchronously, and no event runs until the caller lets the event loop turn. Events due
   * meanwhile run late. This is how a session that never yields starves timers in the simulator.
   */
  busyUs(us: number): void {
    if (!(Number.isFinite(us) && us >= 0)) assert(false, `busyUs(${us}): not a finite number of µs >= 0`);
    this.now += us;
  }

  /** The longest any event waited past its due time (busy time that did not let the loop turn). */
  get lateUsMax(): number {
    return this.lateUsMaxValue;
  }

  /** Events run since construction. */
  get eventsRunTotal(): number {
    return this.eventsTotal;
  }

  /** Events queued and not cancelled. */
  get eventsQueued(): number {
    return this.liveCount;
  }

  /** Run `fn` at virtual time `atUs` (>= now). Same-time events run in scheduling order. */
  schedule(atUs: number, fn: () => void, label = 'event'): EventHandle {
    // Checked without building messages on the hot path.
    if (!(atUs >= this.now && atUs < Number.POSITIVE_INFINITY)) {
      assert(false, `schedule(${label}): time ${atUs}µs is not finite or before now ${this.now}µs`);
    }
    if (this.liveCount >= this.eventsQueuedMax) assert(false, `scheduler queue full (eventsQueuedMax = ${this.eventsQueuedMax})`);
    const event = new ScheduledEvent(atUs, this.seqNext++, fn, label, this);
    this.push(event);
    this.liveCount++;
    return event;
  }

  /** Run `fn` `delayUs` from now (negative delays count as 0, as setTimeout does). */
  after(delayUs: number, fn: () => void, label = 'event'): EventHandle {
    if (Number.isNaN(delayUs)) assert(false, `after(${label}): delay is NaN`);
    return this.schedule(delayUs > 0 ? this.now + delayUs : this.now, fn, label);
  }

  /**
   * Register a wait that run() must see settle: if the queue empties while it is pending, run()
   * reports 'pending' naming `label`. Returns the same promise.
   */
  track<T>(label: string, promise: Promise<T>): Promise<T> {
    if (this.waits.size >= this.waitsTrackedMax) assert(false, `too many tracked waits (waitsTrackedMax = ${this.waitsTrackedMax})`);
    const id = this.waitIdNext++;
    this.waits.set(id, label);
    const done = (): void => {
      this.waits.delete(id);
    };
    promise.then(done, done);
    return promise;
  }

  /** Labels of tracked waits not yet settled, oldest first. */
  pendingWaits(): string[] {
    return [...this.waits.values()];
  }

  /** Call `listener` before each event runs (for traces). Returns an unsubscribe function. */
  onEvent(listener: (entry: TraceEntry) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Run events in (time, seq) order until a bound, the predicate, or an empty queue stops it. */
  async run(options: RunOptions = {}): Promise<RunResult> {
    assert(!this.running, 'Scheduler.run() is not re-entrant');
    this.running = true;
    try {
      return await this.loop(options);
    } finally {
      this.running = false;
    }
  }

  /**
   * Run until `promise` settles and return its value (or throw its error). Throws SimHangError when
   * the queue empties first (a hang), and also when a bound or `options.until` stops the run first.
   */
  async settle<T>(label: string, promise: Promise<T>, options: RunOptions = {}): Promise<T> {
    let settled = false;
    let failed = false;
    let value: T | undefined;
    let error: unknown;
    this.track(label, promise).then(
      (v) => {
        settled = true;
        value = v;
      },
      (e: unknown) => {
        settled = true;
        failed = true;
        error = e;
      },
    );
    const extra = options.until;
    const result = await this.run({ ...options, until: () => settled || (extra?.() ?? false) });
    if (!settled) throw new SimHangError({ ...result, message: `"${label}" did not settle: ${result.message}` });
    if (failed) throw error;
    return value as T;
  }

  private async loop(options: RunOptions): Promise<RunResult> {
    const maxEvents = options.maxEvents ?? this.eventsPerRunMax;
    const untilUs = options.untilUs ?? Number.POSITIVE_INFINITY;
    const until = options.until;
    let eventsRun = 0;
    await settleMicrotasks();
    // Bounded: at most maxEvents iterations run an event; the others return.
    for (;;) {
      if (until !== undefined && until()) return this.result('until', eventsRun);
      if (eventsRun >= maxEvents) return this.result('event-limit', eventsRun);
      const event = this.peekLive();
      if (event === undefined) {
        const hung = this.waits.size > 0 || until !== undefined;
        return this.result(hung ? 'pending' : 'idle', eventsRun);
      }
      if (event.atUs > untilUs) {
        this.now = Math.max(this.now, untilUs);
        return this.result('time-limit', eventsRun);
      }
      this.popTop();
      this.liveCount--;
      event.cancelled = true; // ran: a later cancel() is a no-op
      if (event.atUs >= this.now) this.now = event.atUs;
      else if (this.now - event.atUs > this.lateUsMaxValue) this.lateUsMaxValue = this.now - event.atUs;
      if (this.listeners.length > 0) {
        const entry = { atUs: event.atUs, seq: event.seq, label: event.label };
        for (const listener of this.listeners) listener(entry);
      }
      try {
        event.fn();
      } catch (e) {
        throw new Error(`simulation event "${event.label}" at ${event.atUs}µs threw: ${String(e)}`, { cause: e });
      }
      eventsRun++;
      this.eventsTotal++;
      if (this.eventsTotal % this.eventsPerRealYield === 0) await yieldToEventLoop();
      else await settleMicrotasks();
    }
  }

  private result(status: RunStatus, eventsRun: number): RunResult {
    const pendingWaits = this.pendingWaits();
    const at = `t=${this.now}µs after ${eventsRun} events`;
    let message: string;
    switch (status) {
      case 'pending':
        message =
          pendingWaits.length > 0
            ? `hang at ${at}: no events left, still waiting for: ${pendingWaits.join('; ')}`
            : `hang at ${at}: no events left and the run's condition does not hold`;
        break;
      case 'idle':
        message = `idle at ${at}`;
        break;
      case 'until':
        message = `condition met at ${at}`;
        break;
      case 'time-limit':
        message = `time limit reached at ${at} (${this.liveCount} events queued)`;
        break;
      case 'event-limit':
        message = `event limit reached at ${at} (${this.liveCount} events queued)`;
        break;
    }
    return {
      status,
      ok: status !== 'pending',
      nowUs: this.now,
      eventsRun,
      eventsQueued: this.liveCount,
      pendingWaits,
      message,
    };
  }

  /** @internal called by a handle's cancel(). */
  noteCancelled(event: ScheduledEvent): void {
    void event;
    this.liveCount--;
    // Lazy deletion; compact when cancelled events dominate, so the heap stays bounded by live ones.
    if (this.heap.length > 1024 && this.liveCount < this.heap.length / 4) this.compact();
  }

  private peekLive(): ScheduledEvent | undefined {
    // Bounded by the heap length: each iteration removes one cancelled event.
    while (this.heap.length > 0) {
      const top = this.heap[0];
      if (!top.cancelled) return top;
      this.popTop();
    }
    return undefined;
  }

  private compact(): void {
    const live = this.heap.filter((e) => !e.cancelled);
    this.heap.length = 0;
    for (const e of live) this.push(e);
  }

  // ---- binary min-heap on (atUs, seq) ----

  private static before(a: ScheduledEvent, b: ScheduledEvent): boolean {
    return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);
  }

  private push(event: ScheduledEvent): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!Scheduler.before(event, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = event;
  }

  private popTop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && Scheduler.before(heap[right], heap[left]) ? right : left;
      if (!Scheduler.before(heap[child], last)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
  }
}
