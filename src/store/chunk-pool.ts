// Per-socket (NUMA node) pools of 2 MiB chunks, with MOT's reserved/used accounting and its global and
// local memory limits. Invariants per pool: usedChunks + cachedFree = reservedChunks <= chunksMax; a
// chunk is handed out zeroed and is either in use or in its pool's free cache, never both.

import { Errors, assert } from '../errors.js';

export const CHUNK_BYTES = 2 * 1024 * 1024;
/** Freed chunks a pool keeps reserved for reuse before it returns them to the system. */
export const CACHED_FREE_CHUNKS_MAX_DEFAULT = 16;
/** Simulated sockets are few; the bound keeps a typo from allocating thousands of pools. */
export const SOCKETS_MAX = 256;

/** Global memory holds table rows (MOT's max_mot_global_memory); local memory is per-session scratch. */
export type MemoryKind = 'global' | 'local';

export interface Chunk {
  /** Unique per ChunkPools, for diagnostics. */
  readonly id: number;
  readonly socket: number;
  readonly kind: MemoryKind;
  readonly buf: Buffer;
  readonly view: DataView;
}

interface MutableChunk extends Chunk {
  inUse: boolean;
}

export interface MemoryDetailRow {
  /** -1 is the total over all nodes; it comes first. */
  numaNode: number;
  reservedBytes: number;
  usedBytes: number;
}

export interface ChunkPoolsOptions {
  sockets: number;
  /** max_mot_global_memory in bytes, split evenly over the sockets. */
  globalBytesMax: number;
  /** max_mot_local_memory in bytes, split evenly over the sockets. */
  localBytesMax: number;
  cachedFreeChunksMax?: number;
}

class SocketPool {
  reservedChunks = 0;
  usedChunks = 0;
  readonly free: MutableChunk[] = [];
  constructor(
    readonly socket: number,
    readonly kind: MemoryKind,
    readonly chunksMax: number,
  ) {}
}

export class ChunkPools {
  readonly sockets: number;
  readonly globalBytesMax: number;
  readonly localBytesMax: number;
  readonly cachedFreeChunksMax: number;
  private readonly global: SocketPool[];
  private readonly local: SocketPool[];
  private nextChunkId = 1;

  constructor(opts: ChunkPoolsOptions) {
    const { sockets, globalBytesMax, localBytesMax } = opts;
    if (!Number.isInteger(sockets) || sockets < 1 || sockets > SOCKETS_MAX) {
      throw Errors.invalidConfig('sockets', `must be an integer in 1..${SOCKETS_MAX}, got ${sockets}`);
    }
    checkBytes('max_mot_global_memory', globalBytesMax);
    checkBytes('max_mot_local_memory', localBytesMax);
    const cached = opts.cachedFreeChunksMax ?? CACHED_FREE_CHUNKS_MAX_DEFAULT;
    if (!Number.isInteger(cached) || cached < 0) throw Errors.invalidConfig('cachedFreeChunksMax', `must be an integer >= 0, got ${cached}`);
    this.sockets = sockets;
    this.globalBytesMax = globalBytesMax;
    this.localBytesMax = localBytesMax;
    this.cachedFreeChunksMax = cached;
    const perSocket = (bytes: number): number => Math.floor(bytes / sockets / CHUNK_BYTES);
    this.global = Array.from({ length: sockets }, (_, s) => new SocketPool(s, 'global', perSocket(globalBytesMax)));
    this.local = Array.from({ length: sockets }, (_, s) => new SocketPool(s, 'local', perSocket(localBytesMax)));
  }

  /**
   * A zeroed chunk from `socket`'s pool; throws out_of_logical_memory naming the socket, the limit and
   * `purpose` (e.g. `rows of table "t"`).
   */
  allocate(socket: number, kind: MemoryKind = 'global', purpose?: string): Chunk {
    const pool = this.pool(socket, kind);
    const cached = pool.free.pop();
    if (cached !== undefined) {
      cached.buf.fill(0);
      cached.inUse = true;
      pool.usedChunks++;
      return cached;
    }
    if (pool.reservedChunks >= pool.chunksMax) {
      const limitBytes = pool.chunksMax * CHUNK_BYTES;
      const setting = kind === 'global' ? 'max_mot_global_memory' : 'max_mot_local_memory';
      throw Errors.outOfLogicalMemory(
        `${purpose === undefined ? '' : `allocating ${purpose}: `}${kind} memory of NUMA node ${socket} is full: ` +
          `${pool.usedChunks} chunks of 2 MiB in use, ` +
          `limit ${limitBytes} bytes (${setting} ${kind === 'global' ? this.globalBytesMax : this.localBytesMax} bytes over ${this.sockets} nodes)`,
      );
    }
    const buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    buf.fill(0);
    const chunk: MutableChunk = {
      id: this.nextChunkId++,
      socket,
      kind,
      buf,
      view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
      inUse: true,
    };
    pool.reservedChunks++;
    pool.usedChunks++;
    return chunk;
  }

  /** Returns a chunk to its pool (kept reserved up to the cache bound, then released). */
  free(chunk: Chunk): void {
    const c = chunk as MutableChunk;
    assert(c.inUse === true, `chunk ${c.id} of node ${c.socket} freed twice or not from these pools`);
    const pool = this.pool(c.socket, c.kind);
    c.inUse = false;
    pool.usedChunks--;
    if (pool.free.length < this.cachedFreeChunksMax) {
      pool.free.push(c);
    } else {
      pool.reservedChunks--;
    }
  }

  /** Global memory per NUMA node (MOT's mot_global_memory_detail): node -1 (total) first. */
  detail(): MemoryDetailRow[] {
    return detailOf(this.global);
  }

  /** Local memory per NUMA node (MOT's mot_local_memory_detail): node -1 (total) first. */
  localDetail(): MemoryDetailRow[] {
    return detailOf(this.local);
  }

  /** Per-node chunk limit of one kind (the global/local limit split over the sockets). */
  chunksMax(kind: MemoryKind = 'global'): number {
    return (kind === 'global' ? this.global : this.local)[0].chunksMax;
  }

  private pool(socket: number, kind: MemoryKind): SocketPool {
    const pools = kind === 'global' ? this.global : this.local;
    const pool = pools[socket];
    if (pool === undefined || !Number.isInteger(socket)) {
      throw Errors.invalidArgument('NUMA node', `${socket} is not in 0..${this.sockets - 1}`);
    }
    return pool;
  }
}

/** A limit below one chunk per node is legal: every allocation on that node then fails with OOM. */
function checkBytes(parameter: string, bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw Errors.invalidConfig(parameter, `must be a whole number of bytes >= 0, got ${bytes}`);
  }
}

function detailOf(pools: readonly SocketPool[]): MemoryDetailRow[] {
  const rows = pools.map((p) => ({
    numaNode: p.socket,
    reservedBytes: p.reservedChunks * CHUNK_BYTES,
    usedBytes: p.usedChunks * CHUNK_BYTES,
  }));
  const total = rows.reduce(
    (t, r) => ({ numaNode: -1, reservedBytes: t.reservedBytes + r.reservedBytes, usedBytes: t.usedBytes + r.usedBytes }),
    { numaNode: -1, reservedBytes: 0, usedBytes: 0 },
  );
  return [total, ...rows];
}
