// Simulated Disk: operations complete later in virtual time; page-cache bytes and entries are kept apart
// from durable ones, which only sync/syncDir create; a crash keeps the durable state plus logged faults.

import { createHash } from 'node:crypto';
import { assert } from '../errors.js';
import type { Disk, DiskFile } from '../io/disk.js';
import { DirectoryLockedError, encodeLockFile, lockFilePath, type DirectoryLock, type DirectoryLockHolder } from '../io/directory-lock.js';
import type { Random } from '../io/random.js';
import type { EventHandle, Scheduler } from './scheduler.js';
import { type LatencyModel, type LatencySpec, latencyModel, sampleUs, transferUs } from './latency.js';
import {
  type CrashModel,
  type FaultConfig,
  FaultInjector,
  type FaultKind,
  FaultLog,
  type FaultRecord,
  type FaultSpec,
  faultConfig,
} from './faults.js';

// ---------------------------------------------------------------------------------------------------
// Public types

export interface SimDiskOptions {
  scheduler: Scheduler;
  /** The disk forks three generators from it at construction: latency, faults, crash outcomes. */
  random: Random;
  /** Device costs: a preset name or a custom model (default 'nvme'). */
  latency?: LatencySpec;
  faults?: FaultSpec;
  /** What crash() does when called without a model (default 'lose-unflushed'). */
  crashModel?: CrashModel;
  /** Atomic unit of the device for torn and reordered writes (default 512). */
  sectorBytes?: number;
  /** Bound on requests queued on one lane (default 65,536). */
  laneQueueDepthMax?: number;
  /** Bound on requests waiting for a device channel (default 1,000,000). */
  deviceQueueDepthMax?: number;
  /** Bound on the fault log (default 100,000 records). */
  faultLogRecordsMax?: number;
}

export type DiskOperationKind =
  | 'open'
  | 'readFile'
  | 'list'
  | 'mkdirp'
  | 'exists'
  | 'rename'
  | 'remove'
  | 'syncDir'
  | 'size'
  | 'read'
  | 'write'
  | 'sync'
  | 'writeAndSync'
  | 'truncate'
  | 'close';

/** One disk operation as it is issued (before it has any effect). */
export interface DiskOperation {
  /** 0-based count of operations issued on this disk, across crashes. */
  index: number;
  kind: DiskOperationKind;
  path: string;
  /** false for operations that cannot change disk state (reads, listings, size, close). */
  mutating: boolean;
  atUs: number;
}

/** The fate of one unflushed write at a crash. */
export interface WriteFate {
  /** Position among the file's unflushed operations (writes and truncates), in issue order. */
  index: number;
  offset: number;
  length: number;
  /** Bytes of it that reached the durable image. */
  keptBytes: number;
}

export type CrashFate = 'lost' | 'prefix' | 'torn' | 'reorder' | 'zero-filled' | 'entry-lost';

export interface CrashFileReport {
  path: string;
  fate: CrashFate;
  /** The crash model, or the fault that overrode it for this file. */
  cause: CrashModel | 'lostUnflushedTail' | 'tornWrite' | 'zeroFilledTail' | 'directory-entry-not-synced';
  writes: WriteFate[];
  bytesLost: number;
  bytesKept: number;
}

export interface CrashReport {
  atUs: number;
  model: CrashModel;
  /** Files that had unflushed writes or an entry that was not durable, sorted by path. */
  files: CrashFileReport[];
  /** Unflushed bytes that did not survive (including writes still in flight). */
  bytesLost: number;
  /** Unflushed bytes that survived anyway. */
  bytesKept: number;
  /** Requests in flight at the crash; their promises rejected with EBADF. */
  inflightRequestsAborted: number;
  /** Bytes of writes still in flight (never in the page cache) at the crash. */
  inflightWriteBytesLost: number;
  /** "lost <path>" for an entry created or renamed in but not synced; "restored <path>" for one removed but not synced. */
  directoryEntriesReverted: string[];
  /** Fault-log records this crash added. */
  faults: FaultRecord[];
}

/** A durable image: directories and file contents. Treat as immutable (buffers are shared). */
export interface DurableImage {
  readonly directories: readonly string[];
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export interface LaneStats {
  lane: number;
  requests: number;
  busyUs: number;
  queueDepthMax: number;
}

export interface SimDiskStats {
  operations: number;
  writes: number;
  writeBytes: number;
  syncs: number;
  writeAndSyncs: number;
  /** Bytes moved from the page cache to the durable image by syncs. */
  bytesMadeDurable: number;
  reads: number;
  readBytes: number;
  dirSyncs: number;
  metadataOps: number;
  crashes: number;
  faultsInjected: number;
  /** Sum of the sizes of the files in the namespace (what diskFull's quota counts). */
  usedBytes: number;
  lanes: LaneStats[];
  channelBusyUs: number[];
}

/** Lanes are numbered [0, LANES_MAX): one per simulated socket. */
export const LANES_MAX = 1024;
/** Pid of the first simulated process to lock a directory on a (re)started machine; the next get +1. */
export const SIM_PID_FIRST = 1000;
/** Small write payloads are copied into slabs of this size (one allocation per many writes). */
const COPY_SLAB_BYTES = 1 << 20;

export type Errno = 'ENOENT' | 'EEXIST' | 'EISDIR' | 'ENOTDIR' | 'ENOTEMPTY' | 'EBADF' | 'EIO' | 'ENOSPC' | 'EINVAL';

const ERRNO_TEXT: Record<Errno, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  EISDIR: 'illegal operation on a directory',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  EBADF: 'bad file descriptor',
  EIO: 'i/o error',
  ENOSPC: 'no space left on device',
  EINVAL: 'invalid argument',
};

export interface SimIoError extends Error {
  code: Errno;
  syscall: string;
  path: string;
}

/** A Node-style error: `code`, `syscall`, `path`, message `CODE: text, syscall 'path' (detail)`. */
export function simIoError(code: Errno, syscall: string, path: string, detail?: string): SimIoError {
  const suffix = detail === undefined ? '' : ` (${detail})`;
  const error = new Error(`${code}: ${ERRNO_TEXT[code]}, ${syscall} '${path}'${suffix}`) as SimIoError;
  error.code = code;
  error.syscall = syscall;
  error.path = path;
  return error;
}

// ---------------------------------------------------------------------------------------------------
// Bytes

/** A growable byte buffer with copy-on-write sharing (snapshots and restarts share buffers). */
class ByteImage {
  constructor(
    private bytes: Uint8Array,
    public size: number,
    private shared: boolean,
  ) {}

  static empty(): ByteImage {
    return new ByteImage(new Uint8Array(0), 0, false);
  }

  /** A copy sharing this buffer until either side writes. */
  clone(): ByteImage {
    this.shared = true;
    return new ByteImage(this.bytes, this.size, true);
  }

  /** The content, shared: callers must not mutate it. */
  view(): Uint8Array {
    this.shared = true;
    return this.bytes.subarray(0, this.size);
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    return end <= offset ? new Uint8Array(0) : this.bytes.slice(offset, end);
  }

  byteAt(offset: number): number {
    return this.bytes[offset];
  }

  write(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    this.own(Math.max(end, this.size));
    if (offset > this.size) this.bytes.fill(0, this.size, offset);
    this.bytes.set(data, offset);
    if (end > this.size) this.size = end;
  }

  /** Set the size; growing zero-fills (a hole), shrinking discards. */
  resize(length: number): void {
    if (length > this.size) {
      this.own(length);
      this.bytes.fill(0, this.size, length);
    }
    this.size = length;
  }

  flipBit(bitIndex: number): void {
    this.own(this.size);
    this.bytes[bitIndex >> 3] ^= 1 << (bitIndex & 7);
  }

