// Storage faults the simulated disk injects, each with a switch, a probability and its real-world source;
// decisions come from the injected Random (disabled faults draw nothing); every fault is logged.

import { Errors } from '../errors.js';
import type { Random } from '../io/random.js';

/**
 * What a crash does to writes that were not flushed (per file, in write order):
 * - 'lose-unflushed': all of them are lost (the default; the weakest promise a file system makes);
 * - 'keep-prefix': a random prefix survives (the kernel wrote back some dirty pages in order);
 * - 'torn': a random prefix survives and the last surviving write is cut at a sector boundary; its
 *   later sectors read as zero (beyond the old end of file) or old bytes (an overwrite);
 * - 'reorder': a random subset survives at sector granularity (writeback and device caches reorder).
 */
export type CrashModel = 'lose-unflushed' | 'keep-prefix' | 'torn' | 'reorder';
export const CRASH_MODELS: readonly CrashModel[] = ['lose-unflushed', 'keep-prefix', 'torn', 'reorder'];

export type FaultKind =
  | 'crash'
  | 'lostUnflushedTail'
  | 'tornWrite'
  | 'zeroFilledTail'
  | 'bitFlip'
  | 'fsyncFailureDropsDirtyPages'
  | 'diskFull'
  | 'crashBetweenSteps'
  /** Damage at rest (SimDisk.injectTruncate / injectZero / injectRemove): see the crash-test faults. */
  | 'fileTruncated'
  | 'fileZeroed'
  | 'fileRemoved';

export type FileKind = 'wal' | 'checkpoint';

export interface FaultSwitch {
  enabled: boolean;
  /** Chance per opportunity (per file at a crash, per sync, per write crossing the quota). */
  probability: number;
}

export interface FaultConfig {
  /**
   * At a crash, a file loses all its unflushed writes whatever the crash model says.
   * Real source: acknowledging a write that was only in the page cache: LevelDB/RocksDB with
   * WriteOptions.sync = false ("a machine crash may lose the last few writes"), Redis
   * `appendfsync everysec` (up to a second lost), PostgreSQL `synchronous_commit = off`.
   */
  lostUnflushedTail: FaultSwitch;
  /**
   * At a crash, a file keeps a prefix of its unflushed writes and the last kept one is cut at a
   * sector boundary (later sectors zero or old). Real source: devices are atomic per 512-byte (or
   * 4 KB) sector only, so a larger write interrupted by power loss is torn; the reason for
   * PostgreSQL's full_page_writes, InnoDB's doublewrite buffer, and etcd's "zero sector = torn".
   */
  tornWrite: FaultSwitch;
  /**
   * At a crash, a file that unflushed writes extended keeps its new size but the new bytes read as
   * zeros (the size reached the journal, the data blocks did not). Real source: ext4 delayed
   * allocation / data=writeback zero-length and NUL-filled files after a crash (Launchpad bug
   * 317781, 2009), XFS "NULL bytes after crash" (XFS FAQ).
   */
  zeroFilledTail: FaultSwitch;
  /**
   * At a crash, one bit of a durable file of `fileKind` flips (a whole file's durable bytes are
   * eligible). Real source: silent data corruption below the file system: Bairavasundaram et al.,
   * "An Analysis of Data Corruption in the Storage Stack" (FAST 2008); CERN's 2007 disk study.
   */
  bitFlip: FaultSwitch & { fileKind: FileKind };
  /**
   * A sync (or the flush of writeAndSync) with dirty data fails with EIO and the dirty pages it
   * covered are DROPPED: not durable, not readable (the file reads its old durable content), and a
   * later sync succeeds. Real source: PostgreSQL "fsyncgate" (2018, Craig Ringer on pgsql-hackers;
   * LWN 752063 "PostgreSQL's fsync() surprise"): Linux marks pages clean after a writeback error.
   */
  fsyncFailureDropsDirtyPages: FaultSwitch;
  /**
   * ENOSPC on a write that would take the disk's used bytes past `quotaBytes`; as write(2) does, the
   * part that fits (whole sectors up to the quota) lands in the page cache first (a short write), then
   * ENOSPC. Real source: disk full during a running workload (MogDB troubleshooting guide; SPEC section
   * 9), and ENOSPC in the middle of a WAL append, whose partial frames a later writeback may persist.
   */
  diskFull: FaultSwitch & { quotaBytes: number };
  /**
   * Crash (with `model`) just before the `atOperation`-th disk operation (0-based) is issued; that
   * operation fails with EBADF. Real source: crash-consistency checkers that cut power between every
   * pair of system calls: ALICE (Pillai et al., OSDI 2014), CrashMonkey (Mohan et al., OSDI 2018).
   */
  crashBetweenSteps: { enabled: boolean; atOperation: number; model: CrashModel };
  /** Which paths count as WAL files and as checkpoint files (for bitFlip). */
  fileKinds: Record<FileKind, (path: string) => boolean>;
}

/** Partial fault settings: naming a fault switches it on (probability 1) unless it says otherwise. */
export type FaultSpec = { [K in keyof FaultConfig]?: Partial<FaultConfig[K]> };

export const DEFAULT_FILE_KINDS: Readonly<Record<FileKind, (path: string) => boolean>> = {
  wal: (path) => /wal|redo/i.test(path),
  checkpoint: (path) => /checkpoint|ckpt/i.test(path),
};

const OFF: FaultSwitch = { enabled: false, probability: 0 };

