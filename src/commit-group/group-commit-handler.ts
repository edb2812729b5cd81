// Group synchronous commit (enable_group_commit = true): one commit group per simulated NUMA socket.
// The first committer on a socket with no open group opens one; others join in order. A group closes
// when it has group_commit_size members or group_commit_timeout after it opened, whichever is first;
// its members' redo buffers are then written as one batch (one frame each, in join order) and flushed
// once, on that socket's pinned flusher lane, so sockets flush in parallel. All members are told
// "committed" together, in join order, once the batch (and every batch before it) is durable.

import type { Timer } from '../io/clock.js';
import type { HandlerContext, LogStats, RedoLogHandler } from './redo-log-handler.js';
import { batchBytes, emptyStats } from './redo-log-handler.js';
import type { WalWriter } from '../wal/wal-writer.js';

interface Member {
  buffers: Uint8Array[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Group {
  id: number;
  socket: number;
  members: Member[];
  openedAtUs: number;
  timer: Timer | undefined;
}

export class GroupCommitRedoLogHandler implements RedoLogHandler {
  readonly mode = 'group' as const;
  private readonly s: LogStats = emptyStats('group');
  private readonly open: (Group | undefined)[];
  private readonly inFlight = new Set<Promise<void>>();
  private nextGroupId = 1;
  private readonly wal: WalWriter;
  private readonly sizeMax: number;
  private readonly timeoutUs: number;

  constructor(private readonly ctx: HandlerContext) {
    this.wal = ctx.wal!;
    this.open = new Array(ctx.config.sockets).fill(undefined);
    this.sizeMax = ctx.config.groupCommitSize;
    this.timeoutUs = ctx.config.groupCommitTimeoutUs;
  }

  commit(buffers: Uint8Array[], socket: number): Promise<void> {
    if (this.wal.failed) return Promise.reject(this.wal.failed);
    let g = this.open[socket];
    const now = this.ctx.clock.nowUs();
    if (!g) {
      g = { id: this.nextGroupId++, socket, members: [], openedAtUs: now, timer: undefined };
      const group = g;
      g.timer = this.ctx.clock.setTimer(this.timeoutUs, () => this.closeGroup(group, 'timeout'));
      this.open[socket] = g;
      this.ctx.observer?.groupOpened?.(socket, g.id, now);
    }
    const done = new Promise<void>((resolve, reject) => g!.members.push({ buffers, resolve, reject }));
    this.ctx.observer?.groupJoined?.(socket, g.id, g.members.length, now);
    if (g.members.length >= this.sizeMax) this.closeGroup(g, 'size');
    return done;
  }

  private closeGroup(g: Group, reason: 'size' | 'timeout' | 'flush'): void {
    if (this.open[g.socket] !== g) return; // already closed
    this.open[g.socket] = undefined;
    g.timer?.cancel();
    this.s.groups++;
    if (reason === 'size') this.s.groupsClosedBySize++;
    else if (reason === 'timeout') this.s.groupsClosedByTimeout++;
    this.ctx.observer?.groupClosed?.(g.socket, g.id, reason, g.members.length, this.ctx.clock.nowUs());
    const buffers: Uint8Array[] = [];
    for (const m of g.members) for (const b of m.buffers) buffers.push(b);
    this.s.buffers += buffers.length;
    this.s.transactions += g.members.length;
    let written: Promise<void>;
    try {
      const batch = this.wal.place(buffers);
      this.ctx.observer?.logged?.(g.socket, batch.frameLsns, buffers, this.ctx.clock.nowUs());
      this.s.flushes++;
      this.s.walBytes += batch.endLsn - batch.startLsn;
      written = this.wal.write(batch, g.socket).then(() =>
        this.ctx.observer?.flushed?.(g.socket, batch.startLsn, batch.endLsn, g.members.length, batchBytes(buffers), this.ctx.clock.nowUs()),
      );
    } catch (e) {
      written = Promise.reject(e);
    }
    const settled = written.then(
      () => {
        for (const m of g.members) m.resolve();
      },
      (e: unknown) => {
        for (const m of g.members) m.reject(e);
      },
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  /** Close every open group now and wait for all groups to be durable. */
  async flush(): Promise<void> {
    for (const g of this.open) if (g) this.closeGroup(g, 'flush');
    await Promise.all([...this.inFlight]);
    await this.wal.drain();
  }

  async close(): Promise<void> {
    await this.flush();
  }

  abandon(): void {
    for (const g of this.open) g?.timer?.cancel();
  }

  stats(): LogStats {
    return { ...this.s };
  }
}