  private own(capacity: number): void {
    if (!this.shared && capacity <= this.bytes.length) return;
    const grown = this.shared && capacity <= this.bytes.length ? this.bytes.length : Math.max(capacity, this.bytes.length * 2, 64);
    const next = new Uint8Array(grown);
    next.set(this.bytes.subarray(0, this.size));
    this.bytes = next;
    this.shared = false;
  }
}

type PendingOp =
  | { kind: 'write'; seq: number; offset: number; data: Uint8Array; atUs: number }
  | { kind: 'truncate'; seq: number; length: number; atUs: number };

function applyOp(image: ByteImage, op: PendingOp): void {
  if (op.kind === 'write') image.write(op.offset, op.data);
  else image.resize(op.length);
}

// ---------------------------------------------------------------------------------------------------
// Namespace

interface FileNode {
  kind: 'file';
  /** Last name it had, for reports. */
  path: string;
  /** What reads see: durable + pending applied in order. */
  cache: ByteImage;
  durable: ByteImage;
  /** Unflushed writes and truncates, in issue order (ascending seq). */
  pending: PendingOp[];
  /** Entries naming it in the live namespace (0: unlinked, its size no longer counts). */
  links: number;
}

interface DirNode {
  kind: 'dir';
  live: Map<string, Node>;
  durable: Map<string, Node>;
  /** Bumped on each live change; a syncDir applies the version it captured, never an older one. */
  version: number;
  durableVersion: number;
}

type Node = FileNode | DirNode;

function newDir(): DirNode {
  return { kind: 'dir', live: new Map(), durable: new Map(), version: 0, durableVersion: 0 };
}

interface ParsedPath {
  root: '/' | '.';
  parts: string[];
}

function parsePath(path: string): ParsedPath | undefined {
  const absolute = path.startsWith('/');
  const parts = path.split('/').filter((p) => p.length > 0 && p !== '.');
  if (parts.includes('..')) return undefined;
  return { root: absolute ? '/' : '.', parts };
}

function formatPath(root: '/' | '.', parts: readonly string[]): string {
  if (root === '/') return `/${parts.join('/')}`;
  return parts.length === 0 ? '.' : parts.join('/');
}

// ---------------------------------------------------------------------------------------------------
// Requests, lanes, device

