// motsim/fast-check: property-testing crash recovery with fast-check. Arbitraries for what users vary
// (workloads as data over a schema, configurations, machines, fault plans, crash points), a property
// helper that plays one scenario and asks the crash oracle, model-based commands over the same
// harness, and a reporter whose failures name the seed, path and replay line. See docs/property-testing.md.

export { DEFAULT_SCHEMA, schemaArbitrary, valueArbitrary, keyValueArbitrary, keyArbitrary, rowArbitrary, changesArbitrary, type WorkloadSchema } from './schema.js';
export {
  operationArbitrary,
  ddlArbitrary,
  transactionArbitrary,
  workloadArbitrary,
  workloadSize,
  describeWorkload,
  describeOperation,
  valueText,
  isDdlStep,
  type OperationSpec,
  type DdlSpec,
  type TransactionSpec,
  type DdlStepSpec,
  type WorkloadStep,
  type WorkloadSpec,
  type OperationArbitraryOptions,
  type WorkloadArbitraryOptions,
} from './workload.js';
export {
  configArbitrary,
  parameterArbitrary,
  machineArbitrary,
  faultPlanArbitrary,
  crashPointArbitrary,
  scenarioArbitrary,
  CONFIG_EXCLUDED_BY_DEFAULT,
  CONFIG_RANGES_DEFAULT,
  SIZE_GRAIN_BYTES,
  type ConfigArbitraryOptions,
  type MachineArbitraryOptions,
  type FaultInjection,
  type FaultPlanArbitraryOptions,
  type CrashPoint,
  type CrashPointArbitraryOptions,
  type Scenario,
  type ScenarioArbitraryOptions,
} from './scenario.js';
export {
  CrashHarness,
  CrashRecoveryViolation,
  HARNESS_CONFIG_DEFAULTS,
  INJECTABLE_FAULTS,
  ENOSPC_HEADROOM_BYTES,
  formatViolations,
  type HarnessOptions,
  type HarnessViolation,
} from './harness.js';
export { crashRecoveryProperty, runScenario, runWorkload, percentile, SETTLE_US, type ScenarioResult, type CrashRecoveryPropertyOptions } from './property.js';
export {
  crashRecoveryCommands,
  historyCommandArbitrary,
  runCommands,
  syncModel,
  BeginCommand,
  OperationCommand,
  CommitCommand,
  AbortCommand,
  AdvanceCommand,
  DdlCommand,
  CheckpointCommand,
  InjectFaultCommand,
  CrashCommand,
  RecoverCommand,
  COMMAND_WEIGHTS_DEFAULT,
  type HistoryModel,
  type HistoryCommand,
  type CommandName,
  type CrashRecoveryCommandsOptions,
  type RunCommandsOptions,
} from './commands.js';
export { crashRecoveryReporter, replayOf, formatReplay, type Replay, type ReporterOptions } from './report.js';
export { FAULT_NAMES, FAULT_DESCRIPTIONS, CRASH_TEST_MODES, type CrashTestMode, type FaultName } from '../sim/crash-test.js';
