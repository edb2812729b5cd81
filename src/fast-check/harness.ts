// The real side of a property: the unchanged engine in a simulated world, driven one step at a time
// (begin, operate, commit, abort, DDL, checkpoint, inject a fault, let time pass, crash, recover).
// Every transaction goes through the ledger; each recovery is judged by the crash oracle
// (src/sim/checker.ts: what the mode promised survived, the tables are a log prefix, every answer
// is the one a serial execution in CSN order gives). Invariants: a harness depends only on its
// options (one seed replays it); after a crash nothing runs until recover(); every run is bounded.

import { Engine } from '../engine.js';
import { resolveConfig, type ConfigInput } from '../config/config.js';
import { Errors, isMotError } from '../errors.js';
import { SeededRandom, type Random } from '../io/random.js';
import { joinPath } from '../io/disk.js';
import type { Session } from '../transaction/session.js';
import { SimWorld, resolveMachine, type MachineSpec } from '../sim/world.js';
import { Ledger } from '../sim/ledger.js';
import { formatEntryData } from '../sim/entry-data.js';
import { checkCrash, locateBitFlips, type CrashCheckResult, type Damage, type Violation } from '../sim/checker.js';
import { WorkloadRunner, type OpenTransaction } from '../sim/workload.js';
import { readEngineState } from '../sim/engine-state.js';
import { ModelDb } from '../sim/model.js';
import { faultConfig, type FaultSpec } from '../sim/faults.js';
import { CRASH_TEST_MODES, FAULT_NAMES, flipBitInLog, injectLogEndDamage, type CrashTestMode, type EndDamageFault, type FaultName } from '../sim/crash-test.js';
import { inspectDataDir } from '../tools/inspect.js';
import { SimHangError } from '../sim/scheduler.js';
import { DEFAULT_SCHEMA, checkSchema, findTable, type WorkloadSchema } from './schema.js';
import type { DdlSpec, OperationSpec } from './workload.js';

export interface HarnessOptions {
  mode: CrashTestMode;
  /** Seed of the simulated world: disk latencies, crash outcomes, fault draws. */
  seed: number;
  /** Tables created before the history starts (default DEFAULT_SCHEMA). */
  schema?: WorkloadSchema;
  /** Engine settings on top of the harness's (mot.conf names); the mode sets synchronous_commit and enable_group_commit. */
  config?: ConfigInput;
  /** Sockets, cores, disk preset, crash model (default 2 x 2, nvme, lose-unflushed); faults come from injectFault(). */
  machine?: Omit<MachineSpec, 'faults'>;
  /** Sessions, one per core from core 0 (default: every core of the machine, at most 4). */
  sessions?: number;
}

/** A violation the oracle found, with the incarnation that crashed and the virtual time of the crash. */
export interface HarnessViolation extends Violation {
  epoch: number;
  crashAtUs: number;
}

/**
 * Settings every harness starts from: small groups and segments, and a short wal_writer_delay, so
 * that a history of a few dozen operations crosses group boundaries and asynchronous flush rounds.
 */
export const HARNESS_CONFIG_DEFAULTS: Readonly<ConfigInput> = {
  group_commit_size: 3,
  group_commit_timeout: '300us',
  wal_writer_delay: '1ms',
  wal_segment_size: '1MB',
  redo_buffer_size: '64KB',
};

/** Parameters the mode decides (a config naming one is refused rather than silently overridden). */
const MODE_PARAMETERS = ['synchronous_commit', 'enable_group_commit', 'enable_redo_log', 'synchronousCommit', 'enableGroupCommit', 'enableRedoLog'];

/** Bound on events of one run of the world (a runaway history is a failure, not a hang). */
const EVENTS_PER_RUN_MAX = 5_000_000;
/** 'enospc': the quota is this far above the bytes used when the fault is injected. */
export const ENOSPC_HEADROOM_BYTES = 8 * 1024;
/** 'crash-between-steps' and 'crash-in-recovery' crash before one of the next this many disk operations. */
export const CRASH_OPERATION_WINDOW = 60;
/** Faults injectFault() takes: crash-test's, each applied as crash-test applies it (see FAULT_DESCRIPTIONS). */
export const INJECTABLE_FAULTS: readonly FaultName[] = FAULT_NAMES;

