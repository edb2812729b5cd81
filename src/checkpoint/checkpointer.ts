// Runs checkpoints for an engine, one at a time, without stopping commits (CALC): PREPARE takes the
// consistency point C (highest CSN assigned) and L0 (WAL end) in one synchronous step; RESOLVE waits
// for the commits holding a CSN <= C to apply (new commits go on with CSNs > C); CAPTURE scans every
// table of C in key order, in batches, saving pre-images through the apply hook; COMPLETE writes the
// map, end marker and control file; then older checkpoints and WAL segments below L0 are removed.
// Also the triggers (checkpoint_interval, checkpoint_wal_size_max, armed only while there is new WAL)
// and the DDL guard (no DROP/TRUNCATE/CREATE INDEX/DROP INDEX while a checkpoint runs). An incremental checkpoint (mo_ctl
// increment_checkpoint) writes only what changed since the previous one (ChangeLog: removals and
// truncations) and extends the chain; a full one starts a new chain, and older chains go once mot.ctrl
// names it, except the chain a PITR retains (retainFromWallMs). See docs/architecture.md.

import type { Disk } from '../io/disk.js';
import type { Clock, Timer } from '../io/clock.js';
import { Errors, MotError, describeCause } from '../errors.js';
import type { Catalog } from '../catalog.js';
import type { EngineConfig } from '../config/config.js';
import type { SlotId, Table } from '../store/table.js';
import type { RedoLogHandler } from '../commit-group/redo-log-handler.js';
import type { WalWriter } from '../wal/wal-writer.js';
import { Capture, type TableCaptureCounts } from './capture.js';
import { CommitTracker } from './commit-tracker.js';
import type { CheckpointExecutor, ExecutorFactory } from './executor.js';
import { CheckpointWriter, nextCheckpointId, removeCheckpointsExcept, type WrittenTable } from './checkpoint-writer.js';
import { CHAIN_LENGTH_MAX, chainBaseOf, type CheckpointKind } from './checkpoint-format.js';
import { listCheckpoints, type CheckpointInfo } from './checkpoint-reader.js';
import type { ChangeLog } from './change-log.js';
import type { Value } from '../store/schema.js';

export type CheckpointTrigger = 'manual' | 'interval' | 'wal-size';

export interface CheckpointReport {
  checkpointId: number;
  trigger: CheckpointTrigger;
  /** What was written: an incremental request becomes 'full' when `note` says why. */
  kind: CheckpointKind;
  /** The chain's full checkpoint (= checkpointId for a full one). */
  baseId: number;
  /** Why an incremental request wrote a full checkpoint (no previous one, too many removals, chain too long). */
  note: string | undefined;
  /** Keys removed since the previous checkpoint, written as tombstones (incremental only). */
  tombstones: number;
  /** L0: recovery replays the WAL from here. */
  lsn: number;
  /** C: the consistency point; the checkpoint holds every commit with CSN <= C and no other. */
  csn: number;
  directory: string;
  tables: number;
  rows: number;
  segments: number;
  bytes: number;
  /** Rows written from a pre-image (changed or removed by a commit after C before the scan met them). */
  preImages: number;
  /** Commits with CSN <= C still waiting for their flush at PREPARE (RESOLVE waited for them). */
  commitsResolved: number;
  /** How long RESOLVE waited for them; commits with CSNs > C were never held back. */
  resolvePauseUs: number;
  captureUs: number;
  completeUs: number;
  cleanupUs: number;
  elapsedUs: number;
  checkpointsRemoved: number;
  walSegmentsRemoved: number;
  walBytesRemoved: number;
  /** Worker threads the checkpoint executor has started (kept for the engine's life; 0 inline): at most min(checkpoint_workers, cores, segments). */
  workerThreads: number;
}

export interface CheckpointStats {
  checkpoints: number;
  failures: number;
  running: boolean;
  lastCheckpointId: number;
  lastLsn: number;
  lastCsn: number;
  lastElapsedUs: number;
  resolvePauseUsLast: number;
  resolvePauseUsMax: number;
  /** WAL written since the last checkpoint's L0 (the checkpoint_wal_size_max trigger). */
  walBytesSinceCheckpoint: number;
  automatic: number;
  lastError: string | undefined;
}

