// Statistics (enable_stats): counts and latency histograms of the commit path, gathered from the
// commit observer's events and from transactions ending, and reported every print_stats_period
// through an injectable sink. Every queue is bounded; an event that cannot be matched is dropped
// from the latencies, never from the counts.

import * as hdr from 'hdr-histogram-js';
import type { Clock, Timer } from '../io/clock.js';
import type { CommitObserver } from '../commit-group/redo-log-handler.js';
import type { LoggingMode } from '../config/config.js';

/** Batches placed but not yet flushed whose placement time is remembered (flush latency). */
export const STATS_PLACED_BATCHES_MAX = 100_000;
/** Open groups whose members' join times are remembered (commit latency in group mode). */
export const STATS_OPEN_GROUPS_MAX = 1024;
const LATENCY_US_MAX = 60_000_000;

export interface StatsCounts {
  commits: number;
  aborts: number;
  groups: number;
  groupMembers: number;
  flushes: number;
  flushedTransactions: number;
  flushedBytes: number;
}

export interface LatencySummaryUs {
  count: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export interface StatsSnapshot {
  periodUs: number;
  counts: StatsCounts;
  commitLatency: LatencySummaryUs;
  flushLatency: LatencySummaryUs;
  groupWait: LatencySummaryUs;
}

function zeroCounts(): StatsCounts {
  return { commits: 0, aborts: 0, groups: 0, groupMembers: 0, flushes: 0, flushedTransactions: 0, flushedBytes: 0 };
}

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_US_MAX, numberOfSignificantValueDigits: 3 });
}

function summarize(h: hdr.Histogram): LatencySummaryUs {
  if (h.totalCount === 0) return { count: 0, meanUs: 0, p50Us: 0, p99Us: 0, maxUs: 0 };
  return { count: h.totalCount, meanUs: h.mean, p50Us: h.getValueAtPercentile(50), p99Us: h.getValueAtPercentile(99), maxUs: h.maxValue };
}

function record(h: hdr.Histogram, us: number): void {
  h.recordValue(Math.min(LATENCY_US_MAX, Math.max(1, Math.round(us))));
}

export class StatsCollector implements CommitObserver {
  private period = zeroCounts();
  private readonly total = zeroCounts();
  private readonly commitLatency = newHistogram();
  private readonly flushLatency = newHistogram();
  private readonly groupWaitHist = newHistogram();
  private readonly openGroups = new Map<number, { openedAtUs: number; joinsUs: number[] }>();
  /** Join times of the group each socket closed last, waiting for that group's `logged`. */
  private readonly closedJoins = new Map<number, number[]>();
  private readonly placed: { firstLsn: number; atUs: number; joinsUs: number[] | undefined }[] = [];
  private periodStartUs: number;

  constructor(
    private readonly mode: LoggingMode,
    private readonly clock: Clock,
  ) {
    this.periodStartUs = clock.nowUs();
  }

  // ---- events ----

  groupOpened(_socket: number, groupId: number, atUs: number): void {
    if (this.openGroups.size < STATS_OPEN_GROUPS_MAX) this.openGroups.set(groupId, { openedAtUs: atUs, joinsUs: [] });
  }

  groupJoined(_socket: number, groupId: number, _member: number, atUs: number): void {
    this.openGroups.get(groupId)?.joinsUs.push(atUs);
  }

  groupClosed(socket: number, groupId: number, _reason: string, members: number, atUs: number): void {
    this.bump('groups', 1);
    this.bump('groupMembers', members);
    const g = this.openGroups.get(groupId);
    this.openGroups.delete(groupId);
    if (!g) return;
    record(this.groupWaitHist, atUs - g.openedAtUs);
    this.closedJoins.set(socket, g.joinsUs);
  }

  logged(socket: number, frameLsns: readonly number[], _payloads: readonly unknown[], atUs: number): void {
    const joinsUs = this.closedJoins.get(socket);
    this.closedJoins.delete(socket);
    if (this.placed.length >= STATS_PLACED_BATCHES_MAX) this.placed.shift();
    this.placed.push({ firstLsn: frameLsns[0] ?? 0, atUs, joinsUs });
  }

