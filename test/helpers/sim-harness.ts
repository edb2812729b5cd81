// One engine in a simulated machine with the crash checker's ledger, for the tests that drive crashes
// by hand (sim-crash, durability): open, commit through a recording runner, crash, recover, check.

import { Engine } from '../../src/engine.js';
import type { Session } from '../../src/transaction/session.js';
import { resolveConfig } from '../../src/config/config.js';
import { SimWorld } from '../../src/sim/world.js';
import { Ledger, type RowValue } from '../../src/sim/ledger.js';
import { ModelDb } from '../../src/sim/model.js';
import { checkedRows, readEngineState } from '../../src/sim/engine-state.js';
import { checkCrash, type CrashCheckResult, type Damage, type RecoveryOutcome } from '../../src/sim/checker.js';
import { CHECKED_TABLE, WorkloadRunner } from '../../src/sim/workload.js';
import type { CrashTestMode } from '../../src/sim/crash-test.js';
import type { CrashModel } from '../../src/sim/faults.js';
import { formatEntryData } from '../../src/sim/entry-data.js';

export type Config = Record<string, string | number | boolean>;

/** wal_segment_size of modeConfig. */
export const SEGMENT_BYTES = 1024 * 1024;

/** Small, fast settings for `mode`: groups of 4 or 300 µs, a 1 ms async flush, 1 MB segments. */
export function modeConfig(mode: CrashTestMode, extra: Config = {}): Config {
  return {
    synchronous_commit: mode !== 'asynchronous',
    enable_group_commit: mode === 'group',
    group_commit_size: 4,
    group_commit_timeout: '300us',
    wal_writer_delay: '1ms',
    wal_segment_size: '1MB',
    redo_buffer_size: '64KB',
    ...extra,
  };
}

export interface Harness {
  world: SimWorld;
  engine: Engine;
  ledger: Ledger;
  runner: WorkloadRunner;
  sessions: Session[];
  config: Config;
  /** The model state the current incarnation started from (what the last recovery found). */
  base: ModelDb;
  /** Whether the runner's transactions spend simulated CPU (busy time of their thread). */
  busy: boolean;
}

export interface HarnessOptions {
  crashModel?: CrashModel;
  /** Transactions' CPU is busy time of the simulated thread (default false: CPU is free). */
  busy?: boolean;
}

/** A fresh world with an engine in `mode`, the checked table created (and recorded), four sessions. */
export async function harness(mode: CrashTestMode, seed: number, extra: Config = {}, options: HarnessOptions = {}): Promise<Harness> {
  const world = SimWorld.create({ seed, machine: { crashModel: options.crashModel ?? 'lose-unflushed' } });
  const ledger = new Ledger();
  const config = modeConfig(mode, extra);
  const engine = await world.run('open', Engine.open(world.dir, world.engineOptions({ config, observer: ledger.observer() })));
  ledger.walSegmentBytes = resolveConfig(config).config.walSegmentBytes;
  // The checked table's creation is in the ledger (a recorded DDL): end damage may take it away too.
  ledger.startEpoch(0, 0);
  await world.run('create table', new WorkloadRunner(ledger, [], world.clock, world.random, { engine }).createTable(CHECKED_TABLE).then(() => engine.flush()));
  const sessions = [0, 1, 2, 3].map((core) => engine.openSession({ core }));
  const busy = options.busy ?? false;
  return { world, engine, ledger, runner: runnerOf(world, ledger, sessions, engine, busy), sessions, config, base: ModelDb.empty(), busy };
}

/** A recording workload runner; with `busy`, its transactions' CPU is busy time of the simulated thread. */
export function runnerOf(world: SimWorld, ledger: Ledger, sessions: Session[], engine: Engine, busy: boolean): WorkloadRunner {
  return new WorkloadRunner(ledger, sessions, world.clock, world.random, busy ? { engine, busy: (us) => world.scheduler.busyUs(us) } : { engine });
}

export function rowsOf(engine: Engine): Map<number, RowValue> {
  return checkedRows(readEngineState(engine));
}

/** The checked table's rows of a successful recovery (empty if it failed). */
export function recoveredRows(outcome: RecoveryOutcome): Map<number, RowValue> {
  return outcome.ok ? checkedRows(outcome.state) : new Map();
}

/**
 * Restart `h.world` from its durable image (after a crash, or crashing now if it has not), recover
 * with the same configuration and check what the mode promised, the asynchronous loss bound
 * included. The new engine (if any) replaces h's.
 */
export async function recoverAndCheck(h: Harness, mode: CrashTestMode, damage: Damage[] = []): Promise<{ check: CrashCheckResult; outcome: RecoveryOutcome }> {
  const crashedEpoch = h.world.epoch;
  h.ledger.crashed(h.world.scheduler.nowUs); // a no-op when the crash already said so
  const world = h.world.restart({ faults: {} });
  const crashAtUs = h.ledger.crashedAt;
  let outcome: RecoveryOutcome;
  try {
    const engine = await world.run('recover', Engine.open(world.dir, world.engineOptions({ config: h.config, observer: h.ledger.observer() })));
    outcome = { ok: true, state: readEngineState(engine), replayedFromLsn: engine.recovery.checkpoint?.lsn ?? 0 };
    h.engine = engine;
    h.ledger.startEpoch(world.epoch, engine.recovery.wal.end.endLsn);
    if (!outcome.state.has(CHECKED_TABLE.name)) {
      // End damage no witness covered can take the table's creation with it (allowed, if the
      // checker agrees below): create it again, as a recorded DDL statement of the new incarnation.
      if (!damage.some((d) => d.firstLostLsn !== undefined)) throw new Error('the checked table is missing after recovery');
      await world.run('recreate the table', new WorkloadRunner(h.ledger, [], world.clock, world.random, { engine }).createTable(CHECKED_TABLE).then(() => engine.flush()));
    }
  } catch (e) {
    outcome = { ok: false, error: e };
  }
  const walWriterDelayUs = resolveConfig(h.config).config.walWriterDelayUs;
  const check = checkCrash({ mode, ledger: h.ledger, epoch: crashedEpoch, base: h.base, recovery: outcome, damage, crashAtUs, walWriterDelayUs });
  h.world = world;
  if (outcome.ok) h.base = outcome.state;
  return { check, outcome };
}

/** Crash `h.world` now, then recoverAndCheck. */
export async function crashRecoverCheck(h: Harness, mode: CrashTestMode): Promise<{ check: CrashCheckResult; outcome: RecoveryOutcome }> {
  h.world.crash(h.engine);
  return recoverAndCheck(h, mode);
}

/** One session commits `n` single-row transactions, one after the other. */
export async function commitSequentially(h: Harness, n: number, firstKey = 0): Promise<void> {
  for (let i = 0; i < n; i++) {
    await h.world.run(`commit ${i}`, h.runner.transaction(h.sessions[0]!, (tx) => tx.put(firstKey + i, 100)));
  }
}

export function violationsText(check: CrashCheckResult): string {
  return check.violations.map((v) => `${v.kind}: ${v.message}\n  ${v.entries.map(formatEntryData).join('\n  ')}`).join('\n');
}