export function modeConfig(mode: CrashTestMode, config: ConfigInput = {}): ConfigInput {
  if (!CRASH_TEST_MODES.includes(mode)) throw Errors.invalidArgument('mode', `"${mode}" is not one of ${CRASH_TEST_MODES.join(', ')}`);
  for (const key of MODE_PARAMETERS) {
    if (key in config) throw Errors.invalidArgument(`config.${key}`, `is set by the mode ("${mode}"); leave it out`);
  }
  return { ...HARNESS_CONFIG_DEFAULTS, ...config, synchronous_commit: mode !== 'asynchronous', enable_group_commit: mode === 'group' };
}

/** Thrown by CrashHarness.assertNoViolations(): the oracle's findings, one per paragraph. */
export class CrashRecoveryViolation extends Error {
  constructor(readonly violations: readonly HarnessViolation[]) {
    super(formatViolations(violations));
    this.name = 'CrashRecoveryViolation';
  }
}

export function formatViolations(violations: readonly HarnessViolation[]): string {
  return violations.map((v) => `${v.kind} (epoch ${v.epoch}, crash at ${Math.round(v.crashAtUs)}us): ${v.message}${v.entries.map((e) => `\n    ${formatEntryData(e)}`).join('')}`).join('\n');
}

export class CrashHarness {
  world: SimWorld;
  engine: Engine;
  readonly ledger: Ledger;
  readonly mode: CrashTestMode;
  runner: WorkloadRunner;
  sessions: Session[];
  /** Transactions open, by session index. */
  readonly open = new Map<number, OpenTransaction>();
  /** Sessions whose commit has not answered yet. */
  readonly committing = new Set<number>();
  /** The machine crashed and has not recovered yet. */
  down = false;
  /** Recovery refused the directory (rightly or not): nothing can run any more. */
  ended = false;
  readonly checks: CrashCheckResult[] = [];
  readonly violations: HarnessViolation[] = [];
  /** Faults injected, in order, with the incarnation they were injected in (for reports). */
  readonly faultsInjected: { fault: FaultName; probability: number; epoch: number }[] = [];
  readonly config: ConfigInput;
  readonly schema: WorkloadSchema;
  /** Tables and rows when the current incarnation started. */
  private base: ModelDb;
  /** Draws of fault placement: its own stream, so injecting a fault changes no other draw. */
  private readonly faultRandom: Random;
  private readonly sessionCount: number;
  private readonly segmentBytes: number;
  private readonly walWriterDelayUs: number;
  private diskFaults: FaultSpec = {};
  /** Faults applied at the next crash or recovery, with their probability. */
  private pending = new Map<FaultName, number>();
  private crashAtUs = 0;
  private damage: Damage[] = [];
  private faultLogStart = 0;

  private constructor(options: HarnessOptions, world: SimWorld, engine: Engine, ledger: Ledger, config: ConfigInput, schema: WorkloadSchema, sessionCount: number) {
    this.world = world;
    this.ledger = ledger;
    this.mode = options.mode;
    this.engine = engine;
    this.config = config;
    this.schema = schema;
    this.sessionCount = sessionCount;
    const resolved = resolveConfig(config).config;
    this.segmentBytes = resolved.walSegmentBytes;
    this.walWriterDelayUs = resolved.walWriterDelayUs;
    this.faultRandom = new SeededRandom((options.seed ^ 0x5bd1e995) >>> 0);
    this.base = ModelDb.empty();
    this.sessions = [];
    this.runner = this.attach(engine);
  }

  /** A fresh world with the schema's tables created (recorded in the ledger) and flushed. */
  static async start(options: HarnessOptions): Promise<CrashHarness> {
    if (!(Number.isInteger(options.seed) && options.seed >= 0 && options.seed <= 0xffff_ffff)) throw Errors.invalidArgument('seed', `${options.seed} is not an integer from 0 to 2^32-1`);
    const config = modeConfig(options.mode, options.config);
    const schema = options.schema ?? DEFAULT_SCHEMA;
    checkSchema(schema);
    const machine = resolveMachine(options.machine);
    const cores = machine.sockets * machine.coresPerSocket;
    const sessions = options.sessions ?? Math.min(4, cores);
    if (!(Number.isInteger(sessions) && sessions >= 1 && sessions <= cores)) throw Errors.invalidArgument('sessions', `${sessions} is not an integer from 1 to the machine's ${cores} cores`);
    const world = SimWorld.create({ seed: options.seed, machine: { ...options.machine, faults: {} } });
    const ledger = new Ledger();
    ledger.walSegmentBytes = resolveConfig(config).config.walSegmentBytes;
    const engine = await world.run('open', Engine.open(world.dir, world.engineOptions({ config, observer: ledger.observer() })));
    // The tables' creation is in the ledger like any DDL: damage at the log's end may take it away too.
    ledger.startEpoch(0, 0);
    const setup = new WorkloadRunner(ledger, [], world.clock, world.random, { engine });
    for (const def of schema.tables) {
      const created = await world.run(`create ${def.name}`, setup.createTable(def));
      if (created !== 'acked') throw Errors.invalidArgument('schema.tables', `the engine refused to create table "${def.name}" (${created})`);
    }
    await world.run('flush', engine.flush());
    return new CrashHarness(options, world, engine, ledger, config, schema, sessions);
  }

