// The engine: opens a data directory (recovering it), owns the tables, the sessions and the redo log,
// and closes cleanly. Everything outside comes in through EngineOptions (Disk, Clock, Random), so the
// same engine runs on the real disk and inside the deterministic simulator.

import os from 'node:os';
import type { Disk } from './io/disk.js';
import { joinPath, mkdirpDurable } from './io/disk.js';
import { DirectoryLockedError, lockFilePath, type DirectoryLock } from './io/directory-lock.js';
import { requireDirectory } from './io/require-directory.js';
import type { Clock } from './io/clock.js';
import { RealClock } from './io/clock.js';
import type { Random } from './io/random.js';
import { SeededRandom, freshSeed } from './io/random.js';
import { RealDisk } from './io/real-disk.js';
import {
  loadMotConf,
  effectiveFlusher,
  loggingMode,
  resolveConfig,
  type ConfigInput,
  type ConfigWarning,
  type EngineConfig,
  type ResolvedConfig,
  type LoggingMode,
} from './config/config.js';
import { Catalog } from './catalog.js';
import { ChunkPools } from './store/chunk-pool.js';
import { normalizeIndexDef, type IndexDef, type TableDef } from './store/schema.js';
import { checkName } from './names.js';
import type { Table } from './store/table.js';
import { LockTable } from './transaction/lock-table.js';
import { Session, type SessionHost } from './transaction/session.js';
import { chooseCore } from './transaction/affinity.js';
import { RedoEncoder } from './redo/redo-encoder.js';
import { RedoOp, type RedoOpCode } from './redo/redo-format.js';
import type { CommitObserver, LogStats, RedoLogHandler } from './commit-group/redo-log-handler.js';
import { createRedoLogHandler } from './commit-group/create-handler.js';
import { WalWriter } from './wal/wal-writer.js';
import type { WalReplayReport } from './recovery/wal-replay.js';
import { recoverDirectory, witnessPath } from './recovery/recover.js';
import { WitnessReason } from './wal/witness-format.js';
import { Checkpointer, type CheckpointReport, type CheckpointStats, type CheckpointTuning } from './checkpoint/checkpointer.js';
import { ChangeLog, CHANGE_LOG_ENTRIES_MAX_DEFAULT } from './checkpoint/change-log.js';
import { PitrCatalog } from './admin/pitr.js';
import type { CheckpointLoadReport } from './checkpoint/checkpoint-reader.js';
import { InlineExecutor, boundedParallelism, type ExecutorFactory, type ExecutorKind } from './checkpoint/executor.js';
import { ThreadExecutor } from './checkpoint/thread-executor.js';
import { Errors, MotError, isFileSystemError } from './errors.js';
import { AccountCatalog, bindLogin } from './admin/accounts.js';
import { StatsCollector, StatsReporter, teeObservers } from './admin/stats.js';
import { executeSql, type SqlResult } from './sql/executor.js';
import type { Transaction } from './transaction/transaction.js';
import { CommitPacer } from './transaction/commit-pacer.js';
import { applyDirectorySettings, readDirectorySettings, settingsOf, writeDirectorySettings, type DirectorySettings } from './config/directory-settings.js';
import { parseSegmentFileName } from './wal/wal-format.js';
import { CONTROL_FILE_NAME } from './checkpoint/checkpoint-format.js';

/** Least time between two automatic probes for disk space after the WAL ran out of it. */
export const DISK_FULL_PROBE_INTERVAL_US = 1_000_000;

/** What a DDL statement (createTable, dropTable, truncateTable, createIndex, dropIndex) did. */
export interface DdlResult {
  /** Its commit sequence number: its place in the serial order of all transactions. */
  csn: number;
}

/** engine.stats() fields kept by the engine itself (beside the log's and the checkpointer's). */
export interface EngineAdminStats {
  /** Transactions ended since open, read-only ones included; aborted counts conflicts, errors and rollbacks. */
  transactionsCommitted: number;
  transactionsAborted: number;
  /** The WAL ran out of disk space: writes are refused until retryAfterDiskFull() succeeds. */
  walFailedForSpace: boolean;
}

