// enable_redo_log = false: nothing is logged, commits return at once, nothing survives a crash.

import type { LogStats, RedoLogHandler } from './redo-log-handler.js';
import { emptyStats } from './redo-log-handler.js';

export class NullRedoLogHandler implements RedoLogHandler {
  readonly mode = 'off' as const;
  private readonly s: LogStats = emptyStats('off');

  commit(buffers: Uint8Array[]): undefined {
    this.s.buffers += buffers.length;
    this.s.transactions++;
    return undefined;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats(): LogStats {
    return { ...this.s };
  }
}