  get nowUs(): number {
    return this.world.scheduler.nowUs;
  }

  /** Sessions the harness drives (a step's session number is taken modulo this). */
  get sessionsCount(): number {
    return this.sessionCount;
  }

  // ---- transactions ----

  /** Begin a transaction on session `s` (modulo the sessions); undefined when it has one open or committing, or the machine is down. */
  begin(s: number): OpenTransaction | undefined {
    const i = this.sessionIndex(s);
    if (this.down || this.ended || this.open.has(i) || this.committing.has(i)) return undefined;
    const tx = this.runner.begin(this.sessions[i]!);
    this.open.set(i, tx);
    return tx;
  }

  /**
   * Run one operation in the transaction open on session `s`; an error that ends the transaction
   * (40001, a table gone) rolls it back. Returns false when there is no transaction (any more).
   */
  operate(s: number, op: Exclude<OperationSpec, { kind: 'pause' }>): boolean {
    const i = this.sessionIndex(s);
    const tx = this.open.get(i);
    if (this.down || tx === undefined) return false;
    try {
      if (op.kind === 'read') tx.read(op.table, op.key);
      else if (op.kind === 'scan') tx.scan(op.table, op.from, op.to, op.limit);
      else if (op.kind === 'insert') tx.insert(op.table, op.row);
      else if (op.kind === 'update') tx.update(op.table, op.key, op.changes);
      else tx.delete(op.table, op.key);
      return true;
    } catch (e) {
      if (!isMotError(e)) throw e;
      tx.rollback();
      this.open.delete(i);
      return false;
    }
  }

  /** Commit the transaction open on session `s`; resolves when the engine answers (never, if the machine crashes first). */
  commit(s: number): Promise<void> {
    const i = this.sessionIndex(s);
    const tx = this.open.get(i);
    if (this.down || tx === undefined) return Promise.resolve();
    this.open.delete(i);
    this.committing.add(i);
    const world = this.world;
    return tx.commit().then(
      () => {
        if (this.world !== world) return; // the machine crashed meanwhile: the client never heard back
        this.committing.delete(i);
      },
      // Not a MotError (those are answers): an engine assertion, a finding rather than a test crash.
      (e: unknown) => this.note('recovery-failed', `a commit failed (an engine assertion?): ${describe(e)}`),
    );
  }

  /** Roll back (the client aborts) the transaction open on session `s`. */
  abort(s: number): void {
    const i = this.sessionIndex(s);
    const tx = this.open.get(i);
    if (this.down || tx === undefined) return;
    tx.rollback();
    this.open.delete(i);
  }

  /** Run a DDL statement (toggles decide by what exists now); resolves when it is done or refused. */
  ddl(spec: DdlSpec): Promise<unknown> {
    return this.ddlStatement(spec).catch((e: unknown) => this.note('recovery-failed', `${spec.kind} ${spec.table} failed (an engine assertion?): ${describe(e)}`));
  }

  private ddlStatement(spec: DdlSpec): Promise<unknown> {
    if (this.down || this.ended) return Promise.resolve();
    const r = this.runner;
    const tables = r.tableNames();
    if (spec.kind === 'truncate-table') return tables.includes(spec.table) ? r.truncateTable(spec.table) : Promise.resolve();
    if (spec.kind === 'toggle-table') return tables.includes(spec.table) ? r.dropTable(spec.table) : r.createTable(findTable(this.schema, spec.table));
    if (!tables.includes(spec.table)) return Promise.resolve();
    return r.indexNames(spec.table).includes(spec.index.name) ? r.dropIndex(spec.table, spec.index.name) : r.createIndex(spec.table, spec.index);
  }