  flushed(_socket: number | undefined, _startLsn: number, endLsn: number, transactions: number, bytes: number, atUs: number): void {
    this.bump('flushes', 1);
    this.bump('flushedTransactions', transactions);
    this.bump('flushedBytes', bytes);
    // Batches are acknowledged in LSN order: every placed batch below endLsn is now durable.
    while (this.placed.length > 0 && this.placed[0]!.firstLsn < endLsn) {
      const b = this.placed.shift()!;
      record(this.flushLatency, atUs - b.atUs);
      if (b.joinsUs) for (const j of b.joinsUs) record(this.commitLatency, atUs - j);
      else if (this.mode === 'synchronous') record(this.commitLatency, atUs - b.atUs);
    }
  }

  /** A transaction ended (committed, or aborted: conflicts, errors and rollbacks). */
  transactionEnded(committed: boolean): void {
    this.bump(committed ? 'commits' : 'aborts', 1);
  }

  // ---- reading ----

  totals(): StatsCounts {
    return { ...this.total };
  }

  /** What happened since the last snapshot; starts a new period. */
  takeSnapshot(): StatsSnapshot {
    const now = this.clock.nowUs();
    const snap: StatsSnapshot = {
      periodUs: now - this.periodStartUs,
      counts: this.period,
      commitLatency: summarize(this.commitLatency),
      flushLatency: summarize(this.flushLatency),
      groupWait: summarize(this.groupWaitHist),
    };
    this.period = zeroCounts();
    this.commitLatency.reset();
    this.flushLatency.reset();
    this.groupWaitHist.reset();
    this.periodStartUs = now;
    return snap;
  }

  private bump(field: keyof StatsCounts, n: number): void {
    this.period[field] += n;
    this.total[field] += n;
  }
}

/** One report, a few lines of text. */
export function formatStatsReport(s: StatsSnapshot, mode: LoggingMode): string {
  const c = s.counts;
  const seconds = s.periodUs / 1e6;
  const rate = seconds > 0 ? (c.commits / seconds).toFixed(1) : '0';
  const avgGroup = c.groups > 0 ? (c.groupMembers / c.groups).toFixed(1) : '-';
  const lat = (l: LatencySummaryUs): string =>
    l.count === 0 ? 'none' : `n=${l.count} mean=${l.meanUs.toFixed(0)} p50=${l.p50Us} p99=${l.p99Us} max=${l.maxUs}`;
  return [
    `MOT statistics (${mode} logging) over the last ${seconds.toFixed(1)} s:`,
    `  transactions: commits=${c.commits} (${rate}/s) aborts=${c.aborts}`,
    `  groups: ${c.groups} (average size ${avgGroup}); flushes: ${c.flushes}; transactions flushed: ${c.flushedTransactions}; redo bytes flushed: ${c.flushedBytes}`,
    `  commit latency us: ${lat(s.commitLatency)}`,
    `  flush latency us: ${lat(s.flushLatency)}`,
    `  group wait us: ${lat(s.groupWait)}`,
  ].join('\n');
}

/** Prints a report every `periodUs` on the injected clock until stopped. */
export class StatsReporter {
  private timer: Timer | undefined;
  private stopped = false;

  constructor(
    private readonly collector: StatsCollector,
    private readonly clock: Clock,
    private readonly periodUs: number,
    private readonly mode: LoggingMode,
    private readonly sink: (report: string) => void,
  ) {}

  start(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(this.periodUs, () => {
      this.timer = undefined;
      this.sink(formatStatsReport(this.collector.takeSnapshot(), this.mode));
      this.start();
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/**
 * Several observers as one (the caller's and the statistics collector). A Proxy, so that events added
 * to CommitObserver later reach every observer without a change here.
 */
export function teeObservers(...observers: (CommitObserver | undefined)[]): CommitObserver | undefined {
  const list = observers.filter((o): o is CommitObserver => o !== undefined);
  if (list.length <= 1) return list[0];
  return new Proxy({} as CommitObserver, {
    get: (_target, event) => {
      if (!list.some((o) => typeof (o as Record<PropertyKey, unknown>)[event] === 'function')) return undefined;
      return (...args: unknown[]) => {
        for (const o of list) (o as Record<PropertyKey, ((...a: unknown[]) => void) | undefined>)[event]?.(...args);
      };
    },
  });
}
