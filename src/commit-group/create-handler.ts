// Picks the redo log handler for a logging mode (see config.loggingMode).

import type { LoggingMode } from '../config/config.js';
import type { HandlerContext, RedoLogHandler } from './redo-log-handler.js';
import { SyncRedoLogHandler } from './sync-handler.js';
import { GroupCommitRedoLogHandler } from './group-commit-handler.js';
import { AsyncRedoLogHandler } from './async-handler.js';
import { NullRedoLogHandler } from './null-handler.js';

export function createRedoLogHandler(mode: LoggingMode, ctx: HandlerContext): RedoLogHandler {
  switch (mode) {
    case 'off':
      return new NullRedoLogHandler();
    case 'synchronous':
      return new SyncRedoLogHandler(ctx);
    case 'group':
      return new GroupCommitRedoLogHandler(ctx);
    case 'asynchronous':
      return new AsyncRedoLogHandler(ctx);
  }
}