  /** Start a checkpoint; a completed one witnesses its LSN (recovery may start there). */
  checkpoint(): Promise<void> {
    if (this.down || this.ended) return Promise.resolve();
    const ledger = this.ledger;
    return this.engine.checkpoint().then(
      (report) => ledger.witnessed(report.lsn),
      () => undefined, // a checkpoint refused (one running, the WAL failed) is the engine's answer, not a finding
    );
  }

  // ---- time ----

  /** Let `us` of virtual time pass (0: run what can run at this instant); stops at a crash. */
  async advance(us: number): Promise<void> {
    if (!(Number.isFinite(us) && us >= 0)) throw Errors.invalidArgument('us', `${us} is not a number of µs >= 0`);
    if (this.down || this.ended) return;
    const world = this.world;
    const r = await world.scheduler.run({ untilUs: world.scheduler.nowUs + us, until: () => this.world !== world || this.down, maxEvents: EVENTS_PER_RUN_MAX });
    if (r.status === 'event-limit') this.note('simulation-hang', `more than ${EVENTS_PER_RUN_MAX} events in ${us}us of virtual time`);
  }

  /**
   * Run the world until `promise` settles (or the machine crashes, or the world runs dry): the
   * promises commit(), ddl() and checkpoint() return settle only while the world runs. Resolves with
   * its value, undefined if it did not settle; rejects as it does.
   */
  async settle<T>(promise: Promise<T>): Promise<T | undefined> {
    let settled = false;
    const watched = promise.finally(() => (settled = true));
    watched.catch(() => undefined); // awaited below when settled; unobserved otherwise
    await this.runUntil(() => settled);
    return settled ? await watched : undefined;
  }

