// motsim's public library API.

export { Engine, type EngineOptions, type RecoveryReport } from './engine.js';
export { Session } from './transaction/session.js';
export { Transaction, type CommitResult, type TransactionState } from './transaction/transaction.js';
export type { TableDef, ColumnDef, ColumnType, Row, Value } from './store/schema.js';
export type { Table } from './store/table.js';
export { MotError, MotCode, SqlState, Errors, isMotError, type ReturnCode } from './errors.js';
export {
  resolveConfig,
  parseMotConf,
  loadMotConf,
  loggingMode,
  defaultConfig,
  type EngineConfig,
  type LoggingMode,
  type ConfigInput,
  type ConfigWarning,
} from './config/config.js';
export type { Clock, Timer, Micros } from './io/clock.js';
export { RealClock } from './io/clock.js';
export type { Disk, DiskFile } from './io/disk.js';
export { RealDisk } from './io/real-disk.js';
export type { Random } from './io/random.js';
export { SeededRandom } from './io/random.js';
export type { CommitObserver, LogStats } from './commit-group/redo-log-handler.js';
export { executeSql, SqlRunner, parseSql, formatResult, formatError, type SqlResult } from './sql/index.js';
export { moCtl, type MoCtlResult, type MoCtlCall } from './admin/mo-ctl.js';
export { SYS_ACCOUNT, DEFAULT_DATABASE, type Login } from './admin/accounts.js';