/** Knobs for tests and benchmarks; defaults suit the real disk. */
export interface CheckpointTuning {
  /** Overrides checkpoint_segsize (which is at least 16 MB), e.g. to get many segments in a test. */
  segmentBytesMax?: number;
  /** Rows the capture scan reads between two pauses (default 4096: about 2-4 ms here). */
  captureBatchRows?: number;
  /**
   * The most of the main thread's time the capture scan may take while commits are running (0 < d
   * <= 1; default 0.05): after a batch that took t µs, if any commit reached the log since the last
   * batch, it sleeps t * (1 - d) / d on the injected clock, so commits keep the rest (PostgreSQL
   * spreads its checkpoints likewise). An idle engine is scanned at full speed. 1 = no pacing. In the
   * simulator a batch takes no virtual time, so it never sleeps there.
   */
  captureDutyMax?: number;
  /**
   * Removals an incremental checkpoint may have to write as tombstones (default
   * CHANGE_LOG_ENTRIES_MAX_DEFAULT, 1,000,000): past it the record is dropped and the next
   * increment_checkpoint writes a full checkpoint (its report's `note` says so).
   */
  incrementRemovalsMax?: number;
}

export const CAPTURE_BATCH_ROWS_DEFAULT = 4096;
export const CAPTURE_DUTY_MAX_DEFAULT = 0.05;

export interface CheckpointerDeps {
  disk: Disk;
  clock: Clock;
  catalog: Catalog;
  config: EngineConfig;
  checkpointDir: string;
  executorFactory: ExecutorFactory;
  tuning: CheckpointTuning;
  /** Highest CSN / transaction id assigned so far. */
  currentCsn(): number;
  currentTxId(): number;
  /** The WAL writer (undefined with enable_redo_log = false). */
  wal(): WalWriter | undefined;
  /** Why the engine refuses writes (WAL failure, closing), if it does. */
  writeRefusal(): MotError | undefined;
  /** The last checkpoint found at recovery (0s for none), its chain (full one first) and where the recovered WAL ends. */
  recovered: { checkpointId: number; lsn: number; csn: number; walEndLsn: number; chain: number[] };
  /** Removals and truncations since the last checkpoint (fed by the apply hook and WAL replay). */
  changeLog: ChangeLog;
  /**
   * The oldest moment (wall ms) a PITR may restore to, or undefined without PITRs: the newest
   * checkpoint taken at or before it, its chain and the WAL from its LSN are kept.
   */
  retainFromWallMs(): number | undefined;
}

/** The engine-side hook Transaction.apply calls (src/transaction/transaction-host.ts ApplyHook). */
export interface ApplyHook {
  beforeRowChange(table: Table, slot: SlotId, csn: number): void;
  rowRemoved(table: Table, key: Value | Value[], encodedKey: string | number | bigint, csn: number): void;
  applied(csn: number): void;
}

export class Checkpointer implements ApplyHook {
  private tracker: CommitTracker | undefined;
  private executor: CheckpointExecutor | undefined;
  private capture: Capture | undefined;
  private current: Promise<CheckpointReport> | undefined;
  private queued: Promise<CheckpointReport> | undefined;
  private readonly createdCsn = new WeakMap<Table, number>();
  private intervalTimer: Timer | undefined;
  /** No new checkpoints (closing). */
  private closed = false;
  /** A running checkpoint must give up too (abandon: a simulated crash). */
  private stopped = false;
  private lastId: number;
  private lastLsn: number;
  private lastCsn: number;
  private lastAtUs: number;
  /** The current chain, full checkpoint first (empty before the first checkpoint). */
  private chain: number[];
  private readonly s = { checkpoints: 0, failures: 0, automatic: 0, lastElapsedUs: 0, resolvePauseUsLast: 0, resolvePauseUsMax: 0, lastError: undefined as string | undefined };
  private readonly segmentBytesMax: number;
  private readonly batchRows: number;
  private readonly dutyMax: number;
  /** Commits that reached the log (pacing: is anyone committing?). */
  private commitsLogged = 0;