export interface EngineOptions {
  /**
   * Create the data directory (and its parents) if it does not exist (default true). With false, a
   * missing directory is refused (58P01), as every motsim command that works on an existing
   * directory does, so a mistyped path is not silently made into a new, empty database.
   */
  create?: boolean;
  /** Configuration by mot.conf / postgres.conf names (or EngineConfig field names). */
  config?: ConfigInput;
  /** A mot.conf file to read (its values are overridden by `config`). */
  confFile?: string;
  disk?: Disk;
  clock?: Clock;
  random?: Random;
  observer?: CommitObserver;
  /** Called for each configuration warning (default: print to stderr). */
  onWarning?: (w: ConfigWarning) => void;
  /** Where statistics reports go when enable_stats is on (default: stderr). */
  statsSink?: (report: string) => void;
  /**
   * Where checkpoint and recovery segment work runs: 'threads' (checkpoint_workers piscina workers)
   * or 'inline' (this thread). Default: threads on the real disk; inline on any other Disk (the
   * simulated disk lives in this thread, and the simulation must stay deterministic).
   */
  checkpointExecutor?: ExecutorKind;
  /**
   * Cores worker threads may use (default os.availableParallelism(), read once at open): with the
   * 'threads' executor, checkpoint_workers and checkpoint_recovery_workers start at most this many
   * threads (and never more than there are segments to seal or verify).
   */
  cpuCores?: number;
  /** Checkpoint knobs for tests and benchmarks (src/checkpoint/checkpointer.ts). */
  checkpointTuning?: CheckpointTuning;
}

/** Virtual time the capture scan lets pass between batches with the inline executor (simulation). */
const INLINE_PAUSE_US = 1;

export interface RecoveryReport {
  /** The checkpoint loaded, or undefined when there was no control file (empty start). */
  checkpoint: CheckpointLoadReport | undefined;
  /** WAL replay from the checkpoint's LSN (0 without one), skipping CSNs at or below its CSN. */
  wal: WalReplayReport;
  checkpointMs: number;
  walMs: number;
  elapsedMs: number;
}

export class Engine implements SessionHost {
  readonly locks = new LockTable();
  readonly redoEncoder: RedoEncoder;
  readonly commitPacer: CommitPacer;
  log!: RedoLogHandler;
  private wal: WalWriter | undefined;
  private readonly sessions = new Set<Session>();
  private sessionsOpened = 0;
  private csn = 0;
  private txId = 0;
  private closing: MotError | undefined;
  private recoveryReport: RecoveryReport | undefined;
  private readonly ownsDisk: boolean;
  /** Accounts, users and databases (src/admin/accounts.ts). */
  accounts!: AccountCatalog;
  /** Point-in-time recovery windows (src/admin/pitr.ts); they hold back checkpoint and WAL removal. */
  pitrs!: PitrCatalog;
  private statsCollector: StatsCollector | undefined;
  private statsReporter: StatsReporter | undefined;
  private readonly transactionsEnded = { committed: 0, aborted: 0 };
  private diskProbeAtUs = Number.NEGATIVE_INFINITY;
  /** Set when a logged transaction could not be applied in memory (a bug): writes are refused from then on. */
  private applyFailure: MotError | undefined;
  private checkpoints!: Checkpointer;
  /** The data directory's lock (motsim.pid), held from before recovery reads anything until close(). */
  private dirLock: DirectoryLock | undefined;
  /** Checkpoint capture and commit tracking, called by Transaction.apply. */
  applyHook!: Checkpointer;

  private constructor(
    readonly dir: string,
    readonly config: EngineConfig,
    readonly warnings: ConfigWarning[],
    readonly disk: Disk,
    readonly clock: Clock,
    readonly random: Random,
    readonly catalog: Catalog,
    ownsDisk: boolean,
  ) {
    this.redoEncoder = new RedoEncoder(config.redoBufferBytes);
    this.commitPacer = new CommitPacer(clock);
    this.ownsDisk = ownsDisk;
  }