/** An issued operation: its promise settles once, at completion, failure or crash. */
class Request<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  /** The completion event, while one is scheduled. */
  handle: EventHandle | undefined;
  /** Bytes of a write that has not reached the page cache yet (lost if the machine crashes). */
  writeBytesInFlight = 0;

  constructor(
    readonly kind: DiskOperationKind,
    readonly path: string,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

interface Lane {
  busy: boolean;
  queue: Array<() => void>;
}

interface Device {
  channelsFree: number[];
  waiting: Array<(channel: number) => void>;
  /** Where the previous device request ended, for seeks. */
  lastNode: Node | undefined;
  lastOffset: number;
}

// ---------------------------------------------------------------------------------------------------

export class SimDisk implements Disk {
  readonly description: string;
  readonly latency: LatencyModel;
  readonly faultLog: FaultLog;
  readonly sectorBytes: number;
  private readonly scheduler: Scheduler;
  private readonly latencyRandom: Random;
  private readonly crashRandom: Random;
  private readonly injector: FaultInjector;
  private readonly crashModelDefault: CrashModel;
  private readonly laneQueueDepthMax: number;
  private readonly deviceQueueDepthMax: number;

  private readonly roots: Record<'/' | '.', DirNode> = { '/': newDir(), '.': newDir() };
  /** Bumped by each crash: handles and requests of an older epoch are dead. */
  private epoch = 0;
  private writeSeq = 0;
  private usedBytes = 0;
  private readonly inflight = new Set<Request<unknown>>();
  private lanes = new Map<number, Lane>();
  private device: Device;
  private readonly listeners: Array<(op: DiskOperation) => void> = [];
  private lastCrashReport: CrashReport | undefined;
  private slab = new Uint8Array(0);
  private slabUsed = 0;
  /** The machine's process table, as far as directory locks go: directory -> its holder and the epoch it ran in. */
  private readonly dirLocks = new Map<string, { pid: number; epoch: number }>();
  private nextPid = SIM_PID_FIRST;

  private readonly counters = {
    operations: 0,
    writes: 0,
    writeBytes: 0,
    syncs: 0,
    writeAndSyncs: 0,
    bytesMadeDurable: 0,
    reads: 0,
    readBytes: 0,
    dirSyncs: 0,
    metadataOps: 0,
    crashes: 0,
    faultsInjected: 0,
  };
  private readonly laneStats = new Map<number, LaneStats>();
  private readonly channelBusyUs: number[];

  constructor(options: SimDiskOptions) {
    this.scheduler = options.scheduler;
    this.latency = latencyModel(options.latency ?? 'nvme');
    this.latencyRandom = options.random.fork();
    this.injector = new FaultInjector(faultConfig(options.faults), options.random.fork());
    this.crashRandom = options.random.fork();
    this.crashModelDefault = options.crashModel ?? 'lose-unflushed';
    this.sectorBytes = options.sectorBytes ?? 512;
    this.laneQueueDepthMax = options.laneQueueDepthMax ?? 65_536;
    this.deviceQueueDepthMax = options.deviceQueueDepthMax ?? 1_000_000;
    this.faultLog = new FaultLog(options.faultLogRecordsMax);
    this.description = `sim:${this.latency.name}`;
    this.device = this.newDevice();
    this.channelBusyUs = new Array<number>(Math.min(this.latency.channels, 1024)).fill(0);
    assert(Number.isInteger(this.sectorBytes) && this.sectorBytes > 0, `sectorBytes must be a positive integer`);
  }

  /** A disk whose durable and live state is `image` (a restart from a snapshot). Cheap: buffers are shared copy-on-write. */
  static fromSnapshot(image: DurableImage, options: SimDiskOptions): SimDisk {
    const disk = new SimDisk(options);
    const dirs = [...image.directories].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const dir of dirs) disk.restoreNode(dir, newDir());
    for (const [path, bytes] of [...image.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const durable = new ByteImage(bytes, bytes.length, true);
      const node: FileNode = { kind: 'file', path, durable, cache: durable.clone(), pending: [], links: 0 };
      disk.restoreNode(path, node);
    }
    disk.recountLinks();
    return disk;
  }

  // ---- observation and control (not part of Disk) ----

  /** The fault configuration in force; may be replaced between operations (e.g. to free space). */
  get faults(): FaultConfig {
    return this.injector.config;
  }

  set faults(config: FaultConfig) {
    this.injector.config = config;
  }

  /** Change the diskFull quota (Infinity: no quota), e.g. to let space "return". */
  setQuotaBytes(quotaBytes: number): void {
    const diskFull = { ...this.injector.config.diskFull, quotaBytes, enabled: Number.isFinite(quotaBytes) };
    if (diskFull.enabled && diskFull.probability === 0) diskFull.probability = 1;
    this.injector.config = { ...this.injector.config, diskFull };
  }

  /** Operations issued so far (the index the next one will get). */
  get operationCount(): number {
    return this.counters.operations;
  }

  /** The report of the most recent crash, if any. */
  get lastCrash(): CrashReport | undefined {
    return this.lastCrashReport;
  }

  /** Called as each operation is issued, before it has any effect; crash() from here cuts power there. */
  onOperation(listener: (op: DiskOperation) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  stats(): SimDiskStats {
    return {
      ...this.counters,
      usedBytes: this.usedBytes,
      lanes: [...this.laneStats.values()].sort((a, b) => a.lane - b.lane).map((s) => ({ ...s })),
      channelBusyUs: [...this.channelBusyUs],
    };
  }

  /** The durable image: what a crash with 'lose-unflushed' would leave. O(files): buffers are shared. */
  snapshotDurable(): DurableImage {
    return this.snapshot('durable');
  }

  /** What reads currently see (the page cache and the live namespace). */
  snapshotLive(): DurableImage {
    return this.snapshot('live');
  }

  /** Flip one bit of a file's durable bytes (and of what reads see, if that byte is not rewritten). */
  injectBitFlip(path: string, bitIndex?: number): FaultRecord {
    const node = this.lookup(path, 'live');
    assert(node !== undefined && node.kind === 'file', `injectBitFlip: no file "${path}"`);
    assert(node.durable.size > 0, `injectBitFlip: "${path}" has no durable bytes`);
    const bit = bitIndex ?? this.injector.bitIndex(node.durable.size);
    assert(bit >= 0 && bit < node.durable.size * 8, `injectBitFlip: bit ${bit} outside "${path}"`);
    return this.flipDurableBit(node, path, bit);
  }

  /**
   * Damage at rest (after a crash, before the restart): cut a file's durable bytes to `length`. The
   * file must have no unflushed writes. Logged as 'fileTruncated'.
   */
  injectTruncate(path: string, length: number): FaultRecord {
    const node = this.restingFile(path, 'injectTruncate');
    const before = node.durable.size;
    assert(Number.isInteger(length) && length >= 0 && length <= before, `injectTruncate: length ${length} outside [0, ${before}] of "${path}"`);
    node.durable.resize(length);
    this.resetCache(node, before);
    return this.log(this.scheduler.nowUs, path, 'fileTruncated', `truncated from ${before} to ${length} bytes`);
  }

  /** Damage at rest: zeros over the durable bytes [from, to) of a file (its size kept). Logged as 'fileZeroed'. */
  injectZero(path: string, from: number, to: number): FaultRecord {
    const node = this.restingFile(path, 'injectZero');
    const before = node.durable.size;
    assert(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= before, `injectZero: [${from}, ${to}) outside [0, ${before}] of "${path}"`);
    node.durable.write(from, new Uint8Array(to - from));
    this.resetCache(node, before);
    return this.log(this.scheduler.nowUs, path, 'fileZeroed', `bytes [${from}, ${to}) zeroed`);
  }

  /** Damage at rest: the file's entry is gone, durably (as if removed and the directory synced). Logged as 'fileRemoved'. */
  injectRemove(path: string): FaultRecord {
    const node = this.restingFile(path, 'injectRemove');
    const { dir, name } = this.parentOf(path, 'unlink');
    const size = node.durable.size;
    this.deleteEntry(dir, name);
    dir.durable.delete(name);
    this.recountLinks();
    return this.log(this.scheduler.nowUs, path, 'fileRemoved', `removed (${size} durable bytes)`);
  }

  private restingFile(path: string, what: string): FileNode {
    const node = this.lookup(path, 'live');
    assert(node !== undefined && node.kind === 'file', `${what}: no file "${path}"`);
    assert(node.pending.length === 0, `${what}: "${path}" has unflushed writes (damage at rest comes after a crash)`);
    return node;
  }

  /** Reads see the durable bytes again (no pending operations). */
  private resetCache(node: FileNode, sizeBefore: number): void {
    node.cache = node.durable.clone();
    this.accountResize(node, sizeBefore);
  }

  // ---- Disk ----

  async open(path: string, options: { create?: boolean } = {}): Promise<DiskFile> {
    const create = options.create === true;
    const req = this.begin<DiskFile>('open', path, create);
    this.metadataLater(req, () => {
      const found = this.lookup(path, 'live');
      if (found?.kind === 'dir') throw simIoError('EISDIR', 'open', path);
      if (found !== undefined) return this.makeFile(found, path);
      if (!create) throw simIoError('ENOENT', 'open', path);
      const { dir, name } = this.parentOf(path, 'open');
      const node: FileNode = { kind: 'file', path, cache: ByteImage.empty(), durable: ByteImage.empty(), pending: [], links: 1 };
      this.setEntry(dir, name, node);
      return this.makeFile(node, path);
    });
    return req.promise;
  }

  async readFile(path: string): Promise<Uint8Array> {
    const req = this.begin<Uint8Array>('readFile', path, false);
    const node = this.lookup(path, 'live');
    if (node === undefined) return this.failNow(req, simIoError('ENOENT', 'open', path));
    if (node.kind === 'dir') return this.failNow(req, simIoError('EISDIR', 'read', path));
    this.deviceRead(req, node, 0, node.cache.size, () => node.cache.read(0, node.cache.size));
    return req.promise;
  }

  async list(dir: string): Promise<string[]> {
    const req = this.begin<string[]>('list', dir, false);
    this.metadataLater(req, () => {
      const node = this.lookup(dir, 'live');
      if (node === undefined) throw simIoError('ENOENT', 'scandir', dir);
      if (node.kind !== 'dir') throw simIoError('ENOTDIR', 'scandir', dir);
      return [...node.live.keys()].sort();
    });
    return req.promise;
  }

  async mkdirp(dir: string): Promise<void> {
    const req = this.begin<void>('mkdirp', dir, true);
    this.metadataLater(req, () => {
      const parsed = this.parse(dir, 'mkdir');
      let node: DirNode = this.roots[parsed.root];
      for (let i = 0; i < parsed.parts.length; i++) {
        const name = parsed.parts[i];
        const next = node.live.get(name);
        if (next === undefined) {
          const created = newDir();
          this.setEntry(node, name, created);
          node = created;
        } else if (next.kind === 'dir') {
          node = next;
        } else {
          const at = formatPath(parsed.root, parsed.parts.slice(0, i + 1));
          throw simIoError(i === parsed.parts.length - 1 ? 'EEXIST' : 'ENOTDIR', 'mkdir', dir, `"${at}" is a file`);
        }
      }
    });
    return req.promise;
  }

  async exists(path: string): Promise<boolean> {
    const req = this.begin<boolean>('exists', path, false);
    this.metadataLater(req, () => this.lookup(path, 'live') !== undefined);
    return req.promise;
  }

  async rename(from: string, to: string): Promise<void> {
    const req = this.begin<void>('rename', `${from} -> ${to}`, true);
    this.metadataLater(req, () => this.renameNow(from, to));
    return req.promise;
  }

  async remove(path: string): Promise<void> {
    const req = this.begin<void>('remove', path, true);
    this.metadataLater(req, () => {
      const parsed = this.parse(path, 'rm');
      if (parsed.parts.length === 0) throw simIoError('EINVAL', 'rm', path, 'cannot remove a root directory');
      const parent = this.lookupParsed(parsed.root, parsed.parts.slice(0, -1), 'live');
      if (parent?.kind !== 'dir') return;
      const name = parsed.parts[parsed.parts.length - 1];
      const node = parent.live.get(name);
      if (node === undefined) return;
      this.deleteEntry(parent, name);
      this.unlinkTree(node);
    });
    return req.promise;
  }

  async syncDir(dir: string): Promise<void> {
    const req = this.begin<void>('syncDir', dir, true);
    const node = this.lookup(dir, 'live');
    if (node === undefined) return this.failNow(req, simIoError('ENOENT', 'open', dir));
    if (node.kind !== 'dir') return this.failNow(req, simIoError('ENOTDIR', 'fsync', dir));
    const version = node.version;
    const entries = new Map(node.live);
    this.counters.dirSyncs++;
    this.onChannel(req, (channel, started) => {
      const durationUs = sampleUs(this.latency.dirSyncUs, this.latencyRandom) + this.seekUs(node, 0);
      this.later(req, durationUs, 'disk.syncDir', () => {
        this.releaseChannel(channel, started);
        if (version > node.durableVersion) {
          node.durable = entries;
          node.durableVersion = version;
        }
        this.finish(req, undefined);
      });
    });
    return req.promise;
  }

  /**
   * A simulated process takes the directory: refused while a holder of this epoch has it (two
   * engines on one machine); a holder of an earlier epoch died in a crash, so its lock is stale and
   * taken over. The lock file is written like any file (not synced: after a crash it may be lost or
   * cut, which is fine, every lock file from before a crash being stale).
   */
  async lockDirectory(dir: string): Promise<DirectoryLock> {
    const key = this.lockKey(dir);
    const held = this.dirLocks.get(key);
    if (held !== undefined && held.epoch === this.epoch) throw new DirectoryLockedError(dir, { pid: held.pid, thisProcess: false });
    const holder = { pid: this.nextPid++, epoch: this.epoch };
    this.dirLocks.set(key, holder); // before any await: the process table is the kernel's, and atomic
    const file = lockFilePath(key);
    try {
      const f = await this.open(file, { create: true });
      try {
        await f.truncate(0);
        await f.write(0, encodeLockFile({ pid: holder.pid, token: `sim epoch ${holder.epoch}`, dir: key }));
      } finally {
        await f.close();
      }
    } catch (e) {
      if (this.dirLocks.get(key) === holder) this.dirLocks.delete(key);
      throw e;
    }
    // A crash since (a later epoch) killed the holder: it can do nothing any more, not even remove its file.
    const alive = (): boolean => this.dirLocks.get(key) === holder && holder.epoch === this.epoch;
    return {
      dir,
      pid: holder.pid,
      release: async () => {
        if (!alive()) return;
        this.dirLocks.delete(key);
        await this.remove(file).catch(() => undefined);
      },
      abandon: () => {
        if (alive()) this.dirLocks.delete(key);
      },
    };
  }

  async directoryLockHolder(dir: string): Promise<DirectoryLockHolder | undefined> {
    const held = this.dirLocks.get(this.lockKey(dir));
    return held !== undefined && held.epoch === this.epoch ? { pid: held.pid, thisProcess: false } : undefined;
  }

  /** Nothing to release: lanes and channels are bookkeeping, not threads. */
  async close(): Promise<void> {}

  // ---- DiskFile operations ----

  private makeFile(node: FileNode, path: string): DiskFile {
    const h: Handle = { node, path, epoch: this.epoch, closed: false };
    return {
      path,
      size: () => this.fileSize(h),
      read: (offset, length) => this.fileRead(h, offset, length),
      write: (offset, data) => this.fileWrite(h, offset, data),
      sync: () => this.fileSync(h),
      writeAndSync: (offset, data, lane) => this.fileWriteAndSync(h, offset, data, lane),
      truncate: (length) => this.fileTruncate(h, length),
      close: () => this.fileClose(h),
    };
  }

  private fileSize(file: Handle): Promise<number> {
    const req = this.beginFile<number>(file, 'size', false);
    if (req === undefined) return this.badHandle(file, 'fstat');
    this.metadataLater(req, () => file.node.cache.size);
    return req.promise;
  }

  private fileRead(file: Handle, offset: number, length: number): Promise<Uint8Array> {
    if (!validRange(offset, length)) return Promise.reject(simIoError('EINVAL', 'read', file.path, `offset ${offset}, length ${length}`));
    const req = this.beginFile<Uint8Array>(file, 'read', false);
    if (req === undefined) return this.badHandle(file, 'read');
    const node = file.node;
    const bytes = Math.max(0, Math.min(length, node.cache.size - offset));
    this.deviceRead(req, node, offset, bytes, () => node.cache.read(offset, length));
    return req.promise;
  }

  private fileWrite(file: Handle, offset: number, data: Uint8Array): Promise<void> {
    if (!validRange(offset, data.length)) return Promise.reject(simIoError('EINVAL', 'write', file.path, `offset ${offset}`));
    const req = this.beginFile<void>(file, 'write', true);
    if (req === undefined) return this.badHandle(file, 'write');
    const copy = this.copyBytes(data);
    const durationUs = sampleUs(this.latency.writeUs, this.latencyRandom) + transferUs(copy.length, this.latency.writeBytesPerUs);
    req.writeBytesInFlight = copy.length;
    this.later(req, durationUs, 'disk.write', () => {
      req.writeBytesInFlight = 0;
      if (this.applyWrite(req, file, offset, copy)) this.finish(req, undefined);
    });
    return req.promise;
  }

  private fileSync(file: Handle): Promise<void> {
    const req = this.beginFile<void>(file, 'sync', true);
    if (req === undefined) return this.badHandle(file, 'fdatasync');
    this.counters.syncs++;
    this.flush(req, file, this.writeSeq, 0, () => this.finish(req, undefined));
    return req.promise;
  }

  private fileWriteAndSync(file: Handle, offset: number, data: Uint8Array, lane: number | undefined): Promise<void> {
    if (!validRange(offset, data.length)) return Promise.reject(simIoError('EINVAL', 'write', file.path, `offset ${offset}`));
    if (!(lane === undefined || (Number.isInteger(lane) && lane >= 0 && lane < LANES_MAX))) {
      assert(false, `writeAndSync: lane must be an integer in [0, ${LANES_MAX}), got ${lane}`);
    }
    const req = this.beginFile<void>(file, 'writeAndSync', true);
    if (req === undefined) return this.badHandle(file, 'write');
    this.counters.writeAndSyncs++;
    const copy = this.copyBytes(data);
    // One device request: the page-cache copy lands when the request starts (reads and crashes see
    // it from then on); its cost precedes the flush unless the request already waited that long.
    const run = (done: () => void): void => {
      const writeUs = sampleUs(this.latency.writeUs, this.latencyRandom) + transferUs(copy.length, this.latency.writeBytesPerUs);
      if (!this.applyWrite(req, file, offset, copy)) {
        done();
        return;
      }
      const next = (): void => {
        done();
        this.finish(req, undefined);
      };
      this.flush(req, file, this.writeSeq, writeUs, next, done);
    };
    if (!this.inflight.has(req as Request<unknown>)) return req.promise; // crashed in an operation hook
    if (lane === undefined) run(() => {});
    else this.onLane(lane, run);
    return req.promise;
  }

  private fileTruncate(file: Handle, length: number): Promise<void> {
    if (!validRange(length, 0)) return Promise.reject(simIoError('EINVAL', 'ftruncate', file.path, `length ${length}`));
    const req = this.beginFile<void>(file, 'truncate', true);
    if (req === undefined) return this.badHandle(file, 'ftruncate');
    this.metadataLater(req, () => {
      const node = file.node;
      const op: PendingOp = { kind: 'truncate', seq: this.writeSeq++, length, atUs: this.scheduler.nowUs };
      const before = node.cache.size;
      applyOp(node.cache, op);
      node.pending.push(op);
      this.accountResize(node, before);
    });
    return req.promise;
  }

  private fileClose(file: Handle): Promise<void> {
    const req = this.beginFile<void>(file, 'close', false);
    if (req === undefined) return Promise.resolve(); // closing twice, or after a crash: nothing to do
    file.closed = true;
    this.metadataLater(req, () => undefined);
    return req.promise;
  }

  // ---- crash ----

  /**
   * Power loss: in-flight requests are aborted (EBADF), every open handle dies, unflushed writes
   * survive only as `model` (or an overriding fault) allows, directory entries revert to their
   * durable state, then the disk is usable again. Synchronous: it is an instant in virtual time.
   */
  crash(model: CrashModel = this.crashModelDefault): CrashReport {
    const atUs = this.scheduler.nowUs;
    const logStart = this.faultLog.records.length;
    this.epoch++;
    this.counters.crashes++;
    const { aborted, inflightWriteBytesLost } = this.abortInflight();
    this.lanes = new Map();
    this.device = this.newDevice();

    const durableFiles = collectFiles(this.roots, 'durable');
    const liveFiles = collectFiles(this.roots, 'live');
    const files: CrashFileReport[] = [];
    for (const [node, path] of durableFiles) {
      if (node.pending.length > 0) files.push(this.crashFile(node, path, model, atUs));
    }
    for (const [node, path] of liveFiles) {
      if (durableFiles.has(node)) continue;
      const written = node.pending.reduce((n, op) => n + (op.kind === 'write' ? op.data.length : 0), 0) + node.durable.size;
      files.push({ path, fate: 'entry-lost', cause: 'directory-entry-not-synced', writes: [], bytesLost: written, bytesKept: 0 });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const directoryEntriesReverted = this.revertDirectories();
    for (const [node, path] of durableFiles) {
      if (this.injector.bitFlip(path, node.durable.size)) this.flipDurableBit(node, path, this.injector.bitIndex(node.durable.size));
    }
    for (const node of durableFiles.keys()) {
      node.pending = [];
      node.cache = node.durable.clone();
    }
    this.recountLinks();

    const report: CrashReport = {
      atUs,
      model,
      files,
      bytesLost: files.reduce((n, f) => n + f.bytesLost, 0) + inflightWriteBytesLost,
      bytesKept: files.reduce((n, f) => n + f.bytesKept, 0),
      inflightRequestsAborted: aborted,
      inflightWriteBytesLost,
      directoryEntriesReverted,
      faults: [],
    };
    this.log(atUs, '*', 'crash', `model ${model}: ${report.bytesLost} unflushed bytes lost, ${report.bytesKept} kept, ${aborted} requests aborted, ${directoryEntriesReverted.length} directory entries reverted`);
    report.faults = this.faultLog.records.slice(logStart);
    this.lastCrashReport = report;
    return report;
  }

  private abortInflight(): { aborted: number; inflightWriteBytesLost: number } {
    const requests = [...this.inflight];
    this.inflight.clear();
    let inflightWriteBytesLost = 0;
    for (const req of requests) {
      req.handle?.cancel();
      req.handle = undefined;
      inflightWriteBytesLost += req.writeBytesInFlight;
      req.reject(simIoError('EBADF', req.kind, req.path, 'the simulated machine crashed while this request was in flight'));
    }
    return { aborted: requests.length, inflightWriteBytesLost };
  }

  /** Decide and apply one file's crash outcome; returns its report and logs it. */
  private crashFile(node: FileNode, path: string, model: CrashModel, atUs: number): CrashFileReport {
    const hasWrites = node.pending.some((op) => op.kind === 'write');
    const fault = this.injector.crashFileFault(hasWrites, node.cache.size > node.durable.size);
    const fate: CrashFate =
      fault === 'lostUnflushedTail'
        ? 'lost'
        : fault === 'tornWrite'
          ? 'torn'
          : fault === 'zeroFilledTail'
            ? 'zero-filled'
            : model === 'lose-unflushed'
              ? 'lost'
              : model === 'keep-prefix'
                ? 'prefix'
                : model;
    const outcome = survive(node.durable, node.pending, node.cache.size, fate, this.crashRandom, this.sectorBytes);
    const before = node.durable.size;
    this.counters.bytesMadeDurable += outcome.bytesKept;
    node.durable = outcome.image;
    const report: CrashFileReport = { path, fate: outcome.fate, cause: fault ?? model, writes: outcome.writes, bytesLost: outcome.bytesLost, bytesKept: outcome.bytesKept };
    const kept = outcome.writes.filter((w) => w.keptBytes === w.length).length;
    const partial = outcome.writes.filter((w) => w.keptBytes > 0 && w.keptBytes < w.length).map((w) => `#${w.index} kept ${w.keptBytes}/${w.length} bytes`);
    const detail =
      `${outcome.fate}: ${kept} of ${outcome.writes.length} unflushed writes kept whole` +
      (partial.length > 0 ? `, ${partial.join(', ')}` : '') +
      `; ${outcome.bytesLost} bytes lost; durable size ${before} -> ${node.durable.size}`;
    this.log(atUs, path, fault ?? 'crash', detail);
    return report;
  }

  /** Every directory takes back its durable entries; reports what changed. */
  private revertDirectories(): string[] {
    const reverted: string[] = [];
    const visit = (dir: DirNode, root: '/' | '.', parts: string[], depthLeft: number): void => {
      assert(depthLeft > 0, 'directory tree deeper than 4096 levels');
      for (const [name, node] of [...dir.live].sort(byName)) {
        if (dir.durable.get(name) !== node) reverted.push(`lost ${formatPath(root, [...parts, name])}`);
      }
      for (const [name, node] of [...dir.durable].sort(byName)) {
        if (dir.live.get(name) !== node) reverted.push(`restored ${formatPath(root, [...parts, name])}`);
      }
      dir.live = new Map(dir.durable);
      dir.version = dir.durableVersion;
      for (const [name, node] of [...dir.durable].sort(byName)) {
        if (node.kind === 'dir') visit(node, root, [...parts, name], depthLeft - 1);
      }
    };
    visit(this.roots['/'], '/', [], 4096);
    visit(this.roots['.'], '.', [], 4096);
    return reverted;
  }

  private flipDurableBit(node: FileNode, path: string, bitIndex: number): FaultRecord {
    const byte = bitIndex >> 3;
    const before = node.durable.byteAt(byte);
    node.durable.flipBit(bitIndex);
    // Reads see the flip too unless a later write covers that byte.
    if (byte < node.cache.size) {
      const covered = node.pending.some((op) => op.kind === 'write' && op.offset <= byte && byte < op.offset + op.data.length);
      if (!covered) node.cache.flipBit(bitIndex);
    }
    return this.log(this.scheduler.nowUs, path, 'bitFlip', `bit ${bitIndex & 7} of byte ${byte} flipped (0x${hex(before)} -> 0x${hex(node.durable.byteAt(byte))})`);
  }

  // ---- internals: operations ----

  /** A private copy of a caller's buffer (it may reuse it once the call returns); small ones share slabs. */
  private copyBytes(data: Uint8Array): Uint8Array {
    if (data.length > COPY_SLAB_BYTES / 16) return data.slice();
    if (this.slabUsed + data.length > this.slab.length) {
      this.slab = new Uint8Array(COPY_SLAB_BYTES);
      this.slabUsed = 0;
    }
    const copy = this.slab.subarray(this.slabUsed, this.slabUsed + data.length);
    copy.set(data);
    this.slabUsed += data.length;
    return copy;
  }

  private begin<T>(kind: DiskOperationKind, path: string, mutating: boolean): Request<T> {
    const index = this.counters.operations++;
    const epoch = this.epoch;
    if (this.injector.crashBefore(index)) {
      const model = this.injector.config.crashBetweenSteps.model;
      this.log(this.scheduler.nowUs, path, 'crashBetweenSteps', `crash (${model}) before operation #${index} (${kind})`);
      this.crash(model);
    }
    if (this.listeners.length > 0) {
      const op: DiskOperation = { index, kind, path, mutating, atUs: this.scheduler.nowUs };
      for (const listener of [...this.listeners]) listener(op);
    }
    const req = new Request<T>(kind, path);
    if (this.epoch !== epoch) {
      req.reject(simIoError('EBADF', kind, path, `the simulated machine crashed before operation #${index}`));
    } else {
      this.inflight.add(req as Request<unknown>);
    }
    return req;
  }

  /** Begin a handle operation, or undefined if the handle is closed or from before a crash. */
  private beginFile<T>(file: Handle, kind: DiskOperationKind, mutating: boolean): Request<T> | undefined {
    if (file.closed || file.epoch !== this.epoch) return undefined;
    const req = this.begin<T>(kind, file.path, mutating);
    return req;
  }

  private badHandle<T>(file: Handle, syscall: string): Promise<T> {
    const why = file.closed ? 'the file was closed' : 'the handle was opened before the simulated crash';
    return Promise.reject(simIoError('EBADF', syscall, file.path, why));
  }

  private finish<T>(req: Request<T>, value: T): void {
    if (!this.inflight.delete(req as Request<unknown>)) return;
    req.resolve(value);
  }

  private fail<T>(req: Request<T>, error: unknown): void {
    if (!this.inflight.delete(req as Request<unknown>)) return;
    req.reject(error);
  }

  private failNow<T>(req: Request<T>, error: unknown): Promise<T> {
    this.fail(req, error);
    return req.promise;
  }

  /** Schedule `fn` after `delayUs` for a live request; stale events (after a crash) do nothing. */
  private later<T>(req: Request<T>, delayUs: number, label: string, fn: () => void): void {
    if (!this.inflight.has(req as Request<unknown>)) return; // already failed (crash in a hook)
    const epoch = this.epoch;
    req.handle = this.scheduler.after(delayUs, () => {
      req.handle = undefined;
      if (epoch !== this.epoch) return;
      fn();
    }, label);
  }

  /** A metadata operation: `effect` runs at completion; its value resolves, its throw rejects. */
  private metadataLater<T>(req: Request<T>, effect: () => T): void {
    this.counters.metadataOps++;
    this.later(req, sampleUs(this.latency.metadataUs, this.latencyRandom), `disk.${req.kind}`, () => {
      let value: T;
      try {
        value = effect();
      } catch (e) {
        this.fail(req, e);
        return;
      }
      this.finish(req, value);
    });
  }

  /** write() into the page cache, then `next` (or `onError` after rejecting the request). */
  /** Copy `data` into the page cache now, or reject with ENOSPC (diskFull) and return false. */
  private applyWrite(req: Request<void>, file: Handle, offset: number, data: Uint8Array): boolean {
    const node = file.node;
    const growth = Math.max(0, offset + data.length - node.cache.size);
    if (node.links > 0 && this.injector.diskFull(this.usedBytes, growth)) {
      const quota = this.injector.config.diskFull.quotaBytes;
      // A short write, as write(2) makes one: what fits lands in the page cache (the bytes over the
      // file's current end up to the quota, in whole sectors), then ENOSPC. Nothing is durable yet.
      const fits = Math.max(0, node.cache.size - offset) + Math.max(0, Math.floor((quota - this.usedBytes) / this.sectorBytes) * this.sectorBytes);
      const landed = Math.min(data.length, Math.max(0, fits));
      if (landed > 0) this.applyPendingWrite(node, offset, data.subarray(0, landed));
      this.log(this.scheduler.nowUs, file.path, 'diskFull', `write of ${data.length} bytes at offset ${offset} refused after ${landed} bytes landed: ${this.usedBytes} + ${growth} bytes > quota ${quota}`);
      this.fail(req, simIoError('ENOSPC', 'write', file.path, `quota ${quota} bytes, used ${this.usedBytes}`));
      return false;
    }
    this.applyPendingWrite(node, offset, data);
    return true;
  }

  private applyPendingWrite(node: FileNode, offset: number, data: Uint8Array): void {
    const op: PendingOp = { kind: 'write', seq: this.writeSeq++, offset, data, atUs: this.scheduler.nowUs };
    const before = node.cache.size;
    node.cache.write(offset, data);
    node.pending.push(op);
    this.accountResize(node, before);
    this.counters.writes++;
    this.counters.writeBytes += data.length;
  }

  /**
   * fdatasync: on a device channel, make the file's pending operations with seq < coverSeq durable,
   * or (fsyncgate) drop them and reject with EIO. Then `next`, or `onError` after rejecting.
   * `leadUs`: work the request must do before it can use the device, overlapping any wait for it.
   */
  private flush(req: Request<void>, file: Handle, coverSeq: number, leadUs: number, next: () => void, onError?: () => void): void {
    const node = file.node;
    const issuedUs = this.scheduler.nowUs;
    this.onChannel(req, (channel, started) => {
      const dirty = node.pending.filter((op) => op.seq < coverSeq);
      const dirtyBytes = dirty.reduce((n, op) => n + (op.kind === 'write' ? op.data.length : 0), 0);
      let durationUs = Math.max(0, leadUs - (started - issuedUs));
      if (dirty.length === 0) {
        durationUs += sampleUs(this.latency.flushCleanUs, this.latencyRandom);
      } else {
        const sizeAfter = sizeAfterOps(node.durable.size, dirty);
        const firstOffset = dirty.reduce((m, op) => Math.min(m, op.kind === 'write' ? op.offset : m), Number.POSITIVE_INFINITY);
        durationUs +=
          sampleUs(this.latency.flushUs, this.latencyRandom) +
          (sizeAfter !== node.durable.size ? sampleUs(this.latency.flushExtendUs, this.latencyRandom) : 0) +
          transferUs(dirtyBytes, this.latency.flushBytesPerUs) +
          this.seekUs(node, Number.isFinite(firstOffset) ? firstOffset : 0);
        this.device.lastOffset = sizeAfter;
      }
      this.later(req, durationUs, 'disk.sync', () => {
        this.releaseChannel(channel, started);
        const covered = node.pending.filter((op) => op.seq < coverSeq);
        if (covered.length > 0 && this.injector.fsyncFails()) {
          this.dropDirty(node, file.path, coverSeq, covered);
          this.fail(req, simIoError('EIO', 'fdatasync', file.path, 'writeback failed; the dirty pages were dropped'));
          onError?.();
          return;
        }
        for (const op of covered) {
          applyOp(node.durable, op);
          if (op.kind === 'write') this.counters.bytesMadeDurable += op.data.length;
        }
        node.pending = node.pending.filter((op) => op.seq >= coverSeq);
        next();
      });
    }, onError);
  }

  /** fsyncgate: the covered operations vanish; reads go back to durable + the later operations. */
  private dropDirty(node: FileNode, path: string, coverSeq: number, dropped: PendingOp[]): void {
    const before = node.cache.size;
    node.pending = node.pending.filter((op) => op.seq >= coverSeq);
    node.cache = node.durable.clone();
    for (const op of node.pending) applyOp(node.cache, op);
    this.accountResize(node, before);
    const bytes = dropped.reduce((n, op) => n + (op.kind === 'write' ? op.data.length : 0), 0);
    const ranges = dropped.map((op) => (op.kind === 'write' ? `[${op.offset}, ${op.offset + op.data.length})` : `truncate ${op.length}`));
    this.log(this.scheduler.nowUs, path, 'fsyncFailureDropsDirtyPages', `fdatasync failed with EIO; ${dropped.length} dirty operations (${bytes} bytes) dropped: ${ranges.join(' ')}`);
  }

  /** A device read of `bytes` at `offset`; `value` runs at completion. */
  private deviceRead(req: Request<Uint8Array>, node: FileNode, offset: number, bytes: number, value: () => Uint8Array): void {
    this.onChannel(req, (channel, started) => {
      const durationUs = sampleUs(this.latency.readUs, this.latencyRandom) + transferUs(bytes, this.latency.readBytesPerUs) + this.seekUs(node, offset);
      this.device.lastOffset = offset + bytes;
      this.later(req, durationUs, 'disk.read', () => {
        this.releaseChannel(channel, started);
        const data = value();
        this.counters.reads++;
        this.counters.readBytes += data.length;
        this.finish(req, data);
      });
    });
  }

  private seekUs(node: Node, offset: number): number {
    const sequential = this.device.lastNode === node && this.device.lastOffset === offset;
    this.device.lastNode = node;
    this.device.lastOffset = offset;
    return sequential ? 0 : sampleUs(this.latency.seekUs, this.latencyRandom);
  }

  // ---- internals: lanes and channels ----

  private newDevice(): Device {
    const channels = Math.min(this.latency.channels, 1024);
    return { channelsFree: Array.from({ length: channels }, (_, i) => channels - 1 - i), waiting: [], lastNode: undefined, lastOffset: 0 };
  }

  /** Run `start` once a device channel is free (FIFO). */
  private onChannel<T>(req: Request<T>, start: (channel: number, startedUs: number) => void, onError?: () => void): void {
    if (!this.inflight.has(req as Request<unknown>)) {
      onError?.();
      return;
    }
    const device = this.device;
    const channel = device.channelsFree.pop();
    if (channel !== undefined) {
      start(channel, this.scheduler.nowUs);
      return;
    }
    if (device.waiting.length >= this.deviceQueueDepthMax) assert(false, `device queue full (deviceQueueDepthMax = ${this.deviceQueueDepthMax})`);
    device.waiting.push((c) => start(c, this.scheduler.nowUs));
  }

  private releaseChannel(channel: number, startedUs: number): void {
    this.channelBusyUs[channel] += this.scheduler.nowUs - startedUs;
    const next = this.device.waiting.shift();
    if (next !== undefined) next(channel);
    else this.device.channelsFree.push(channel);
  }

  /** Serialize `run` behind earlier requests of the same lane; `run` calls `done` exactly once. */
  private onLane(laneId: number, run: (done: () => void) => void): void {
    let lane = this.lanes.get(laneId);
    if (lane === undefined) {
      lane = { busy: false, queue: [] };
      this.lanes.set(laneId, lane);
    }
    let stats = this.laneStats.get(laneId);
    if (stats === undefined) {
      stats = { lane: laneId, requests: 0, busyUs: 0, queueDepthMax: 0 };
      this.laneStats.set(laneId, stats);
    }
    const laneNow = lane;
    const statsNow = stats;
    const epoch = this.epoch;
    const task = (): void => {
      statsNow.requests++;
      const startedUs = this.scheduler.nowUs;
      let released = false;
      run(() => {
        if (released || epoch !== this.epoch) return;
        released = true;
        statsNow.busyUs += this.scheduler.nowUs - startedUs;
        const next = laneNow.queue.shift();
        if (next !== undefined) next();
        else laneNow.busy = false;
      });
    };
    if (!lane.busy) {
      lane.busy = true;
      task();
      return;
    }
    if (lane.queue.length >= this.laneQueueDepthMax) assert(false, `lane ${laneId} queue full (laneQueueDepthMax = ${this.laneQueueDepthMax})`);
    lane.queue.push(task);
    statsNow.queueDepthMax = Math.max(statsNow.queueDepthMax, lane.queue.length);
  }

  // ---- internals: namespace ----

  /** One spelling per directory ("/db/" and "/db" are one lock). */
  private lockKey(dir: string): string {
    const parsed = this.parse(dir, 'lock');
    return formatPath(parsed.root, parsed.parts);
  }

  private parse(path: string, syscall: string): ParsedPath {
    const parsed = parsePath(path);
    if (parsed === undefined) throw simIoError('EINVAL', syscall, path, '".." is not supported');
    return parsed;
  }

  private lookupParsed(root: '/' | '.', parts: readonly string[], view: 'live' | 'durable'): Node | undefined {
    let node: Node = this.roots[root];
    for (const name of parts) {
      if (node.kind !== 'dir') return undefined;
      const next: Node | undefined = node[view].get(name);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  private lookup(path: string, view: 'live' | 'durable'): Node | undefined {
    const parsed = parsePath(path);
    return parsed === undefined ? undefined : this.lookupParsed(parsed.root, parsed.parts, view);
  }

  /** The live parent directory of `path` and the last name; ENOENT/ENOTDIR/EINVAL otherwise. */
  private parentOf(path: string, syscall: string): { dir: DirNode; name: string } {
    const parsed = this.parse(path, syscall);
    if (parsed.parts.length === 0) throw simIoError('EINVAL', syscall, path, 'a root directory has no parent');
    const parent = this.lookupParsed(parsed.root, parsed.parts.slice(0, -1), 'live');
    if (parent === undefined) throw simIoError('ENOENT', syscall, path, 'parent directory does not exist');
    if (parent.kind !== 'dir') throw simIoError('ENOTDIR', syscall, path, 'parent is a file');
    return { dir: parent, name: parsed.parts[parsed.parts.length - 1] };
  }

  private setEntry(dir: DirNode, name: string, node: Node): void {
    dir.live.set(name, node);
    dir.version++;
  }

  private deleteEntry(dir: DirNode, name: string): void {
    dir.live.delete(name);
    dir.version++;
  }

  private renameNow(from: string, to: string): void {
    const source = this.parentOf(from, 'rename');
    const node = source.dir.live.get(source.name);
    if (node === undefined) throw simIoError('ENOENT', 'rename', from, `rename to '${to}'`);
    const target = this.parentOf(to, 'rename');
    const replaced = target.dir.live.get(target.name);
    if (replaced === node) return;
    if (replaced !== undefined) {
      if (node.kind === 'file' && replaced.kind === 'dir') throw simIoError('EISDIR', 'rename', to, `rename from '${from}'`);
      if (node.kind === 'dir' && replaced.kind === 'file') throw simIoError('ENOTDIR', 'rename', to, `rename from '${from}'`);
      if (replaced.kind === 'dir' && replaced.live.size > 0) throw simIoError('ENOTEMPTY', 'rename', to, `rename from '${from}'`);
    }
    if (node.kind === 'dir' && (node === target.dir || containsDir(node, target.dir))) {
      throw simIoError('EINVAL', 'rename', from, `cannot move a directory into itself ('${to}')`);
    }
    this.deleteEntry(source.dir, source.name);
    this.setEntry(target.dir, target.name, node);
    if (node.kind === 'file') node.path = to;
    if (replaced !== undefined) this.unlinkTree(replaced);
  }

  /** A node left the live namespace: its files stop counting against the quota. */
  private unlinkTree(node: Node): void {
    if (node.kind === 'file') {
      node.links--;
      if (node.links === 0) this.usedBytes -= node.cache.size;
      return;
    }
    for (const [node2] of collectFilesUnder(node)) {
      node2.links--;
      if (node2.links === 0) this.usedBytes -= node2.cache.size;
    }
  }

  private accountResize(node: FileNode, sizeBefore: number): void {
    if (node.links > 0) this.usedBytes += node.cache.size - sizeBefore;
  }

  /** Recompute links and used bytes from the live namespace (after a crash or a restore). */
  private recountLinks(): void {
    let used = 0;
    for (const [node, count] of countLinks(this.roots)) {
      node.links = count;
      used += node.cache.size;
    }
    this.usedBytes = used;
  }

  private restoreNode(path: string, node: Node): void {
    const parsed = parsePath(path);
    assert(parsed !== undefined && parsed.parts.length > 0, `snapshot path "${path}" is not restorable`);
    let dir: DirNode = this.roots[parsed.root];
    for (const name of parsed.parts.slice(0, -1)) {
      let next = dir.live.get(name);
      if (next === undefined) {
        next = newDir();
        dir.live.set(name, next);
        dir.durable.set(name, next);
      }
      assert(next.kind === 'dir', `snapshot path "${path}" goes through a file`);
      dir = next;
    }
    const name = parsed.parts[parsed.parts.length - 1];
    if (dir.live.get(name)?.kind === 'dir' && node.kind === 'dir') return;
    dir.live.set(name, node);
    dir.durable.set(name, node);
  }

  private snapshot(view: 'live' | 'durable'): DurableImage {
    const directories: string[] = [];
    const files = new Map<string, Uint8Array>();
    const visit = (dir: DirNode, root: '/' | '.', parts: string[], depthLeft: number): void => {
      assert(depthLeft > 0, 'directory tree deeper than 4096 levels');
      for (const [name, node] of [...dir[view]].sort(byName)) {
        const childParts = [...parts, name];
        const path = formatPath(root, childParts);
        if (node.kind === 'dir') {
          directories.push(path);
          visit(node, root, childParts, depthLeft - 1);
        } else {
          files.set(path, (view === 'durable' ? node.durable : node.cache).view());
        }
      }
    };
    visit(this.roots['/'], '/', [], 4096);
    visit(this.roots['.'], '.', [], 4096);
    return { directories, files };
  }

  private log(atUs: number, path: string, kind: FaultKind, detail: string): FaultRecord {
    if (kind !== 'crash') this.counters.faultsInjected++;
    return this.faultLog.add({ atUs, path, kind, detail });
  }
}

// ---------------------------------------------------------------------------------------------------
// The file handle

/** What a DiskFile refers to: an inode (not a name: renames do not affect it) and the epoch it lives in. */
interface Handle {
  readonly node: FileNode;
  readonly path: string;
  readonly epoch: number;
  closed: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Crash outcomes (pure, given the random stream)

interface SurvivalOutcome {
  image: ByteImage;
  fate: CrashFate;
  writes: WriteFate[];
  bytesLost: number;
  bytesKept: number;
}

/** Which of `pending` reach `durable` under `fate`. `cacheSize` is the size reads saw. */
function survive(durable: ByteImage, pending: readonly PendingOp[], cacheSize: number, fate: CrashFate, random: Random, sectorBytes: number): SurvivalOutcome {
  const image = durable.clone();
  const kept = new Map<number, number>(); // pending index -> kept bytes
  let effective = fate;
  switch (fate) {
    case 'lost':
    case 'entry-lost':
      break;
    case 'prefix': {
      const k = random.int(pending.length + 1);
      for (let i = 0; i < k; i++) keepWhole(image, pending[i], i, kept);
      break;
    }
    case 'torn': {
      const writes = pending.map((op, i) => (op.kind === 'write' ? i : -1)).filter((i) => i >= 0);
      if (writes.length === 0) {
        effective = 'lost';
        break;
      }
      const j = writes[random.int(writes.length)];
      for (let i = 0; i < j; i++) keepWhole(image, pending[i], i, kept);
      const op = pending[j] as Extract<PendingOp, { kind: 'write' }>;
      const cuts = sectorCuts(op.offset, op.offset + op.data.length, sectorBytes);
      const cut = cuts[random.int(cuts.length)];
      const keepBytes = cut - op.offset;
      const end = op.offset + op.data.length;
      image.write(op.offset, op.data.subarray(0, keepBytes));
      if (image.size < end) image.resize(end); // the size made it; later sectors read as zero (or old bytes)
      kept.set(j, keepBytes);
      break;
    }
    case 'reorder': {
      for (let i = 0; i < pending.length; i++) {
        const op = pending[i];
        if (op.kind === 'truncate') {
          if (random.chance(0.5)) applyOp(image, op);
          continue;
        }
        const end = op.offset + op.data.length;
        const cuts = [...sectorCuts(op.offset, end, sectorBytes), end];
        let keptBytes = 0;
        for (let s = 0; s + 1 < cuts.length; s++) {
          if (!random.chance(0.5)) continue;
          image.write(cuts[s], op.data.subarray(cuts[s] - op.offset, cuts[s + 1] - op.offset));
          keptBytes += cuts[s + 1] - cuts[s];
        }
        if (keptBytes > 0) kept.set(i, keptBytes);
      }
      break;
    }
    case 'zero-filled':
      if (cacheSize > image.size) image.resize(cacheSize);
      break;
  }
  const writes: WriteFate[] = [];
  let bytesLost = 0;
  let bytesKept = 0;
  pending.forEach((op, i) => {
    if (op.kind !== 'write') return;
    const keptBytes = kept.get(i) ?? 0;
    writes.push({ index: i, offset: op.offset, length: op.data.length, keptBytes });
    bytesKept += keptBytes;
    bytesLost += op.data.length - keptBytes;
  });
  return { image, fate: effective, writes, bytesLost, bytesKept };
}

function keepWhole(image: ByteImage, op: PendingOp, index: number, kept: Map<number, number>): void {
  applyOp(image, op);
  if (op.kind === 'write') kept.set(index, op.data.length);
}

/** Cut points of [start, end) at absolute sector boundaries: start, then each boundary inside. */
function sectorCuts(start: number, end: number, sectorBytes: number): number[] {
  const cuts = [start];
  // Bounded by (end - start) / sectorBytes + 1 iterations.
  for (let b = (Math.floor(start / sectorBytes) + 1) * sectorBytes; b < end; b += sectorBytes) cuts.push(b);
  return cuts;
}

function sizeAfterOps(size: number, ops: readonly PendingOp[]): number {
  let s = size;
  for (const op of ops) s = op.kind === 'write' ? Math.max(s, op.offset + op.data.length) : op.length;
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Files reachable in `view`, each with its first path in sorted order. */
function collectFiles(roots: Record<'/' | '.', DirNode>, view: 'live' | 'durable'): Map<FileNode, string> {
  const out = new Map<FileNode, string>();
  const visit = (dir: DirNode, root: '/' | '.', parts: string[], depthLeft: number): void => {
    assert(depthLeft > 0, 'directory tree deeper than 4096 levels');
    for (const [name, node] of [...dir[view]].sort(byName)) {
      if (node.kind === 'dir') visit(node, root, [...parts, name], depthLeft - 1);
      else if (!out.has(node)) out.set(node, formatPath(root, [...parts, name]));
    }
  };
  visit(roots['/'], '/', [], 4096);
  visit(roots['.'], '.', [], 4096);
  return out;
}

function countLinks(roots: Record<'/' | '.', DirNode>): Map<FileNode, number> {
  const counts = new Map<FileNode, number>();
  const visit = (dir: DirNode, depthLeft: number): void => {
    assert(depthLeft > 0, 'directory tree deeper than 4096 levels');
    for (const node of dir.live.values()) {
      if (node.kind === 'dir') visit(node, depthLeft - 1);
      else counts.set(node, (counts.get(node) ?? 0) + 1);
    }
  };
  visit(roots['/'], 4096);
  visit(roots['.'], 4096);
  return counts;
}

function collectFilesUnder(dir: DirNode): Map<FileNode, number> {
  const out = new Map<FileNode, number>();
  const visit = (d: DirNode, depthLeft: number): void => {
    assert(depthLeft > 0, 'directory tree deeper than 4096 levels');
    for (const node of d.live.values()) {
      if (node.kind === 'dir') visit(node, depthLeft - 1);
      else out.set(node, (out.get(node) ?? 0) + 1);
    }
  };
  visit(dir, 4096);
  return out;
}

function containsDir(dir: DirNode, candidate: DirNode): boolean {
  const visit = (d: DirNode, depthLeft: number): boolean => {
    assert(depthLeft > 0, 'directory tree deeper than 4096 levels');
    for (const node of d.live.values()) {
      if (node === candidate) return true;
      if (node.kind === 'dir' && visit(node, depthLeft - 1)) return true;
    }
    return false;
  };
  return visit(dir, 4096);
}

function byName<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function depth(path: string): number {
  return path.split('/').filter((p) => p.length > 0 && p !== '.').length;
}

function validRange(offset: number, length: number): boolean {
  return Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** A digest of an image (sorted directories, then sorted files with sizes and bytes). */
export function digestImage(image: DurableImage): string {
  const hash = createHash('sha256');
  for (const dir of [...image.directories].sort()) hash.update(`d ${dir}\n`);
  for (const [path, bytes] of [...image.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(`f ${path} ${bytes.length}\n`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