  constructor(private readonly deps: CheckpointerDeps) {
    this.lastId = deps.recovered.checkpointId;
    this.lastLsn = deps.recovered.lsn;
    this.lastCsn = deps.recovered.csn;
    this.chain = [...deps.recovered.chain];
    this.lastAtUs = deps.clock.nowUs();
    this.segmentBytesMax = deps.tuning.segmentBytesMax ?? deps.config.checkpointSegmentBytes;
    this.batchRows = deps.tuning.captureBatchRows ?? CAPTURE_BATCH_ROWS_DEFAULT;
    if (!Number.isInteger(this.batchRows) || this.batchRows < 1) {
      throw Errors.invalidArgument('checkpoint capture batch', `${this.batchRows} rows; must be an integer >= 1`);
    }
    this.dutyMax = deps.tuning.captureDutyMax ?? CAPTURE_DUTY_MAX_DEFAULT;
    if (!(this.dutyMax > 0 && this.dutyMax <= 1)) throw Errors.invalidArgument('checkpoint capture duty', `${this.dutyMax}; must be in (0, 1]`);
  }

  /** Wrap the redo log handler so commits waiting for their flush are known by CSN (RESOLVE). */
  wrap(handler: RedoLogHandler): RedoLogHandler {
    this.tracker = new CommitTracker(handler, this.deps.currentCsn, () => this.afterCommit());
    return this.tracker;
  }

  // ---- ApplyHook ----

  beforeRowChange(table: Table, slot: SlotId, csn: number): void {
    const c = this.capture;
    if (c !== undefined) c.beforeRowChange(table, slot, csn);
  }

  applied(csn: number): void {
    this.tracker?.applied(csn);
  }

  rowRemoved(table: Table, key: Value | Value[], encodedKey: string | number | bigint, csn: number): void {
    this.deps.changeLog.rowRemoved(table, key, encodedKey, csn);
  }

  /** TRUNCATE applied: the next increment writes the whole table. */
  tableTruncated(table: Table, csn: number): void {
    this.deps.changeLog.tableReplaced(table, csn);
  }

  /** CREATE TABLE applied: a table created after a checkpoint's C is not part of it. */
  tableCreated(table: Table, csn: number): void {
    this.createdCsn.set(table, csn);
  }

  /**
   * CREATE INDEX / DROP INDEX applied: the table's definition changed, so the next increment writes it
   * whole (recovery recreates a table whose definition differs from the chain's).
   */
  tableRedefined(table: Table, csn: number): void {
    this.deps.changeLog.tableReplaced(table, csn);
  }

  /**
   * DROP TABLE / TRUNCATE are refused while a checkpoint runs (MOT's rule), and so are CREATE and
   * DROP INDEX (`what`): the checkpoint's tables.meta must hold each table's definition as of its C.
   */
  refuseDdlDuringCheckpoint(tableName: string, what?: string): void {
    if (this.current === undefined) return;
    throw what === undefined ? Errors.checkpointInProgressTruncate(tableName) : Errors.checkpointInProgressDdl(tableName, what);
  }

  // ---- running ----

  /**
   * Take a checkpoint. A manual request while one runs waits for it and takes a new one (which covers
   * every commit acknowledged before the request); an automatic one is satisfied by the running one.
   */
  checkpoint(trigger: CheckpointTrigger = 'manual', kind: CheckpointKind = 'full'): Promise<CheckpointReport> {
    if (this.closed) return Promise.reject(Errors.invalidState('the engine is closed: no checkpoint'));
    if (this.current === undefined) return this.start(trigger, kind);
    // An increment waits for the running checkpoint, then chains to it.
    if (kind === 'incremental') return this.current.then(noop, noop).then(() => this.checkpoint(trigger, kind));
    if (trigger !== 'manual') return this.current;
    this.queued ??= this.current.then(noop, noop).then(() => {
      this.queued = undefined;
      return this.checkpoint('manual');
    });
    return this.queued;
  }