  /**
   * Open (and recover) the engine in `dir`, creating the directory if needed unless `create` is
   * false. Takes the directory's lock first: a second opener, in this process or another, is
   * refused with 55006 naming the holder's pid while the first has not closed (or abandoned) it.
   */
  static async open(dir: string, options: EngineOptions = {}): Promise<Engine> {
    const given = await resolveOptions(options);
    const warn = options.onWarning ?? ((w: ConfigWarning) => process.stderr.write(`WARNING: ${w.message}\n`));
    const ownsDisk = options.disk === undefined;
    const disk = options.disk ?? new RealDisk({ lanes: given.config.sockets, flusher: effectiveFlusher(given.config) });
    // The directory's own settings win over the configuration for what its files depend on.
    let recorded: DirectorySettings | undefined;
    try {
      recorded = await readDirectorySettings(disk, dir);
    } catch (e) {
      if (ownsDisk) await disk.close();
      throw e;
    }
    const { config, warnings: directoryWarnings } = recorded === undefined ? { config: given.config, warnings: [] } : applyDirectorySettings(given.config, recorded, dir);
    const warnings = [...given.warnings, ...directoryWarnings];
    for (const w of warnings) warn(w);
    const clock = options.clock ?? new RealClock();
    const random = options.random ?? new SeededRandom(freshSeed());
    const pools = new ChunkPools({
      sockets: config.sockets,
      globalBytesMax: config.maxMotGlobalMemoryBytes,
      localBytesMax: config.maxMotLocalMemoryBytes,
    });
    const engine = new Engine(dir, config, warnings, disk, clock, random, new Catalog(pools), ownsDisk);
    try {
      await engine.start(
        options.create ?? true,
        options.observer,
        executorFactory(options, config, disk, clock),
        options.checkpointTuning ?? {},
        recorded !== undefined,
      );
    } catch (e) {
      await engine.dirLock?.release();
      if (ownsDisk) await disk.close();
      // A file system error nothing below turned into a MotError still names its file, and gets the
      // SQLSTATE of its errno rather than reaching the caller as a plain Error.
      if (!(e instanceof MotError) && isFileSystemError(e)) throw Errors.fileAccess(e.syscall ?? 'access', e.path ?? dir, e);
      throw e;
    }
    engine.startStats(options.statsSink);
    return engine;
  }

  private async start(
    create: boolean,
    observer: CommitObserver | undefined,
    executors: ExecutorFactory,
    tuning: CheckpointTuning,
    settingsRecorded: boolean,
  ): Promise<void> {
    const t0 = this.clock.nowUs();
    await openDirectory(this.disk, this.dir, create);
    this.dirLock = await lockDirectory(this.disk, this.dir);
    if (this.checkpointDir !== this.dir) await checkCheckpointDir(this.disk, this.checkpointDir);
    // A new directory records its settings before any file that depends on them exists; one made
    // before directory.json existed records the settings in force once recovery has read it with them.
    const legacy = !settingsRecorded && (await this.holdsData());
    if (!settingsRecorded && !legacy) await writeDirectorySettings(this.disk, this.dir, settingsOf(this.config), this.clock.wallMs());
    this.accounts = await AccountCatalog.load(this.disk, this.dir, this.clock);
    this.pitrs = await PitrCatalog.load(this.disk, this.dir, this.clock);
    // Dropped databases are remembered as long as a PITR window may reach back to them.
    this.accounts.historyRetainFromMs = () => this.pitrs.retainFromWallMs(this.clock.wallMs());
    const mode = loggingMode(this.config);
    if (this.config.enableStats) {
      this.statsCollector = new StatsCollector(mode, this.clock);
      observer = teeObservers(observer, this.statsCollector);
    }
    const walDir = this.walDir;
    const checkpointDir = this.checkpointDir;
    // Cold start: the checkpoint, then the WAL after its LSN, skipping what it already holds.
    // Removals replayed from the WAL happened after the checkpoint: the next increment needs them.
    const changeLog = new ChangeLog(tuning.incrementRemovalsMax ?? CHANGE_LOG_ENTRIES_MAX_DEFAULT);
    const recovered = await recoverDirectory(this.disk, this.catalog, this.clock, {
      dir: this.dir,
      checkpointDir,
      walDir,
      segmentBytes: this.config.walSegmentBytes,
      // A directory made before directory.json existed may hold a short preallocated segment.
      preallocated: this.config.walPreallocate && !legacy,
      sockets: this.config.sockets,
      recoveryWorkers: this.config.checkpointRecoveryWorkers,
      executorFactory: executors,
      repairTornTail: true,
      onRowRemoved: (t, key, encodedKey, csn) => changeLog.rowRemoved(t, key, encodedKey, csn),
      onTableTruncated: (t, csn) => changeLog.tableReplaced(t, csn),
      onTableRedefined: (t, csn) => changeLog.tableReplaced(t, csn),
    });
    const { checkpoint: ckpt, wal } = recovered;
    this.csn = Math.max(wal.maxCsn, ckpt?.csn ?? 0);
    this.txId = Math.max(wal.maxTxId, ckpt?.maxTxId ?? 0);
    this.recoveryReport = { checkpoint: ckpt, wal, checkpointMs: recovered.checkpointMs, walMs: recovered.walMs, elapsedMs: (this.clock.nowUs() - t0) / 1000 };
    if (mode !== 'off') {
      if (this.config.redoBufferBytes + 64 > this.config.walSegmentBytes) {
        throw Errors.invalidConfig('redo_buffer_size', `${this.config.redoBufferBytes} bytes must be smaller than wal_segment_size (${this.config.walSegmentBytes} bytes)`);
      }
      this.wal = await WalWriter.open(this.disk, walDir, {
        segmentBytes: this.config.walSegmentBytes,
        preallocate: this.config.walPreallocate,
        endLsn: wal.end.endLsn,
        witnessPath: witnessPath(this.dir),
        witnessLsn: recovered.witness?.durableLsn ?? 0,
      });
      // Everything up to the recovered end was read back (and is now synced): a later recovery must
      // find at least that much.
      await this.wal.syncRecoveredLog(ckpt?.lsn ?? 0);
      await this.wal.recordWitness(wal.end.endLsn, WitnessReason.OPEN);
    }
    this.checkpoints = new Checkpointer({
      disk: this.disk,
      clock: this.clock,
      catalog: this.catalog,
      config: this.config,
      checkpointDir,
      executorFactory: executors,
      tuning,
      currentCsn: () => this.csn,
      currentTxId: () => this.txId,
      wal: () => this.wal,
      writeRefusal: () => this.writeRefusal(),
      recovered: { checkpointId: ckpt?.checkpointId ?? 0, lsn: ckpt?.lsn ?? 0, csn: ckpt?.csn ?? 0, walEndLsn: wal.end.endLsn, chain: ckpt?.chain ?? [] },
      changeLog,
      retainFromWallMs: () => this.pitrs.retainFromWallMs(this.clock.wallMs()),
    });
    this.applyHook = this.checkpoints;
    const handler = createRedoLogHandler(mode, { config: this.config, clock: this.clock, wal: this.wal, observer });
    this.log = this.checkpoints.wrap(handler);
    if (legacy) await writeDirectorySettings(this.disk, this.dir, settingsOf(this.config), this.clock.wallMs());
  }

