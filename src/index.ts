// motsim's public library API.

export { Engine, type EngineOptions, type RecoveryReport, type DdlResult } from './engine.js';
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
// Deterministic simulation and crash-recovery property testing (src/sim/).
export {
  crashTest,
  formatCrashTestSummary,
  formatViolation,
  FAULT_NAMES,
  FAULT_DESCRIPTIONS,
  CRASH_TEST_MODES,
  type CrashTestOptions,
  type CrashTestSummary,
  type CrashTestMode,
  type FaultName,
  type ViolationReport,
  type ViolationTimeline,
  type TimelineTransaction,
  type TimelineFlush,
  type TransactionFate,
  VIOLATIONS_MAX_DEFAULT,
  modeConflict,
} from './sim/crash-test.js';
export { formatEntryData } from './sim/entry-data.js';
export type { EntryData, EntrySummary, OperationData, DdlData, JsonValue, JsonRow, JsonKey } from './sim/entry-data.js';
export { violationTimelineHtml, violationTimelineFileName } from './report/violation-timeline.js';
export { CHECKED_TABLE, type Workload, type WorkloadContext, type RecordedTransaction, type TransactionResult } from './sim/workload.js';
export { defaultWorkload, TYPED_TABLE, PAIRS_TABLE, SCRATCH_TABLE, type DefaultWorkloadOptions } from './sim/default-workload.js';
export type { RecordedOp, OpOutcome, KeyInput } from './sim/model.js';
export type { Violation, ViolationKind } from './sim/checker.js';
export { createWorld, SimWorld, type MachineSpec } from './sim/world.js';
export { simulateSuite, type SimulateOptions, type SimulateResult } from './sim/simulate.js';
export type { CrashModel, FaultSpec } from './sim/faults.js';
export type { LatencySpec, LatencyPresetName } from './sim/latency.js';