  private start(trigger: CheckpointTrigger, kind: CheckpointKind): Promise<CheckpointReport> {
    const run = this.run(trigger, kind);
    this.current = run;
    const clear = (): void => {
      if (this.current === run) this.current = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  /** An incremental request becomes full, and why, or undefined when it can be incremental. */
  private fullInstead(): string | undefined {
    if (this.lastId === 0 || this.chain.length === 0) return 'no previous checkpoint to chain to: a full checkpoint starts the chain';
    const log = this.deps.changeLog;
    if (log.overflowed) return `${log.overflowReason}: written as a full checkpoint`;
    if (this.chain.length >= CHAIN_LENGTH_MAX) return `the chain holds ${this.chain.length} checkpoints (at most ${CHAIN_LENGTH_MAX}): a full checkpoint starts a new one`;
    return undefined;
  }

  private async run(trigger: CheckpointTrigger, requested: CheckpointKind): Promise<CheckpointReport> {
    const refused = this.deps.writeRefusal();
    if (refused) throw refused;
    const { clock, catalog } = this.deps;
    this.checkStopped();
    // PREPARE: one synchronous step. Every frame placed before L0 holds only CSNs <= C. Asynchronous
    // mode holds acknowledged commits not yet placed: they are placed now, below L0, and the WAL is
    // made durable up to L0 before the checkpoint completes (the write-ahead rule), or the checkpoint
    // could hold a commit whose redo never reaches the log (crash-test --mode asynchronous
    // --checkpoint-every-us 400, seeds 1036, 1045, 1050, 1135).
    this.tracker!.placeBuffered();
    const note = requested === 'incremental' ? this.fullInstead() : undefined;
    const kind: CheckpointKind = requested === 'incremental' && note === undefined ? 'incremental' : 'full';
    const t0 = clock.nowUs();
    const csn = this.deps.currentCsn();
    const wallMs = clock.wallMs();
    const wal = this.deps.wal();
    const lsn = wal !== undefined ? wal.endLsn : Math.max(this.lastLsn, this.deps.recovered.walEndLsn);
    const prevCsn = kind === 'incremental' ? this.lastCsn : 0;
    // A full checkpoint covers every removal up to C: record afresh (a failure marks the log overflowed).
    if (kind === 'full') this.deps.changeLog.restart();
    // Incremental: a table created, truncated or redefined (CREATE/DROP INDEX) since the previous
    // checkpoint is written whole; recovery replaces it instead of merging.
    const changeLog = this.deps.changeLog;
    const replaceAll = (t: Table): boolean => kind === 'incremental' && ((this.createdCsn.get(t) ?? 0) > prevCsn || changeLog.replacedIn(t, prevCsn, csn));
    const capture = new Capture(csn, catalog.tables(), prevCsn, replaceAll);
    this.capture = capture;
    try {
      // RESOLVE: commits holding a CSN <= C apply (or fail) before the scan starts.
      const commitsResolved = await this.tracker!.waitForCommitting();
      const tResolved = clock.nowUs();
      const tables = catalog.tables().filter((t) => (this.createdCsn.get(t) ?? 0) <= csn);
      capture.retain(tables);
      const report = await this.write(trigger, { kind, csn, lsn, wallMs, prevCsn }, tables, capture, replaceAll);
      report.note = note;
      report.commitsResolved = commitsResolved;
      report.resolvePauseUs = tResolved - t0;
      report.elapsedUs = clock.nowUs() - t0;
      this.s.checkpoints++;
      if (trigger !== 'manual') this.s.automatic++;
      this.s.lastElapsedUs = report.elapsedUs;
      this.s.resolvePauseUsLast = report.resolvePauseUs;
      this.s.resolvePauseUsMax = Math.max(this.s.resolvePauseUsMax, report.resolvePauseUs);
      return report;
    } catch (e) {
      this.s.failures++;
      this.s.lastError = describeCause(e);
      if (kind === 'full') this.deps.changeLog.overflow(`the full checkpoint after CSN ${this.lastCsn} failed`);
      throw e;
    } finally {
      this.capture = undefined;
    }
  }

  /** CAPTURE, COMPLETE, cleanup. */
  private async write(
    trigger: CheckpointTrigger,
    point: { kind: CheckpointKind; csn: number; lsn: number; wallMs: number; prevCsn: number },
    tables: Table[],
    capture: Capture,
    replaceAll: (t: Table) => boolean,
  ): Promise<CheckpointReport> {
    const { disk, clock, config, checkpointDir, changeLog } = this.deps;
    const { kind, csn, lsn, prevCsn } = point;
    const incremental = kind === 'incremental';
    const baseId = incremental ? this.chain[0]! : 0;
    const prevId = this.lastId;
    const t0 = clock.nowUs();
    const id = await nextCheckpointId(disk, checkpointDir, this.lastId);
    // Kept for the engine's life: starting worker threads costs tens of ms of CPU, which commits would feel.
    const executor = (this.executor ??= this.deps.executorFactory(config.checkpointWorkers));
    const writer = new CheckpointWriter(disk, checkpointDir, id, executor, this.segmentBytesMax, Math.min(config.checkpointWorkers, executor.parallelism));
    const counts: TableCaptureCounts = { rowsEmitted: 0, rowsScanned: 0, preImagesSaved: 0 };
    const written: (WrittenTable & { tombstones?: number })[] = [];
    let tombstones = 0;
    let tCaptured: number;
    try {
      await writer.begin({
        checkpointId: id,
        csn,
        tables: tables.map((t) => ({ id: t.id, def: t.schema.def, rowBytes: t.schema.rowBytes, ...(replaceAll(t) ? { replaceAll: true } : {}) })),
      });
      for (const table of tables) {
        let removedKeys = 0;
        if (incremental && !replaceAll(table)) {
          const keys = changeLog.removedIn(table, prevCsn, csn);
          if (keys.length > 0) await writer.tombstones({ checkpointId: id, tableId: table.id, keys });
          removedKeys = keys.length;
          tombstones += removedKeys;
        }
        const sink = writer.table(table, table.rowCount());
        const scan = table.scan()[Symbol.iterator]();
        // Bounded: the scan moves forward in key order; each step reads batchRows rows.
        let commitsSeen = this.commitsLogged;
        for (let batchStartUs = clock.nowUs(); capture.step(table, scan, this.batchRows, sink, counts); batchStartUs = clock.nowUs()) {
          this.checkStopped();
          if (sink.full) sink.flush();
          const spentUs = clock.nowUs() - batchStartUs;
          const busy = this.commitsLogged !== commitsSeen;
          commitsSeen = this.commitsLogged;
          await writer.room();
          if (busy && spentUs > 0 && this.dutyMax < 1) await clock.sleepUs((spentUs * (1 - this.dutyMax)) / this.dutyMax);
          else await executor.pause();
        }
        written.push(removedKeys > 0 ? { ...sink.end(), tombstones: removedKeys } : sink.end());
        await writer.room();
      }
      this.capture = undefined; // every table is done: the hook has nothing left to save
      tCaptured = clock.nowUs();
      const rows = written.reduce((n, t) => n + t.rows, 0);
      const segments = written.reduce((n, t) => n + t.segments, 0);
      const chainInfo = incremental ? { baseId, prevId, prevCsn, tombstones } : {};
      await writer.complete(
        { checkpointId: id, tables: written },
        { checkpointId: id, lsn, csn, tables: tables.length, segments, rows, kind, wallMs: point.wallMs, ...chainInfo },
      );
      this.checkStopped();
      // A WAL that failed (EIO) after PREPARE may have a hole below L0: publishing would make recovery
      // skip it and replay frames the engine refused (crash-test --mode synchronous --seed 9000380
      // --faults all --checkpoint-every-us 500). The engine is read-only until reopened anyway.
      const walFailed = this.deps.wal()?.failed;
      if (walFailed) throw walFailed;
      // The write-ahead rule: nothing the checkpoint holds may be missing from a durable log. Sync and
      // group commits with CSN <= C are durable already (RESOLVE waited for them); asynchronous ones
      // placed at PREPARE may still be in flight.
      await this.deps.wal()?.whenDurable(lsn);
      this.checkStopped();
      await writer.publish({
        checkpointId: id,
        checkpointLsn: lsn,
        checkpointCsn: csn,
        lastReplayLsn: this.deps.wal()?.durableLsn ?? lsn,
        maxTxId: this.deps.currentTxId(),
        chainBaseId: incremental ? baseId : id,
      });
    } finally {
      // A failed write may leave seals in flight: wait for them before the next checkpoint reuses buffers.
      await writer.drain().catch(noop);
    }
    this.lastId = id;
    this.lastLsn = lsn;
    this.lastCsn = csn;
    this.lastAtUs = t0;
    this.chain = incremental ? [...this.chain, id] : [id];
    changeLog.checkpointed(csn);
    const tComplete = clock.nowUs();
    this.checkStopped();
    const { checkpointsRemoved, removed } = await this.cleanup(lsn);
    const tEnd = clock.nowUs();
    return {
      checkpointId: id,
      trigger,
      kind,
      baseId: this.chain[0]!,
      note: undefined,
      tombstones,
      lsn,
      csn,
      directory: writer.dir,
      tables: tables.length,
      rows: counts.rowsEmitted,
      segments: writer.segments,
      bytes: writer.bytes,
      preImages: counts.preImagesSaved,
      commitsResolved: 0,
      resolvePauseUs: 0,
      captureUs: tCaptured - t0,
      completeUs: tComplete - tCaptured,
      cleanupUs: tEnd - tComplete,
      elapsedUs: 0,
      checkpointsRemoved,
      walSegmentsRemoved: removed.segments,
      walBytesRemoved: removed.bytes,
      workerThreads: executor.threadsStarted,
    };
  }

  /**
   * After mot.ctrl names the new checkpoint: remove the directories of other chains, except the chain
   * of the newest checkpoint taken at or before the oldest moment a PITR retains; remove WAL segments
   * below the LSN the retained (or the new) checkpoint starts replay at. With a PITR and no checkpoint
   * old enough, no WAL is removed (a restore then replays from the first segment).
   */
  private async cleanup(lsn: number): Promise<{ checkpointsRemoved: number; removed: { segments: number; bytes: number } }> {
    const { disk, checkpointDir } = this.deps;
    const keep = new Set(this.chain);
    let walKeepFromLsn: number | undefined = lsn;
    const retainMs = this.deps.retainFromWallMs();
    if (retainMs !== undefined) {
      const retained = retainedCheckpoint(await listCheckpoints(disk, checkpointDir), retainMs);
      if (retained === undefined) walKeepFromLsn = undefined;
      else {
        for (const c of retained.chain) keep.add(c);
        walKeepFromLsn = Math.min(lsn, retained.lsn);
      }
    }
    const checkpointsRemoved = await removeCheckpointsExcept(disk, checkpointDir, keep);
    const wal = this.deps.wal();
    const removed = wal !== undefined && !this.stopped && walKeepFromLsn !== undefined ? await wal.removeSegmentsBelow(walKeepFromLsn) : { segments: 0, bytes: 0 };
    return { checkpointsRemoved, removed };
  }

  /** The current chain, full checkpoint first. */
  get currentChain(): readonly number[] {
    return this.chain;
  }

  private checkStopped(): void {
    if (this.stopped) throw Errors.invalidState('the engine stopped during the checkpoint; it was abandoned');
  }

  // ---- triggers ----

  /** After each commit reaches the log: the WAL-size trigger, and arming the interval trigger. */
  private afterCommit(): void {
    this.commitsLogged++;
    if (this.closed) return;
    const config = this.deps.config;
    if (config.checkpointWalBytesMax > 0 && this.current === undefined) {
      const wal = this.deps.wal();
      if (wal !== undefined && wal.endLsn - this.lastLsn >= config.checkpointWalBytesMax) this.automatic('wal-size');
    }
    if (config.checkpointIntervalUs > 0 && this.intervalTimer === undefined) {
      // Armed only once there is something new, so an idle engine keeps no timer.
      const delayUs = Math.max(0, this.lastAtUs + config.checkpointIntervalUs - this.deps.clock.nowUs());
      this.intervalTimer = this.deps.clock.setTimer(delayUs, () => {
        this.intervalTimer = undefined;
        this.automatic('interval');
      });
    }
  }

  private automatic(trigger: CheckpointTrigger): void {
    if (this.closed || this.current !== undefined) return;
    // Failures are counted and kept in stats (lastError); nobody waits on an automatic checkpoint.
    this.checkpoint(trigger).catch(noop);
  }

  stats(): CheckpointStats {
    const wal = this.deps.wal();
    return {
      checkpoints: this.s.checkpoints,
      failures: this.s.failures,
      running: this.current !== undefined,
      lastCheckpointId: this.lastId,
      lastLsn: this.lastLsn,
      lastCsn: this.lastCsn,
      lastElapsedUs: this.s.lastElapsedUs,
      resolvePauseUsLast: this.s.resolvePauseUsLast,
      resolvePauseUsMax: this.s.resolvePauseUsMax,
      walBytesSinceCheckpoint: wal !== undefined ? Math.max(0, wal.endLsn - this.lastLsn) : 0,
      automatic: this.s.automatic,
      lastError: this.s.lastError,
    };
  }

  /** Refuse new checkpoints, stop the triggers and let a running checkpoint finish (close). */
  async close(): Promise<void> {
    this.closed = true;
    this.intervalTimer?.cancel();
    this.intervalTimer = undefined;
    for (const p of [this.current, this.queued]) await p?.catch(noop);
    await this.executor?.close();
    this.executor = undefined;
  }

  /** Stop at once (a simulated crash): a running checkpoint gives up at its next step. */
  abandon(): void {
    this.closed = true;
    this.stopped = true;
    this.intervalTimer?.cancel();
    this.intervalTimer = undefined;
    const running = this.current;
    const executor = this.executor;
    this.executor = undefined;
    // The threads go once the abandoned checkpoint has given up.
    if (executor !== undefined) void (running ?? Promise.resolve()).catch(noop).then(() => executor.close());
  }
}

/**
 * The newest complete checkpoint taken at or before `wallMs` whose whole chain is present: its id,
 * chain (full one first) and LSN. Checkpoints without a recorded wall time are never chosen.
 */
export function retainedCheckpoint(all: readonly CheckpointInfo[], wallMs: number): { id: number; chain: number[]; lsn: number; csn: number } | undefined {
  const byId = new Map(all.map((c) => [c.id, c]));
  for (const c of [...all].sort((a, b) => b.id - a.id)) {
    if (c.end.wallMs === undefined || c.end.wallMs > wallMs) continue;
    const chain = chainIds(byId, c);
    if (chain !== undefined) return { id: c.id, chain, lsn: c.end.lsn, csn: c.end.csn };
  }
  return undefined;
}

/** Ids of the chain ending at `head`, full checkpoint first, or undefined if a link is missing. */
function chainIds(byId: ReadonlyMap<number, CheckpointInfo>, head: CheckpointInfo): number[] | undefined {
  const out = [head.id];
  let c = head;
  // Bounded: each step moves to a smaller id, at most CHAIN_LENGTH_MAX steps.
  for (let n = 0; n < CHAIN_LENGTH_MAX && c.end.kind === 'incremental'; n++) {
    const prev = c.end.prevId === undefined || c.end.prevId >= c.id ? undefined : byId.get(c.end.prevId);
    if (prev === undefined) return undefined;
    out.unshift(prev.id);
    c = prev;
  }
  return c.end.kind === 'incremental' || chainBaseOf(head.end) !== c.id ? undefined : out;
}

function noop(): void {}