  /** Whether the directory already holds a WAL segment or a checkpoint control file. */
  private async holdsData(): Promise<boolean> {
    const names = await this.disk.list(this.walDir).catch(() => [] as string[]);
    if (names.some((n) => parseSegmentFileName(n) !== undefined)) return true;
    return this.disk.exists(joinPath(this.checkpointDir, CONTROL_FILE_NAME));
  }

  /** checkpoint_dir, or the data directory when it is empty. */
  get checkpointDir(): string {
    return this.config.checkpointDir === '' ? this.dir : this.config.checkpointDir;
  }

  private startStats(sink: ((report: string) => void) | undefined): void {
    if (!this.statsCollector) return;
    const out = sink ?? ((r: string) => process.stderr.write(r + '\n'));
    this.statsReporter = new StatsReporter(this.statsCollector, this.clock, this.config.printStatsPeriodUs, this.mode, out);
    this.statsReporter.start();
  }

  get walDir(): string {
    return joinPath(this.dir, 'wal');
  }

  get mode(): LoggingMode {
    return this.log.mode;
  }

  /** What recovery did when this engine opened. */
  get recovery(): RecoveryReport {
    return this.recoveryReport!;
  }

  // ---- SessionHost ----

  table(name: string): Table {
    return this.catalog.get(name);
  }

  nextCsn(): number {
    return ++this.csn;
  }

  lastCsn(): number {
    return this.csn;
  }

  nextTxId(): number {
    return ++this.txId;
  }

  writeRefusal(): MotError | undefined {
    if (this.closing) return this.closing;
    if (this.applyFailure) return this.applyFailure;
    const failed = this.wal?.failed;
    if (!failed) return undefined;
    if (this.wal!.failedForSpace && this.mode !== 'asynchronous') {
      const now = this.clock.nowUs();
      if (now - this.diskProbeAtUs >= DISK_FULL_PROBE_INTERVAL_US) {
        this.diskProbeAtUs = now;
        void this.retryAfterDiskFull();
      }
      return Errors.diskFullReadOnly(failed.message);
    }
    return Errors.engineReadOnly(failed.message);
  }