  /** Run the world until `done()` holds, the machine crashes, `untilUs` or the world runs dry; false if `done()` does not hold and the machine is up. */
  async runUntil(done: () => boolean, untilUs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.down || this.ended) return true;
    const world = this.world;
    const r = await world.scheduler.run({ until: () => done() || this.down, untilUs, maxEvents: EVENTS_PER_RUN_MAX });
    if (r.status === 'event-limit') this.note('simulation-hang', `more than ${EVENTS_PER_RUN_MAX} events: ${r.message}`);
    return done() || this.down;
  }

  // ---- faults, crash and recovery ----

  /**
   * Inject a fault into the current incarnation (until the next crash), as crash-test applies it:
   * disk faults (lost-tail, torn, zero-tail, fsyncgate, enospc) from now on with `probability` per
   * opportunity; crash-between-steps crashes before one of the next CRASH_OPERATION_WINDOW disk
   * operations; bitflip and the wal-* faults damage the log at the next crash, crash-in-recovery and
   * config-change hit the next recovery, each with chance `probability`.
   */
  injectFault(fault: FaultName, probability = 1): void {
    if (!INJECTABLE_FAULTS.includes(fault)) throw Errors.invalidArgument('fault', `"${fault}" is not one of ${INJECTABLE_FAULTS.join(', ')}`);
    if (!(probability >= 0 && probability <= 1)) throw Errors.invalidArgument('probability', `${probability} is not in [0, 1]`);
    if (this.down || this.ended) return;
    this.faultsInjected.push({ fault, probability, epoch: this.world.epoch });
    const spec = this.diskFaults;
    if (fault === 'lost-tail') spec.lostUnflushedTail = { probability };
    else if (fault === 'torn') spec.tornWrite = { probability };
    else if (fault === 'zero-tail') spec.zeroFilledTail = { probability };
    else if (fault === 'fsyncgate') spec.fsyncFailureDropsDirtyPages = { probability };
    else if (fault === 'enospc') spec.diskFull = { probability, quotaBytes: this.world.disk.stats().usedBytes + ENOSPC_HEADROOM_BYTES };
    else if (fault === 'crash-between-steps') {
      if (!this.faultRandom.chance(probability)) return;
      const at = this.world.disk.operationCount + this.faultRandom.int(CRASH_OPERATION_WINDOW);
      const world = this.world;
      world.disk.onOperation((op) => {
        if (op.index === at && this.world === world && !this.down) this.crash();
      });
      return;
    } else {
      this.pending.set(fault, probability);
      return;
    }
    this.world.disk.faults = faultConfig(spec);
  }

  /** Power cut now: the engine stops (no flush), the disk keeps what its crash model says, then log damage at rest. */
  crash(): void {
    if (this.down || this.ended) return;
    const w = this.world;
    this.crashAtUs = w.scheduler.nowUs;
    this.ledger.crashed(this.crashAtUs); // answers that arrive later reach no client
    w.crash(this.engine);
    this.down = true;
    this.open.clear();
    this.committing.clear();
    const endDamage: Damage[] = [];
    if (this.drawPending('bitflip')) flipBitInLog(w, this.ledger, this.faultRandom, this.segmentBytes);
    const ends = (['wal-truncate', 'wal-delete-last', 'wal-zero-last'] as const).filter((f) => this.drawPending(f));
    if (ends.length > 0) {
      // At most one: they all damage the same segment.
      const kind: EndDamageFault = ends[this.faultRandom.int(ends.length)]!;
      endDamage.push(...injectLogEndDamage(w, this.ledger, kind, this.faultRandom, this.segmentBytes, resolveConfig(this.config).config.walPreallocate));
    }
    const records = w.disk.faultLog.records.slice(this.faultLogStart);
    this.damage = [...locateBitFlips(records, this.ledger, joinPath(w.dir, 'wal'), this.segmentBytes), ...endDamage];
  }

  /**
   * Restart from the durable image on a healthy disk, recover, and let the oracle judge the
   * incarnation that crashed (crashing first if the machine is up). Violations are kept in
   * `violations`; returns the check. If recovery refused the directory the harness has ended.
   */
  async recover(): Promise<CrashCheckResult | undefined> {
    if (this.ended) return undefined;
    if (!this.down) this.crash();
    const crashed = this.world;
    const config = this.drawPending('config-change') ? changedConfig(this.config, this.segmentBytes) : this.config;
    let world = crashed.restart({ faults: {} });
    // What `motsim inspect` says of the crashed directory, to compare with what recovery does.
    const inspected = await settle(world, inspectDataDir(world.disk, world.dir, { config: resolveConfig(config).config, clock: world.clock }));
    let opened: Settled<Engine>;
    let recoveryCrashed = false;
    if (this.drawPending('crash-in-recovery')) {
      // A second power cut at one of recovery's own disk operations, then recovery runs again.
      const at = world.disk.operationCount + this.faultRandom.int(CRASH_OPERATION_WINDOW);
      let hit = false;
      const w = world;
      const unsubscribe = w.disk.onOperation((op) => {
        if (!hit && op.index === at) {
          hit = true;
          w.crash(undefined);
        }
      });
      opened = await settle(w, this.open_(w, config), () => hit);
      unsubscribe();
      if (hit) {
        recoveryCrashed = true;
        if (opened.value) void opened.value.abandon();
        world = w.restart({ faults: {} });
        opened = await settle(world, this.open_(world, config));
      }
    } else {
      opened = await settle(world, this.open_(world, config));
    }
    this.pending.clear();
    this.diskFaults = {};
    if (opened.hung) {
      this.note('simulation-hang', `recovery made no progress in virtual time (${world.scheduler.pendingWaits().join('; ') || 'no events left'})`);
      this.ended = true;
      return undefined;
    }
    if (!recoveryCrashed) this.checkInspect(inspected, opened);
    const outcome = opened.error !== undefined ? { ok: false as const, error: opened.error } : { ok: true as const, state: readEngineState(opened.value!), replayedFromLsn: opened.value!.recovery.checkpoint?.lsn ?? 0 };
    const check = checkCrash({
      mode: this.mode,
      ledger: this.ledger,
      epoch: crashed.epoch,
      base: this.base,
      recovery: outcome,
      damage: this.damage,
      crashAtUs: this.crashAtUs,
      walWriterDelayUs: this.walWriterDelayUs,
    });
    this.checks.push(check);
    for (const v of check.violations) this.violations.push({ ...v, epoch: crashed.epoch, crashAtUs: this.crashAtUs });
    this.damage = [];
    if (!outcome.ok) {
      this.ended = true;
      return check;
    }
    const engine = opened.value!;
    this.ledger.startEpoch(world.epoch, engine.recovery.wal.end.endLsn);
    this.world = world;
    this.engine = engine;
    this.base = outcome.state;
    this.faultLogStart = world.disk.faultLog.records.length;
    this.runner = this.attach(engine);
    this.down = false;
    return check;
  }

  /** Let commits in flight finish (settleUs of virtual time), then crash, recover and check; stops the engine. */
  async finish(settleUs = 20_000): Promise<readonly HarnessViolation[]> {
    if (!this.down) await this.advance(settleUs);
    await this.recover();
    if (!this.ended) void this.engine.abandon();
    this.ended = true;
    return this.violations;
  }

  /** Throws CrashRecoveryViolation if the oracle found anything so far. */
  assertNoViolations(): void {
    if (this.violations.length > 0) throw new CrashRecoveryViolation(this.violations);
  }

  /** Commit latencies (acknowledged writing transactions, virtual µs from commit() to the answer), in order. */
  commitLatenciesUs(): number[] {
    return this.ledger.entries
      .filter((e) => !e.readOnly && e.ddl === undefined && e.ackAtUs !== undefined && e.commitCalledAtUs !== undefined)
      .map((e) => e.ackAtUs! - e.commitCalledAtUs!);
  }

  // ---- internals ----

  private sessionIndex(s: number): number {
    if (!(Number.isInteger(s) && s >= 0)) throw Errors.invalidArgument('session', `${s} is not a session number (an integer >= 0)`);
    return s % this.sessionCount;
  }

  private attach(engine: Engine): WorkloadRunner {
    const world = this.world;
    this.sessions = Array.from({ length: this.sessionCount }, (_, core) => engine.openSession({ core }));
    this.faultLogStart = world.disk.faultLog.records.length;
    return new WorkloadRunner(this.ledger, this.sessions, world.clock, world.random, { engine, busy: (us) => world.scheduler.busyUs(us) });
  }

  private open_(world: SimWorld, config: ConfigInput): Promise<Engine> {
    return Engine.open(world.dir, world.engineOptions({ config, observer: this.ledger.observer() }));
  }

  /** Whether a pending fault applies now (drawn once, with its probability). */
  private drawPending(fault: FaultName): boolean {
    const p = this.pending.get(fault);
    return p !== undefined && this.faultRandom.chance(p);
  }

  /** Record a finding of the harness itself (a hang, inspect disagreeing with recovery). */
  note(kind: Violation['kind'], message: string): void {
    this.violations.push({ kind, message, entries: [], epoch: this.world.epoch, crashAtUs: this.world.scheduler.nowUs });
  }

  /** `motsim inspect` must refuse a directory exactly when recovery does, with recovery's own error. */
  private checkInspect(inspected: Settled<{ recovery: { error?: string } }>, opened: Settled<Engine>): void {
    if (inspected.error !== undefined || inspected.hung) {
      this.note('inspect-disagrees-with-recovery', `inspect failed on the crashed directory: ${describe(inspected.error ?? 'hang')}`);
      return;
    }
    const refusal = inspected.value!.recovery.error;
    const recoveryError = opened.error === undefined ? undefined : isMotError(opened.error) ? opened.error.message : String(opened.error);
    if (recoveryError === undefined && refusal !== undefined) {
      this.note('inspect-disagrees-with-recovery', `inspect says recovery would refuse the directory (${refusal}), but recovery accepted it`);
    } else if (recoveryError !== undefined && !(refusal ?? '').includes(recoveryError)) {
      this.note('inspect-disagrees-with-recovery', `recovery refused the directory (${recoveryError}), inspect said ${refusal === undefined ? 'it was fine' : `otherwise: ${refusal}`}`);
    }
  }
}

