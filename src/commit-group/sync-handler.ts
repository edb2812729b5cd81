// Synchronous commit (synchronous_commit = on, enable_group_commit = false): each transaction writes
// its own redo buffers and flushes them before the client is told "committed". The write and the
// fdatasync go to the committer's socket lane; with the default wal_flusher (committer) that is the
// committing thread itself, with no thread hop (see docs/architecture.md).

import type { HandlerContext, LogStats, RedoLogHandler } from './redo-log-handler.js';
import { emptyStats } from './redo-log-handler.js';
import type { WalWriter } from '../wal/wal-writer.js';

export class SyncRedoLogHandler implements RedoLogHandler {
  readonly mode = 'synchronous' as const;
  private readonly s: LogStats = emptyStats('synchronous');
  private readonly wal: WalWriter;

  constructor(private readonly ctx: HandlerContext) {
    this.wal = ctx.wal!;
  }

  commit(buffers: Uint8Array[], socket: number): Promise<void> {
    const batch = this.wal.place(buffers);
    this.s.buffers += buffers.length;
    this.s.transactions++;
    this.s.flushes++;
    this.s.walBytes += batch.endLsn - batch.startLsn;
    const obs = this.ctx.observer;
    obs?.logged?.(socket, batch.frameLsns, buffers, this.ctx.clock.nowUs());
    const written = this.wal.write(batch, socket);
    const done = obs?.flushed
      ? written.then(() => obs.flushed!(socket, batch.startLsn, batch.endLsn, 1, batch.endLsn - batch.startLsn, this.ctx.clock.nowUs()))
      : written;
    return done;
  }

  flush(): Promise<void> {
    return this.wal.drain();
  }

  async close(): Promise<void> {
    await this.wal.drain();
  }

  stats(): LogStats {
    return { ...this.s };
  }
}