export function faultConfig(spec: FaultSpec = {}): FaultConfig {
  const on = <T extends FaultSwitch>(defaults: T, given: Partial<T> | undefined): T =>
    given === undefined ? defaults : { ...defaults, enabled: true, probability: 1, ...given };
  const config: FaultConfig = {
    lostUnflushedTail: on(OFF, spec.lostUnflushedTail),
    tornWrite: on(OFF, spec.tornWrite),
    zeroFilledTail: on(OFF, spec.zeroFilledTail),
    bitFlip: on({ ...OFF, fileKind: 'wal' as FileKind }, spec.bitFlip),
    fsyncFailureDropsDirtyPages: on(OFF, spec.fsyncFailureDropsDirtyPages),
    diskFull: on({ ...OFF, quotaBytes: Number.POSITIVE_INFINITY }, spec.diskFull),
    crashBetweenSteps:
      spec.crashBetweenSteps === undefined
        ? { enabled: false, atOperation: -1, model: 'lose-unflushed' }
        : { enabled: true, atOperation: 0, model: 'lose-unflushed', ...spec.crashBetweenSteps },
    fileKinds: { ...DEFAULT_FILE_KINDS, ...spec.fileKinds },
  };
  validate(config);
  return config;
}

function validate(config: FaultConfig): void {
  const switches = [
    'lostUnflushedTail',
    'tornWrite',
    'zeroFilledTail',
    'bitFlip',
    'fsyncFailureDropsDirtyPages',
    'diskFull',
  ] as const;
  for (const name of switches) {
    const p = config[name].probability;
    if (!(p >= 0 && p <= 1)) throw Errors.invalidConfig(`faults.${name}.probability`, `must be in [0, 1], got ${p}`);
  }
  if (!(config.diskFull.quotaBytes >= 0)) {
    throw Errors.invalidConfig('faults.diskFull.quotaBytes', `must be >= 0, got ${config.diskFull.quotaBytes}`);
  }
  if (config.crashBetweenSteps.enabled && !(Number.isInteger(config.crashBetweenSteps.atOperation) && config.crashBetweenSteps.atOperation >= 0)) {
    throw Errors.invalidConfig('faults.crashBetweenSteps.atOperation', `must be an integer >= 0, got ${config.crashBetweenSteps.atOperation}`);
  }
}

/** One injected fault or crash loss: enough for a checker to tell an allowed loss from a bug. */
export interface FaultRecord {
  atUs: number;
  path: string;
  kind: FaultKind;
  detail: string;
}

/** Append-only, bounded: past `recordsMax` records only the count grows. */
export class FaultLog {
  private readonly entries: FaultRecord[] = [];
  private droppedCount = 0;

  constructor(readonly recordsMax = 100_000) {}

  add(record: FaultRecord): FaultRecord {
    if (this.entries.length < this.recordsMax) this.entries.push(record);
    else this.droppedCount++;
    return record;
  }

  get records(): readonly FaultRecord[] {
    return this.entries;
  }

  /** Records not kept because the log was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  ofKind(kind: FaultKind): FaultRecord[] {
    return this.entries.filter((r) => r.kind === kind);
  }

  forPath(path: string): FaultRecord[] {
    return this.entries.filter((r) => r.path === path);
  }
}

/** A crash-time fault that replaces the crash model for one file. */
export type CrashFileFault = 'lostUnflushedTail' | 'tornWrite' | 'zeroFilledTail';

/** Draws fault decisions. Holds no disk state; SimDisk applies what it decides and logs it. */
export class FaultInjector {
  constructor(
    public config: FaultConfig,
    private readonly random: Random,
  ) {}

  private draw(fault: FaultSwitch): boolean {
    return fault.enabled && this.random.chance(fault.probability);
  }

  /** At a crash, for a file with unflushed writes: which fault (if any) overrides the crash model. */
  crashFileFault(hasUnflushedWrites: boolean, extendsFile: boolean): CrashFileFault | undefined {
    if (this.draw(this.config.lostUnflushedTail)) return 'lostUnflushedTail';
    if (hasUnflushedWrites && this.draw(this.config.tornWrite)) return 'tornWrite';
    if (extendsFile && this.draw(this.config.zeroFilledTail)) return 'zeroFilledTail';
    return undefined;
  }

  /** At a crash, for a durable file: whether one of its bits flips. */
  bitFlip(path: string, sizeBytes: number): boolean {
    const flip = this.config.bitFlip;
    return sizeBytes > 0 && flip.enabled && this.config.fileKinds[flip.fileKind](path) && this.random.chance(flip.probability);
  }

  /** A uniformly chosen bit index in [0, sizeBytes * 8). */
  bitIndex(sizeBytes: number): number {
    return this.random.int(sizeBytes * 8);
  }

  /** A sync with dirty data: whether it fails and drops them. */
  fsyncFails(): boolean {
    return this.draw(this.config.fsyncFailureDropsDirtyPages);
  }

  /** A write taking used bytes from `usedBytes` to `usedBytes + growthBytes`: whether it gets ENOSPC. */
  diskFull(usedBytes: number, growthBytes: number): boolean {
    const full = this.config.diskFull;
    return full.enabled && growthBytes > 0 && usedBytes + growthBytes > full.quotaBytes && this.random.chance(full.probability);
  }

  /** Whether to crash before operation `index`. */
  crashBefore(index: number): boolean {
    const c = this.config.crashBetweenSteps;
    return c.enabled && c.atOperation === index;
  }
}
