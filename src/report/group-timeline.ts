// Chart 3 of the report: a short group-commit run in virtual time on a simulated 2-socket machine,
// recorded through the CommitObserver: each transaction's join, its group's close (by size or by
// timeout), the group's write + fdatasync and the acknowledgement. Deterministic: one seed, one plan.

import { Engine } from '../engine.js';
import type { CommitObserver } from '../commit-group/redo-log-handler.js';
import { SimWorld } from '../sim/world.js';
import type { LatencyPresetName } from '../sim/latency.js';
import { BENCH_TABLE, makeRow } from '../bench/workloads.js';
import { assert } from '../errors.js';

export interface TimelineTransaction {
  /** 1, 2, ... in the order they called commit. */
  n: number;
  socket: number;
  groupId: number;
  joinUs: number;
  ackUs: number;
}

export interface TimelineGroup {
  id: number;
  socket: number;
  openedUs: number;
  closedUs: number;
  reason: 'size' | 'timeout' | 'flush';
  members: number;
  /** The group's redo placed in the log (its write + fdatasync starts). */
  loggedUs: number;
  /** The flush completed: everything up to the group's end LSN is durable. */
  durableUs: number;
}

export interface GroupTimeline {
  disk: string;
  sockets: number;
  groupCommitSize: number;
  groupCommitTimeoutUs: number;
  seed: number;
  transactions: TimelineTransaction[];
  groups: TimelineGroup[];
}

export interface GroupTimelineOptions {
  seed?: number;
  disk?: LatencyPresetName;
  groupCommitSize?: number;
  groupCommitTimeoutUs?: number;
}

/** When each transaction calls commit (µs of virtual time after the start) and on which socket. */
interface Arrival {
  atUs: number;
  socket: number;
}

/**
 * The plan: bursts on both sockets that fill groups by size, a trickle that leaves a group to its
 * timeout, and one lone transaction at the end that waits the whole timeout alone.
 */
function arrivals(timeoutUs: number): Arrival[] {
  const out: Arrival[] = [];
  const burst = (socket: number, startUs: number, count: number, gapUs: number): void => {
    for (let i = 0; i < count; i++) out.push({ socket, atUs: startUs + i * gapUs });
  };
  burst(0, 0, 9, 60); // two groups by size, then a member left to the timeout
  burst(1, 150, 8, 90); // two groups by size
  burst(0, 2.2 * timeoutUs, 6, 120);
  burst(1, 2.0 * timeoutUs, 3, 250); // never fills: closed by the timeout
  burst(1, 3.3 * timeoutUs, 5, 40);
  out.push({ socket: 0, atUs: 4.2 * timeoutUs }); // the lone transaction
  return out.sort((a, b) => a.atUs - b.atUs || a.socket - b.socket);
}

export async function recordGroupTimeline(o: GroupTimelineOptions = {}): Promise<GroupTimeline> {
  const seed = o.seed ?? 5;
  const disk = o.disk ?? 'sata-ssd';
  const size = o.groupCommitSize ?? 4;
  const timeoutUs = o.groupCommitTimeoutUs ?? 2000;
  const sockets = 2;
  const coresPerSocket = 16;
  const world = SimWorld.create({ seed, machine: { sockets, coresPerSocket, disk } });
  const groups = new Map<number, TimelineGroup>();
  const transactions: TimelineTransaction[] = [];
  let lastJoin: { socket: number; groupId: number } | undefined;
  let recording = false;
  // logged/flushed carry LSNs, not group ids: a group's batch is placed right after its close (same
  // synchronous step), so the next `logged` belongs to the group just closed; flushes match by start LSN.
  let closedLast: TimelineGroup | undefined;
  const byStartLsn = new Map<number, TimelineGroup>();
  const observer: CommitObserver = {
    groupOpened: (socket, groupId, atUs) => {
      if (recording) groups.set(groupId, { id: groupId, socket, openedUs: atUs, closedUs: NaN, reason: 'flush', members: 0, loggedUs: NaN, durableUs: NaN });
    },
    groupJoined: (socket, groupId) => {
      lastJoin = { socket, groupId };
    },
    groupClosed: (_socket, groupId, reason, members, atUs) => {
      const g = groups.get(groupId);
      if (!g) return;
      g.closedUs = atUs;
      g.reason = reason;
      g.members = members;
      closedLast = g;
    },
    logged: (_socket, frameLsns, _payloads, atUs) => {
      if (!closedLast || frameLsns.length === 0) return;
      closedLast.loggedUs = atUs;
      byStartLsn.set(frameLsns[0]!, closedLast);
      closedLast = undefined;
    },
    flushed: (_socket, startLsn, _endLsn, _transactions, _bytes, atUs) => {
      const g = byStartLsn.get(startLsn);
      if (g) g.durableUs = atUs;
    },
  };
  const run = async (): Promise<void> => {
    const engine = await Engine.open(
      world.dir,
      world.engineOptions({ observer, config: { enable_group_commit: true, group_commit_size: size, group_commit_timeout: `${timeoutUs}us` } }),
    );
    await engine.createTable(BENCH_TABLE);
    await engine.flush();
    recording = true;
    const t0Us = world.clock.nowUs();
    const plan = arrivals(timeoutUs);
    await Promise.all(
      plan.map(async (a, i) => {
        await world.clock.sleepUs(a.atUs);
        const session = engine.openSession({ core: a.socket * coresPerSocket + (i % coresPerSocket) });
        const tx = session.begin();
        tx.insert(BENCH_TABLE.name, makeRow(i, a.socket));
        lastJoin = undefined;
        const joinUs = world.clock.nowUs() - t0Us;
        const committed = tx.commit();
        // The handler's commit runs synchronously inside tx.commit(): the join was just observed.
        assert(lastJoin !== undefined, 'a group-commit transaction joins a group synchronously');
        const join: { socket: number; groupId: number } = lastJoin;
        const t: TimelineTransaction = { n: transactions.length + 1, socket: join.socket, groupId: join.groupId, joinUs, ackUs: NaN };
        transactions.push(t);
        await committed;
        t.ackUs = world.clock.nowUs() - t0Us;
        session.close();
      }),
    );
    recording = false;
    await engine.close();
    for (const g of groups.values()) {
      g.openedUs -= t0Us;
      g.closedUs -= t0Us;
      g.loggedUs -= t0Us;
      g.durableUs -= t0Us;
    }
  };
  await world.run('group-commit timeline', run);
  return {
    disk,
    sockets,
    groupCommitSize: size,
    groupCommitTimeoutUs: timeoutUs,
    seed,
    transactions,
    groups: [...groups.values()].sort((a, b) => a.id - b.id),
  };
}
