// The engine: opens a data directory (recovering it), owns the tables, the sessions and the redo log,
// and closes cleanly. Everything outside comes in through EngineOptions (Disk, Clock, Random), so the
// same engine runs on the real disk and inside the deterministic simulator.

import type { Disk } from './io/disk.js';
import { joinPath, mkdirpDurable } from './io/disk.js';
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
  type LoggingMode,
} from './config/config.js';
import { Catalog } from './catalog.js';
import { ChunkPools } from './store/chunk-pool.js';
import type { TableDef } from './store/schema.js';
import type { Table } from './store/table.js';
import { LockTable } from './transaction/lock-table.js';
import { Session, type SessionHost } from './transaction/session.js';
import { chooseCore } from './transaction/affinity.js';
import { RedoEncoder } from './redo/redo-encoder.js';
import { RedoOp } from './redo/redo-format.js';
import type { CommitObserver, LogStats, RedoLogHandler } from './commit-group/redo-log-handler.js';
import { createRedoLogHandler } from './commit-group/create-handler.js';
import { WalWriter } from './wal/wal-writer.js';
import { replayWal, type WalReplayReport } from './recovery/wal-replay.js';
import { Errors, MotError } from './errors.js';

export interface EngineOptions {
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
  /**
   * FOR TESTING THE CRASH CHECKER ONLY (src/sim/checker.ts): deliberately break durability, so a
   * test can show the checker catches it. Never set otherwise.
   */
  unsafeTesting?: UnsafeTestingSwitches;
}

/** Deliberate durability bugs, each a switch (see EngineOptions.unsafeTesting). */
export interface UnsafeTestingSwitches {
  /** sync and group modes tell the client "committed" before the redo is flushed. */
  ackBeforeFlush?: boolean;
  /** The WAL writer writes without fdatasync. */
  skipFsync?: boolean;
  /** The WAL writer treats a failed write (ENOSPC) or fdatasync (EIO) as success. */
  ignoreIoErrors?: boolean;
}

export interface RecoveryReport {
  wal: WalReplayReport;
  elapsedMs: number;
}

