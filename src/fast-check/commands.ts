// Model-based testing with fast-check commands: begin, read/write/scan operations, commit, abort, DDL,
// checkpoint, inject a fault, let time pass, crash, recover. The model is only what fast-check needs
// to pick a command that can run (which sessions are open or committing, whether the machine is down),
// plus a `user` record for commands of your own; the oracle judges the real side at each recovery.

import fc from 'fast-check';
import { Errors } from '../errors.js';
import type { FaultName } from '../sim/crash-test.js';
import { CrashHarness, INJECTABLE_FAULTS, type HarnessOptions } from './harness.js';
import { DEFAULT_SCHEMA, type WorkloadSchema } from './schema.js';
import { ddlArbitrary, describeOperation, operationArbitrary, type DdlSpec, type OperationSpec } from './workload.js';

export interface HistoryModel<U extends object = Record<string, unknown>> {
  /** Sessions the harness drives. */
  readonly sessions: number;
  /** Sessions with a transaction open. */
  open: Set<number>;
  /** Sessions whose commit has not answered yet. */
  committing: Set<number>;
  /** The machine crashed and has not recovered. */
  down: boolean;
  /** Recovery refused the directory: nothing more can run. */
  ended: boolean;
  /** Yours: what commands of your own keep track of (typed by U). */
  user: U;
}

/** A command over the harness; U is the type of your part of the model (HistoryModel.user). */
export type HistoryCommand<U extends object = Record<string, unknown>> = fc.AsyncCommand<HistoryModel<U>, CrashHarness>;

/** The model as the built-in commands see it: any user part. */
type AnyModel = HistoryModel<object>;

/** The model as the harness stands now (commits answer asynchronously, a crash may come mid-command). */
export function syncModel(m: AnyModel, r: CrashHarness): void {
  m.open = new Set(r.open.keys());
  m.committing = new Set(r.committing);
  m.down = r.down;
  m.ended = r.ended;
}

const up = (m: Readonly<AnyModel>): boolean => !m.down && !m.ended;
const idle = (m: Readonly<AnyModel>): number[] => Array.from({ length: m.sessions }, (_, s) => s).filter((s) => !m.open.has(s) && !m.committing.has(s));
const openSessions = (m: Readonly<AnyModel>): number[] => [...m.open].sort((a, b) => a - b);
/** The `pick`-th (modulo) of a list of sessions: shrinking `pick` moves toward the first. */
const pickOf = (list: readonly number[], pick: number): number => list[pick % list.length]!;

/** A base for commands that run while the machine is up; `act` does the work, the model follows the harness. */
abstract class UpCommand implements fc.AsyncCommand<AnyModel, CrashHarness> {
  check(m: Readonly<AnyModel>): boolean {
    return up(m);
  }
  async run(m: AnyModel, r: CrashHarness): Promise<void> {
    await this.act(m, r);
    syncModel(m, r);
  }
  protected abstract act(m: Readonly<AnyModel>, r: CrashHarness): Promise<void> | void;
  abstract toString(): string;
}

export class BeginCommand extends UpCommand {
  constructor(readonly pick: number) {
    super();
  }
  override check(m: Readonly<AnyModel>): boolean {
    return up(m) && idle(m).length > 0;
  }
  protected act(m: Readonly<AnyModel>, r: CrashHarness): void {
    r.begin(pickOf(idle(m), this.pick));
  }
  toString(): string {
    return `begin(idle #${this.pick})`;
  }
}

/** read, scan, insert, update or delete in one of the open transactions. */
export class OperationCommand extends UpCommand {
  constructor(
    readonly pick: number,
    readonly op: Exclude<OperationSpec, { kind: 'pause' }>,
  ) {
    super();
  }
  override check(m: Readonly<AnyModel>): boolean {
    return up(m) && m.open.size > 0;
  }
  protected act(m: Readonly<AnyModel>, r: CrashHarness): void {
    r.operate(pickOf(openSessions(m), this.pick), this.op);
  }
  toString(): string {
    return `${describeOperation(this.op)} (open #${this.pick})`;
  }
}

/** Commit one of the open transactions; what can run at this instant runs (others may still be committing). */
export class CommitCommand extends UpCommand {
  constructor(readonly pick: number) {
    super();
  }
  override check(m: Readonly<AnyModel>): boolean {
    return up(m) && m.open.size > 0;
  }
  protected async act(m: Readonly<AnyModel>, r: CrashHarness): Promise<void> {
    void r.commit(pickOf(openSessions(m), this.pick));
    await r.advance(0);
  }
  toString(): string {
    return `commit(open #${this.pick})`;
  }
}