  applyFailed(txId: number, cause: unknown): MotError {
    const error = Errors.applyFailed(txId, cause);
    this.applyFailure ??= error;
    return error;
  }

  sessionClosed(session: Session): void {
    this.sessions.delete(session);
  }

  transactionEnded(tx: Transaction): void {
    const committed = tx.state === 'committed';
    if (committed) this.transactionsEnded.committed++;
    else this.transactionsEnded.aborted++;
    this.statsCollector?.transactionEnded(committed);
  }

  /**
   * After the WAL ran out of disk space (ENOSPC on write, synchronous or group mode): clear the
   * unacknowledged tail of the log and accept writes again if there is space now. Returns whether
   * the engine accepts writes. Also tried automatically, at most every DISK_FULL_PROBE_INTERVAL_US,
   * when a commit is refused. Asynchronous mode stays read-only until reopened: its commits were
   * applied in memory before their redo failed, so memory is ahead of the log.
   */
  async retryAfterDiskFull(): Promise<boolean> {
    if (!this.wal?.failed) return this.closing === undefined;
    if (!this.wal.failedForSpace || this.mode === 'asynchronous') return false;
    return this.wal.resumeAfterDiskFull();
  }

  // ---- public API ----

  /** Open a client session, bound to a simulated core by affinity_mode (or to `core` if given). */
  openSession(options: { core?: number; account?: string; user?: string } = {}): Session {
    if (this.closing) throw this.closing;
    const login = this.accounts.login(options.account, options.user);
    if (this.sessions.size >= this.config.maxConnections) throw Errors.tooManyClients(this.config.maxConnections);
    const shape = this.config;
    let choice = chooseCore(this.sessionsOpened, shape, () => this.random.next());
    if (options.core !== undefined) {
      const cores = shape.sockets * shape.coresPerSocket;
      if (!Number.isInteger(options.core) || options.core < 0 || options.core >= cores) {
        throw Errors.invalidArgument('core', `${options.core} is not a core of this machine (0..${cores - 1})`);
      }
      choice = { core: options.core, socket: shape.enableNuma ? Math.floor(options.core / shape.coresPerSocket) : 0 };
    }
    const session = new Session(this, ++this.sessionsOpened, choice.core, choice.socket);
    this.sessions.add(session);
    bindLogin(session, login);
    return session;
  }

  /** Whether `session` is a session of this engine that is still open. */
  ownsSession(session: unknown): boolean {
    return this.sessions.has(session as Session);
  }

  /** Sessions open now, in the order they were opened. */
  get openSessions(): Session[] {
    return [...this.sessions];
  }

  /** Run SQL (src/sql/) in `session`'s account and transaction, or as `sys` in a session of its own. */
  sql(text: string, session?: Session): Promise<SqlResult[]> {
    return executeSql(this, session, text);
  }

  /** Create a table (a logged DDL transaction; durable per the logging mode when this resolves). */
  async createTable(def: TableDef): Promise<DdlResult> {
    const refused = this.writeRefusal();
    if (refused) throw refused;
    // The name is claimed here, in the same synchronous step as the check that it is free.
    const { id, schema, release } = this.catalog.prepareCreate(def);
    try {
      const enc = this.redoEncoder;
      enc.reset();
      enc.addDdl(RedoOp.CREATE_TABLE, id, schema.def);
      const csn = this.nextCsn();
      const buffers = enc.finish(this.nextTxId(), csn, this.clock.wallMs());
      const logged = this.log.commit(buffers, 0);
      if (logged) await logged;
      this.checkpoints.tableCreated(this.catalog.create(id, schema), csn);
      this.checkpoints.applied(csn);
      return { csn };
    } finally {
      release();
    }
  }

