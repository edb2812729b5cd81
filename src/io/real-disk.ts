// The real disk: node:fs behind the Disk interface. Plain reads and writes use libuv's thread pool
// (fs.promises); writeAndSync without a lane runs blocking write+fdatasync on the caller's thread
// (no thread hop: measured cheaper than any hop here, see docs/architecture.md); writeAndSync on a
// lane goes to that lane's pinned flusher thread (one piscina pool of one thread per simulated socket).

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Piscina } from 'piscina';
import type { Disk, DiskFile } from './disk.js';
import { parentDir } from './disk.js';
import type { DirectoryLock, DirectoryLockHolder } from './directory-lock.js';
import { lockRealDirectory, realDirectoryLockHolder } from './real-directory-lock.js';
import { workerUrl } from './worker-url.js';
import type { FlushFailure } from './flush-worker.js';

export type Flusher = 'committer' | 'thread-pool' | 'socket-threads';

export interface RealDiskOptions {
  /** Number of I/O lanes (simulated sockets). */
  lanes?: number;
  /**
   * Who does writeAndSync on a lane: the calling thread with blocking calls ('committer'), libuv's
   * thread pool ('thread-pool'), or the lane's pinned piscina worker ('socket-threads').
   */
  flusher?: Flusher;
}

export class RealDisk implements Disk {
  readonly description: string;
  private readonly pools: Piscina[] = [];
  private readonly laneCount: number;
  readonly flusher: Flusher;

  constructor(options: RealDiskOptions = {}) {
    this.laneCount = options.lanes ?? 0;
    this.flusher = options.flusher ?? 'committer';
    this.description = `real disk (flusher: ${this.flusher}, ${this.laneCount} lanes)`;
  }

  /** The pinned flusher pool of a lane, created on first use. */
  lanePool(lane: number): Piscina {
    let pool = this.pools[lane];
    if (!pool) {
      pool = new Piscina({
        filename: workerUrl('io/flush-worker.js'),
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: 60_000,
        // One request in flight per lane at a time (a socket's flusher is one thread); more wait in
        // the lane's queue, whose bound is the number of groups a socket can have closed at once.
        concurrentTasksPerWorker: 1,
      });
      this.pools[lane] = pool;
    }
    return pool;
  }

  get lanes(): number {
    return this.laneCount;
  }

  async open(path: string, options: { create?: boolean } = {}): Promise<DiskFile> {
    const fd = fs.openSync(path, options.create ? fs.constants.O_RDWR | fs.constants.O_CREAT : fs.constants.O_RDWR, 0o644);
    return new RealFile(this, path, fd);
  }

  async readFile(path: string): Promise<Uint8Array> {
    return new Uint8Array(await fsp.readFile(path));
  }

  async list(dir: string): Promise<string[]> {
    return (await fsp.readdir(dir)).sort();
  }

  async mkdirp(dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await fsp.stat(path);
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return false;
      throw e;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    await fsp.rename(from, to);
  }

  async remove(path: string): Promise<void> {
    await fsp.rm(path, { recursive: true, force: true });
  }

  async syncDir(dir: string): Promise<void> {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** A motsim.pid file, liveness from the kernel: see real-directory-lock.ts. */
  async lockDirectory(dir: string): Promise<DirectoryLock> {
    return lockRealDirectory(dir);
  }

  async directoryLockHolder(dir: string): Promise<DirectoryLockHolder | undefined> {
    return realDirectoryLockHolder(dir);
  }

  async close(): Promise<void> {
    const pools = this.pools.splice(0);
    await Promise.all(pools.map((p) => p?.destroy()));
  }
}

class RealFile implements DiskFile {
  private closed = false;

  constructor(
    private readonly disk: RealDisk,
    readonly path: string,
    private readonly fd: number,
  ) {}

  async size(): Promise<number> {
    return fs.fstatSync(this.fd).size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await readAsync(this.fd, buf, offset);
    return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await writeAsync(this.fd, data.subarray(done), offset + done);
      done += bytesWritten;
    }
  }

  async sync(): Promise<void> {
    await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (e) => (e ? reject(e) : resolve())));
  }

  async writeAndSync(offset: number, data: Uint8Array, lane?: number): Promise<void> {
    const flusher = lane === undefined || this.disk.lanes === 0 ? 'committer' : this.disk.flusher;
    if (flusher === 'committer') {
      writeFullySync(this.fd, data, offset);
      fs.fdatasyncSync(this.fd);
    } else if (flusher === 'thread-pool') {
      await this.write(offset, data);
      await this.sync();
    } else {
      const result = (await this.disk.lanePool(lane! % this.disk.lanes).run({ path: this.path, offset, data })) as number | FlushFailure;
      if (typeof result !== 'number') throw flushFailure(result);
    }
  }

  async truncate(length: number): Promise<void> {
    fs.ftruncateSync(this.fd, length);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/** A flusher thread's failure as the Node error it was: `code`, `syscall`, `errno`, `path` kept. */
export function flushFailure(f: FlushFailure): NodeJS.ErrnoException {
  const error = new Error(f.message) as NodeJS.ErrnoException;
  if (f.code !== undefined) error.code = f.code;
  if (f.syscall !== undefined) error.syscall = f.syscall;
  if (f.errno !== undefined) error.errno = f.errno;
  if (f.path !== undefined) error.path = f.path;
  return error;
}

export function writeFullySync(fd: number, data: Uint8Array, offset: number): void {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done, offset + done);
  }
}

function readAsync(fd: number, buf: Buffer, position: number): Promise<{ bytesRead: number }> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buf, 0, buf.length, position, (e, bytesRead) => (e ? reject(e) : resolve({ bytesRead }))),
  );
}

function writeAsync(fd: number, data: Uint8Array, position: number): Promise<{ bytesWritten: number }> {
  return new Promise((resolve, reject) =>
    fs.write(fd, data, 0, data.length, position, (e, bytesWritten) => (e ? reject(e) : resolve({ bytesWritten }))),
  );
}

export { parentDir };