export class AbortCommand extends UpCommand {
  constructor(readonly pick: number) {
    super();
  }
  override check(m: Readonly<AnyModel>): boolean {
    return up(m) && m.open.size > 0;
  }
  protected act(m: Readonly<AnyModel>, r: CrashHarness): void {
    r.abort(pickOf(openSessions(m), this.pick));
  }
  toString(): string {
    return `abort(open #${this.pick})`;
  }
}

/** Let virtual time pass: flushes, group timeouts, asynchronous flush rounds happen. */
export class AdvanceCommand extends UpCommand {
  constructor(readonly us: number) {
    super();
  }
  protected act(_m: Readonly<AnyModel>, r: CrashHarness): Promise<void> {
    return r.advance(this.us);
  }
  toString(): string {
    return `advance(${this.us}us)`;
  }
}

export class DdlCommand extends UpCommand {
  constructor(readonly ddl: DdlSpec) {
    super();
  }
  protected async act(_m: Readonly<AnyModel>, r: CrashHarness): Promise<void> {
    void r.ddl(this.ddl);
    await r.advance(0);
  }
  toString(): string {
    return this.ddl.kind === 'toggle-index' ? `toggle-index(${this.ddl.table}.${this.ddl.index.name})` : `${this.ddl.kind}(${this.ddl.table})`;
  }
}

export class CheckpointCommand extends UpCommand {
  protected async act(_m: Readonly<AnyModel>, r: CrashHarness): Promise<void> {
    void r.checkpoint();
    await r.advance(0);
  }
  toString(): string {
    return 'checkpoint';
  }
}

export class InjectFaultCommand extends UpCommand {
  constructor(
    readonly fault: FaultName,
    readonly probability: number,
  ) {
    super();
  }
  protected act(_m: Readonly<AnyModel>, r: CrashHarness): void {
    r.injectFault(this.fault, this.probability);
  }
  toString(): string {
    return `inject(${this.fault}, ${this.probability})`;
  }
}

/** Power cut: every open transaction ends, commits in flight may or may not survive. */
export class CrashCommand extends UpCommand {
  protected act(_m: Readonly<AnyModel>, r: CrashHarness): void {
    r.crash();
  }
  toString(): string {
    return 'crash';
  }
}

/** Restart, recover, and have the oracle judge the incarnation that crashed: throws CrashRecoveryViolation. */
export class RecoverCommand implements fc.AsyncCommand<AnyModel, CrashHarness> {
  check(m: Readonly<AnyModel>): boolean {
    return m.down && !m.ended;
  }
  async run(m: AnyModel, r: CrashHarness): Promise<void> {
    await r.recover();
    syncModel(m, r);
    r.assertNoViolations();
  }
  toString(): string {
    return 'recover';
  }
}

export type CommandName = 'begin' | 'operation' | 'commit' | 'abort' | 'advance' | 'ddl' | 'checkpoint' | 'fault' | 'crash' | 'recover';

/** Relative weights of the built-in commands: transactions hold a few operations each, overlap and commit; crashes are rare. */
export const COMMAND_WEIGHTS_DEFAULT: Readonly<Record<CommandName, number>> = {
  begin: 6,
  operation: 16,
  commit: 6,
  abort: 1,
  advance: 4,
  ddl: 2,
  checkpoint: 1,
  fault: 1,
  crash: 1,
  recover: 8,
};

export interface CrashRecoveryCommandsOptions<U extends object = Record<string, unknown>> {
  /** Tables the operations and DDL use (default DEFAULT_SCHEMA); the harness must be started with the same. */
  schema?: WorkloadSchema;
  /** Sessions commands pick among (default 4; picks are taken modulo the harness's sessions). */
  sessions?: number;
  /** Faults the inject command draws from (default none: no fault is injected). */
  faults?: readonly FaultName[];
  /** Weights replacing COMMAND_WEIGHTS_DEFAULT's; 0 leaves a command out. */
  weights?: Partial<Record<CommandName, number>>;
  /** Longest advance, µs (default 2000). */
  advanceUsMax?: number;
  /** Commands of your own, with their weight. */
  extraCommands?: readonly { arbitrary: fc.Arbitrary<HistoryCommand<U>>; weight: number }[];
  /** Commands per run, at most (default 100). */
  maxCommands?: number;
  /** fast-check's replayPath of a failing run (printed by crashRecoveryReporter), to replay it. */
  replayPath?: string;
}