  /** Drop a table (a logged DDL transaction). Fails while transactions are committing on it. */
  async dropTable(name: string): Promise<DdlResult> {
    const refused = this.writeRefusal();
    if (refused) throw refused;
    // A second DROP of the name gets 42P01 from here on, a CREATE 42P07, a TRUNCATE 42P01.
    const { table, release } = this.catalog.prepareDdl(name, 'drop');
    try {
      this.checkpoints.refuseDdlDuringCheckpoint(name);
      return await this.logTableDdl(table, RedoOp.DROP_TABLE, 'drop', {
        apply: (csn) => {
          this.catalog.drop(table);
          this.checkpoints.applied(csn);
        },
      });
    } finally {
      release();
    }
  }

  /** Empty a table (a logged TRUNCATE_TABLE transaction). Refused while a checkpoint runs (MOT's rule) or commits run on it. */
  async truncateTable(name: string): Promise<DdlResult> {
    const refused = this.writeRefusal();
    if (refused) throw refused;
    const { table, release } = this.catalog.prepareDdl(name, 'truncate');
    try {
      this.checkpoints.refuseDdlDuringCheckpoint(name);
      return await this.logTableDdl(table, RedoOp.TRUNCATE_TABLE, 'truncate', {
        apply: (csn) => {
          table.truncate();
          this.checkpoints.tableTruncated(table, csn);
          this.checkpoints.applied(csn);
        },
      });
    } finally {
      release();
    }
  }

  /**
   * Add a secondary index to an existing table (a logged CREATE_INDEX transaction; durable per the
   * logging mode when this resolves). Everything that can refuse it is checked before its redo is
   * logged: the name (src/names.ts; free among the indexes of the table's database, else 42P07),
   * MOT's limits (indexes per table, key columns, key bytes), the columns, and, for a unique index,
   * the rows: two live rows sharing a non-NULL key refuse it with 23505 naming the index and the key.
   * The rows are checked under the table's lock, so no commit can change them before it applies.
   * Refused while a checkpoint runs (HV025) or commits hold keys of the table (55006). Transactions
   * that used the table before it applies cannot commit (40001: see Transaction, schemaChanged).
   */
  async createIndex(tableName: string, index: IndexDef): Promise<DdlResult> {
    const refused = this.writeRefusal();
    if (refused) throw refused;
    if (index === null || typeof index !== 'object' || Array.isArray(index)) {
      throw Errors.invalidArgument(`index definition for table "${tableName}"`, 'expected { name, columns, unique? }');
    }
    checkName('index', index.name);
    if (index.unique !== undefined && typeof index.unique !== 'boolean') {
      throw Errors.invalidArgument(`index "${index.name}" on table "${tableName}"`, '`unique` must be true, false or absent');
    }
    const def = normalizeIndexDef(index);
    const { table, release } = this.catalog.prepareIndexDdl(tableName, def.name, 'create');
    try {
      this.checkpoints.refuseDdlDuringCheckpoint(tableName, 'create index');
      const schema = table.schema.withIndex(def); // MOT's limits, the columns
      const info = schema.index(def.name)!;
      const body = { name: def.name, columns: def.columns, unique: def.unique === true };
      return await this.logTableDdl(table, RedoOp.CREATE_INDEX, 'create index', {
        body,
        check: () => table.checkIndexBuildable(info),
        apply: (csn) => {
          table.redefine(schema);
          this.checkpoints.tableRedefined(table, csn);
          this.checkpoints.applied(csn);
        },
      });
    } finally {
      release();
    }
  }

  /**
   * Drop a secondary index of a table (a logged DROP_INDEX transaction). Refused for an index the
   * table does not have (RC_INDEX_NOT_FOUND), for its primary key, while a checkpoint runs or
   * commits hold keys of the table (55006).
   */
  async dropIndex(tableName: string, indexName: string): Promise<DdlResult> {
    const refused = this.writeRefusal();
    if (refused) throw refused;
    if (typeof indexName !== 'string') throw Errors.invalidArgument(`index name for table "${tableName}"`, 'expected a string');
    const { table, release } = this.catalog.prepareIndexDdl(tableName, indexName, 'drop');
    try {
      this.checkpoints.refuseDdlDuringCheckpoint(tableName, 'drop index');
      const schema = table.schema.withoutIndex(indexName);
      return await this.logTableDdl(table, RedoOp.DROP_INDEX, 'drop index', {
        body: indexName,
        apply: (csn) => {
          table.redefine(schema);
          this.checkpoints.tableRedefined(table, csn);
          this.checkpoints.applied(csn);
        },
      });
    } finally {
      release();
    }
  }