export class Engine implements SessionHost {
  readonly locks = new LockTable();
  readonly redoEncoder: RedoEncoder;
  log!: RedoLogHandler;
  private wal: WalWriter | undefined;
  private readonly sessions = new Set<Session>();
  private sessionsOpened = 0;
  private csn = 0;
  private txId = 0;
  private closing: MotError | undefined;
  private recoveryReport: RecoveryReport | undefined;
  private readonly ownsDisk: boolean;

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
    this.ownsDisk = ownsDisk;
  }

  /** Open (and recover) the engine in `dir`, creating the directory if needed. */
  static async open(dir: string, options: EngineOptions = {}): Promise<Engine> {
    const { config, warnings } = await resolveOptions(options);
    const warn = options.onWarning ?? ((w: ConfigWarning) => process.stderr.write(`WARNING: ${w.message}\n`));
    for (const w of warnings) warn(w);
    const ownsDisk = options.disk === undefined;
    const disk = options.disk ?? new RealDisk({ lanes: config.sockets, flusher: effectiveFlusher(config) });
    const clock = options.clock ?? new RealClock();
    const random = options.random ?? new SeededRandom(freshSeed());
    const pools = new ChunkPools({
      sockets: config.sockets,
      globalBytesMax: config.maxMotGlobalMemoryBytes,
      localBytesMax: config.maxMotLocalMemoryBytes,
    });
    const engine = new Engine(dir, config, warnings, disk, clock, random, new Catalog(pools), ownsDisk);
    try {
      await engine.start(options.observer, options.unsafeTesting ?? {});
    } catch (e) {
      if (ownsDisk) await disk.close();
      throw e;
    }
    return engine;
  }

  private async start(observer: CommitObserver | undefined, unsafe: UnsafeTestingSwitches): Promise<void> {
    const t0 = this.clock.nowUs();
    await mkdirpDurable(this.disk, this.dir);
    const mode = loggingMode(this.config);
    const walDir = this.walDir;
    const wal = await replayWal(this.disk, walDir, this.catalog, this.clock, {
      segmentBytes: this.config.walSegmentBytes,
      fromLsn: 0,
      skipCsnAtOrBelow: 0,
      sockets: this.config.sockets,
      repairTornTail: true,
    });
    this.csn = wal.maxCsn;
    this.txId = wal.maxTxId;
    this.recoveryReport = { wal, elapsedMs: (this.clock.nowUs() - t0) / 1000 };
    if (mode !== 'off') {
      if (this.config.redoBufferBytes + 64 > this.config.walSegmentBytes) {
        throw Errors.invalidConfig('redo_buffer_size', `${this.config.redoBufferBytes} bytes must be smaller than wal_segment_size (${this.config.walSegmentBytes} bytes)`);
      }
      this.wal = await WalWriter.open(this.disk, walDir, {
        segmentBytes: this.config.walSegmentBytes,
        preallocate: this.config.walPreallocate,
        endLsn: wal.end.endLsn,
        unsafeSkipFsync: unsafe.skipFsync,
        unsafeIgnoreIoErrors: unsafe.ignoreIoErrors,
      });
    }
    this.log = createRedoLogHandler(mode, { config: this.config, clock: this.clock, wal: this.wal, observer, unsafeAckBeforeFlush: unsafe.ackBeforeFlush });
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

  nextTxId(): number {
    return ++this.txId;
  }

  writeRefusal(): MotError | undefined {
    if (this.closing) return this.closing;
    const failed = this.wal?.failed;
    return failed ? Errors.engineReadOnly(failed.message) : undefined;
  }

  sessionClosed(session: Session): void {
    this.sessions.delete(session);
  }

  // ---- public API ----

  /** Open a client session, bound to a simulated core by affinity_mode (or to `core` if given). */
  openSession(options: { core?: number } = {}): Session {
    if (this.closing) throw this.closing;
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
    return session;
  }

  /** Create a table (a logged DDL transaction; durable per the logging mode when this resolves). */
  async createTable(def: TableDef): Promise<void> {
    const refused = this.writeRefusal();
    if (refused) throw refused;
    const { id, schema } = this.catalog.prepareCreate(def);
    const enc = this.redoEncoder;
    enc.reset();
    enc.addDdl(RedoOp.CREATE_TABLE, id, schema.def);
    const buffers = enc.finish(this.nextTxId(), this.nextCsn(), this.clock.wallMs());
    const logged = this.log.commit(buffers, 0);
    if (logged) await logged;
    this.catalog.create(id, schema);
  }

  /** Drop a table (a logged DDL transaction). Fails while transactions are committing on it. */
  async dropTable(name: string): Promise<void> {
    const refused = this.writeRefusal();
    if (refused) throw refused;
    const table = this.catalog.get(name);
    if (this.locks.heldOn(table) > 0) throw Errors.invalidState(`table "${name}" has commits in progress; retry the drop`);
    const enc = this.redoEncoder;
    enc.reset();
    enc.addDdl(RedoOp.DROP_TABLE, table.id, undefined);
    const buffers = enc.finish(this.nextTxId(), this.nextCsn(), this.clock.wallMs());
    const logged = this.log.commit(buffers, 0);
    if (logged) await logged;
    this.catalog.drop(table);
  }

  tables(): Table[] {
    return this.catalog.tables();
  }

  /** Make every commit acknowledged so far durable (also in asynchronous mode). */
  async flush(): Promise<void> {
    await this.log.flush();
  }

  stats(): LogStats & { csn: number; sessions: number; walDurableLsn: number; walEndLsn: number } {
    return {
      ...this.log.stats(),
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
    for (const s of [...this.sessions]) s.close();
    try {
      await this.log.close();
    } finally {
      await this.wal?.close();
      if (this.ownsDisk) await this.disk.close();
    }
  }

  /**
   * Stop at once without flushing, as a crash would (timers stopped, nothing more written by this
   * engine). On the simulated disk, follow with disk.crash() to lose what was not durable.
   */
  async abandon(): Promise<void> {
    if (this.closing) return;
    this.closing = Errors.invalidState('the engine was stopped (simulated crash)');
    this.log.abandon?.();
    if (this.ownsDisk) await this.disk.close();
  }
}

async function resolveOptions(options: EngineOptions): Promise<{ config: EngineConfig; warnings: ConfigWarning[] }> {
  if (options.confFile) {
    const fromFile = await loadMotConf(options.confFile);
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