/** The built-in commands (and yours) as one weighted arbitrary. */
export function historyCommandArbitrary<U extends object = Record<string, unknown>>(options: CrashRecoveryCommandsOptions<U> = {}): fc.Arbitrary<HistoryCommand<U>> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const sessions = options.sessions ?? 4;
  if (!(Number.isInteger(sessions) && sessions >= 1 && sessions <= 1024)) throw Errors.invalidArgument('sessions', `${sessions} is not an integer from 1 to 1024`);
  const faults = options.faults ?? [];
  for (const f of faults) if (!INJECTABLE_FAULTS.includes(f)) throw Errors.invalidArgument('faults', `"${f}" is not one of ${INJECTABLE_FAULTS.join(', ')}`);
  const advanceUsMax = options.advanceUsMax ?? 2000;
  if (!(Number.isInteger(advanceUsMax) && advanceUsMax >= 0)) throw Errors.invalidArgument('advanceUsMax', `${advanceUsMax} is not an integer number of µs >= 0`);
  const weights = { ...COMMAND_WEIGHTS_DEFAULT, ...options.weights };
  for (const [name, w] of Object.entries(weights)) {
    if (!(name in COMMAND_WEIGHTS_DEFAULT)) throw Errors.invalidArgument('weights', `"${name}" is not one of ${Object.keys(COMMAND_WEIGHTS_DEFAULT).join(', ')}`);
    if (!(Number.isInteger(w) && w >= 0)) throw Errors.invalidArgument(`weights.${name}`, `${w} is not an integer >= 0`);
  }
  const pick = fc.integer({ min: 0, max: sessions - 1 });
  const ops = operationArbitrary(schema, { pauseUsMax: 0 }) as fc.Arbitrary<Exclude<OperationSpec, { kind: 'pause' }>>;
  const builtIn: Record<CommandName, () => fc.Arbitrary<HistoryCommand<U>>> = {
    begin: () => pick.map((p) => new BeginCommand(p)),
    operation: () => fc.tuple(pick, ops).map(([p, op]) => new OperationCommand(p, op)),
    commit: () => pick.map((p) => new CommitCommand(p)),
    abort: () => pick.map((p) => new AbortCommand(p)),
    advance: () => fc.integer({ min: 0, max: advanceUsMax }).map((us) => new AdvanceCommand(us)),
    ddl: () => ddlArbitrary(schema).map((d) => new DdlCommand(d)),
    checkpoint: () => fc.constant(new CheckpointCommand()),
    fault: () => fc.tuple(fc.constantFrom(...faults), fc.constantFrom(1, 0.5, 0.1)).map(([f, p]) => new InjectFaultCommand(f, p)),
    crash: () => fc.constant(new CrashCommand()),
    recover: () => fc.constant(new RecoverCommand()),
  };
  const all: { arbitrary: fc.Arbitrary<HistoryCommand<U>>; weight: number }[] = [];
  for (const name of Object.keys(builtIn) as CommandName[]) {
    if (weights[name] === 0 || (name === 'fault' && faults.length === 0)) continue;
    all.push({ arbitrary: builtIn[name](), weight: weights[name] });
  }
  all.push(...(options.extraCommands ?? []));
  return fc.oneof(...all);
}

/** `fc.commands` over the built-in commands (and yours): shrinks to the fewest commands that still fail. */
export function crashRecoveryCommands<U extends object = Record<string, unknown>>(options: CrashRecoveryCommandsOptions<U> = {}): fc.Arbitrary<Iterable<HistoryCommand<U>>> {
  const maxCommands = options.maxCommands ?? 100;
  if (!(Number.isInteger(maxCommands) && maxCommands >= 1)) throw Errors.invalidArgument('maxCommands', `${maxCommands} is not an integer >= 1`);
  return fc.commands([historyCommandArbitrary<U>(options)], { maxCommands, size: 'max', ...(options.replayPath !== undefined ? { replayPath: options.replayPath } : {}) });
}

export interface RunCommandsOptions<U extends object = Record<string, unknown>> extends HarnessOptions {
  /** The `user` part of the model at the start (default {}). */
  user?: () => U;
  /** Virtual time commits in flight get before the final crash (default 20 ms). */
  settleUs?: number;
}

/**
 * Start a harness, run the commands, then let commits finish, crash, recover and check the last
 * incarnation. Throws CrashRecoveryViolation (or what a command threw); resolves with the harness.
 */
export async function runCommands<U extends object = Record<string, unknown>>(options: RunCommandsOptions<U>, cmds: Iterable<HistoryCommand<U>>): Promise<CrashHarness> {
  const real = await CrashHarness.start(options);
  const model = (): HistoryModel<U> => ({ sessions: real.sessionsCount, open: new Set(), committing: new Set(), down: false, ended: false, user: options.user?.() ?? ({} as U) });
  await fc.asyncModelRun(() => ({ model: model(), real }), cmds);
  await real.finish(options.settleUs);
  real.assertNoViolations();
  return real;
}