  /**
   * Log a DDL transaction on one existing table and apply it once the log allows. The table is
   * locked whole from before its CSN is taken until it is applied: a transaction that touches the
   * table meanwhile aborts (40001), so the DDL's place in the CSN order, the log and memory agree.
   * `check` runs once the lock is held, before the CSN is taken: the table's rows cannot change from
   * then until `apply`, so what it checks still holds when the DDL applies.
   */
  private async logTableDdl(table: Table, op: RedoOpCode, verb: string, step: DdlStep): Promise<DdlResult> {
    const owner = { ddl: verb }; // one lock owner per statement: two DDL statements on a table exclude each other
    if (!this.locks.tryLockTable(table, owner)) throw Errors.objectInUse(`table "${table.name}"`, `commits or another DDL statement in progress (${verb} refused)`);
    try {
      step.check?.();
      const enc = this.redoEncoder;
      enc.reset();
      enc.addDdl(op, table.id, step.body);
      const csn = this.nextCsn();
      const buffers = enc.finish(this.nextTxId(), csn, this.clock.wallMs());
      const logged = this.log.commit(buffers, 0);
      if (logged) await logged;
      step.apply(csn);
      return { csn };
    } finally {
      this.locks.unlockTable(table, owner);
    }
  }

  /**
   * Take a checkpoint now, without stopping commits: every table's rows as of one CSN, written under
   * checkpoint_dir; then the WAL before its LSN is removed. Resolves with what it did.
   */
  checkpoint(): Promise<CheckpointReport> {
    return this.checkpoints.checkpoint('manual');
  }

  /**
   * Flush, then write an incremental checkpoint chained to the current one (rows changed since, and
   * tombstones for rows removed since), then truncate the WAL. A full checkpoint when there is none
   * to chain to, the chain is at its longest or too many rows were removed (the report's `note`).
   */
  async incrementCheckpoint(): Promise<CheckpointReport> {
    await this.flush();
    return this.checkpoints.checkpoint('manual', 'incremental');
  }

  tables(): Table[] {
    return this.catalog.tables();
  }

  /** Make every commit acknowledged so far durable (also in asynchronous mode). */
  async flush(): Promise<void> {
    await this.log.flush();
  }

  stats(): EngineAdminStats & LogStats & { csn: number; sessions: number; walDurableLsn: number; walEndLsn: number; checkpoint: CheckpointStats } {
    return {
      ...this.log.stats(),
      transactionsCommitted: this.transactionsEnded.committed,
      transactionsAborted: this.transactionsEnded.aborted,
      walFailedForSpace: this.wal?.failedForSpace ?? false,
      checkpoint: this.checkpoints.stats(),
      csn: this.csn,
      sessions: this.sessions.size,
      walDurableLsn: this.wal?.durableLsn ?? 0,
      walEndLsn: this.wal?.endLsn ?? 0,
    };
  }

  /** Flush everything and release files and threads. Later calls are refused. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = Errors.invalidState('the engine is closed');
    this.statsReporter?.stop();
    for (const s of [...this.sessions]) s.close();
    try {
      try {
        await this.log.close();
      } catch (e) {
        // After a WAL failure in synchronous and group modes every acknowledged commit is durable and
        // every other one was rejected: nothing is left to flush. Asynchronous mode may have
        // acknowledged commits the log never got: close() says so by rejecting.
        if (!(this.wal?.failed !== undefined && this.mode !== 'asynchronous')) throw e;
      }
      // A clean close: the whole log is durable, and a later recovery must find all of it.
      if (this.wal !== undefined && this.wal.failed === undefined) await this.wal.recordWitness(this.wal.durableLsn, WitnessReason.CLEAN_CLOSE);
      await this.checkpoints.close();
    } finally {
      try {
        await this.wal?.close();
      } finally {
        await this.dirLock?.release();
        if (this.ownsDisk) await this.disk.close();
      }
    }
  }

  /**
   * Stop at once without flushing, as a crash would (timers stopped, nothing more written by this
   * engine). On the simulated disk, follow with disk.crash() to lose what was not durable.
   */
  async abandon(): Promise<void> {
    if (this.closing) return;
    this.closing = Errors.invalidState('the engine was stopped (simulated crash)');
    this.statsReporter?.stop();
    this.log.abandon?.();
    this.checkpoints.abandon();
    if (this.ownsDisk) await this.disk.close();
    // Last, once this engine's threads are gone; on a disk it does not own, synchronously within the
    // call (no await above), so the directory can be opened again at once. After a simulated crash
    // this does nothing: the crash already made the lock stale.
    this.dirLock?.abandon();
  }
}