/** 'config-change': reopen with another segment size and preallocation than the directory was made with (its own settings must win). */
function changedConfig(config: ConfigInput, segmentBytes: number): ConfigInput {
  return { ...config, wal_segment_size: segmentBytes === 1024 * 1024 ? '2MB' : '1MB', wal_preallocate: resolveConfig(config).config.walPreallocate !== true };
}

interface Settled<T> {
  value?: T;
  error?: unknown;
  hung: boolean;
}

/** Run `world` until `promise` settles (or `stop()`); a world that runs dry first is a hang. */
async function settle<T>(world: SimWorld, promise: Promise<T>, stop: () => boolean = () => false): Promise<Settled<T>> {
  const out: Settled<T> & { settled: boolean } = { settled: false, hung: false };
  promise.then(
    (v) => Object.assign(out, { settled: true, value: v }),
    (e: unknown) => Object.assign(out, { settled: true, error: e }),
  );
  const r = await world.scheduler.run({ until: () => out.settled || stop(), maxEvents: EVENTS_PER_RUN_MAX });
  out.hung = !out.settled && !stop() && (r.status === 'pending' || r.status === 'idle' || r.status === 'event-limit');
  return out;
}

function describe(e: unknown): string {
  if (isMotError(e)) return e.toLine();
  if (e instanceof SimHangError) return e.message;
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