/** What logTableDdl does for one DDL statement. */
interface DdlStep {
  /** The redo entry's body (msgpack; none for DROP_TABLE and TRUNCATE_TABLE). */
  body?: unknown;
  /** Last checks, under the table's lock, before the CSN is taken (a refusal logs nothing). */
  check?: () => void;
  /** Apply the logged statement in memory (cannot fail: every check ran before it was logged). */
  apply: (csn: number) => void;
}

/**
 * The data directory exists and is a directory (or is created, parents included, when `create`);
 * otherwise a MotError naming it. Its new entries are made durable (mkdirpDurable).
 */
async function openDirectory(disk: Disk, dir: string, create: boolean): Promise<void> {
  if (create) {
    try {
      if (!(await disk.exists(dir))) await mkdirpDurable(disk, dir);
    } catch (e) {
      const errno = (e as { code?: string }).code;
      throw errno === 'EEXIST' || errno === 'ENOTDIR' ? Errors.notADirectory('a parent of data directory', dir) : Errors.fileAccess('create data directory', dir, e);
    }
  }
  await requireDirectory(disk, dir, 'data directory');
}

/** Take the data directory's lock, or say who has it. */
async function lockDirectory(disk: Disk, dir: string): Promise<DirectoryLock> {
  try {
    return await disk.lockDirectory(dir);
  } catch (e) {
    if (e instanceof DirectoryLockedError) throw Errors.directoryInUse('data directory', dir, e.holder.pid, e.holder.thisProcess, lockFilePath(dir));
    throw Errors.fileAccess('create the lock file in data directory', dir, e);
  }
}

/** checkpoint_dir must be an existing directory (MOT's rule): never created, a file refused. */
async function checkCheckpointDir(disk: Disk, dir: string): Promise<void> {
  try {
    await disk.list(dir);
  } catch (e) {
    const errno = (e as { code?: string }).code;
    if (errno === 'ENOENT') throw Errors.invalidConfig('checkpoint_dir', `directory "${dir}" does not exist`);
    if (errno === 'ENOTDIR') throw Errors.invalidConfig('checkpoint_dir', `"${dir}" is not a directory`);
    throw Errors.fileAccess('open checkpoint_dir', dir, e);
  }
}

/**
 * Worker threads on the real disk, at most this machine's cores; inline on any other (simulated or
 * in-memory) disk, bounded by the simulated machine's cores, so a simulation never depends on the host.
 */
function executorFactory(options: EngineOptions, config: EngineConfig, disk: Disk, clock: Clock): ExecutorFactory {
  const kind = options.checkpointExecutor ?? (disk instanceof RealDisk ? 'threads' : 'inline');
  if (kind === 'threads') {
    const cores = options.cpuCores ?? os.availableParallelism(); // read once, here, when the engine opens
    return (workers) => new ThreadExecutor(workers, cores, clock);
  }
  const simulatedCores = config.sockets * config.coresPerSocket;
  return (workers) => new InlineExecutor(clock, INLINE_PAUSE_US, boundedParallelism(workers, simulatedCores));
}

async function resolveOptions(options: EngineOptions): Promise<{ config: EngineConfig; warnings: ConfigWarning[] }> {
  if (options.confFile) {
    // Through the injected disk (a simulated engine reads its simulated disk); without one, node:fs
    // (loadMotConf's default), as the real disk would.
    const disk = options.disk;
    const fromFile: ResolvedConfig = await loadMotConf(options.confFile, disk && (async (path) => new TextDecoder().decode(await disk.readFile(path))));
    if (!options.config) return fromFile;
    const merged = resolveConfig({ ...configAsInput(fromFile.config), ...options.config }, options.confFile);
    return { config: merged.config, warnings: [...fromFile.warnings, ...merged.warnings] };
  }
  return resolveConfig(options.config ?? {});
}

function configAsInput(c: EngineConfig): ConfigInput {
  const out: ConfigInput = {};
  for (const [k, v] of Object.entries(c)) out[k] = v as string | number | boolean;
  return out;
}
