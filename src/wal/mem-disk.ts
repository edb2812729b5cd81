// A minimal in-memory Disk for unit tests: a Map of path -> growable byte array. No faults, no
// crashes: every write is at once "durable" (sync is a no-op), lanes are ignored, directories are
// implicit in file paths (plus any made by mkdirp). Reads return copies, never views of the store.
// Directory locks live as long as their holder: everything runs in this process, so a second
// opener of a locked directory is refused naming this process's pid.

import type { Disk, DiskFile } from '../io/disk.js';
import { DirectoryLockedError, encodeLockFile, lockFilePath, type DirectoryLock, type DirectoryLockHolder } from '../io/directory-lock.js';

interface MemFileData {
  bytes: Uint8Array;
  size: number;
}

function normalize(path: string): string {
  let p = path.replace(/\/+/g, '/');
  if (p.startsWith('./')) p = p.slice(2);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

function fsError(code: string, operation: string, path: string): Error {
  const messages: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EISDIR: 'illegal operation on a directory',
    ENOTDIR: 'not a directory',
  };
  return Object.assign(new Error(`${code}: ${messages[code] ?? code}, ${operation} '${path}'`), { code, path });
}

class MemFile implements DiskFile {
  constructor(
    readonly path: string,
    private readonly data: MemFileData,
  ) {}

  async size(): Promise<number> {
    return this.data.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.data.size, offset + length);
    return end <= offset ? new Uint8Array(0) : this.data.bytes.slice(offset, end);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.reserve(offset + data.length);
    this.data.bytes.set(data, offset);
    this.data.size = Math.max(this.data.size, offset + data.length);
  }

  async sync(): Promise<void> {}

  async writeAndSync(offset: number, data: Uint8Array): Promise<void> {
    await this.write(offset, data);
  }

  async truncate(length: number): Promise<void> {
    if (length < this.data.size) this.data.bytes.fill(0, length, this.data.size);
    else this.reserve(length);
    this.data.size = length;
  }

  async close(): Promise<void> {}

  private reserve(bytes: number): void {
    if (bytes <= this.data.bytes.length) return;
    const grown = new Uint8Array(Math.max(bytes, this.data.bytes.length * 2, 4096));
    grown.set(this.data.bytes.subarray(0, this.data.size));
    this.data.bytes = grown;
  }
}

export class MemDisk implements Disk {
  readonly description = 'mem';
  private readonly files = new Map<string, MemFileData>();
  private readonly dirs = new Set<string>();
  /** Locked directories -> the live lock's token (a fresh object per lock). */
  private readonly locks = new Map<string, object>();

  async open(path: string, options?: { create?: boolean }): Promise<DiskFile> {
    const p = normalize(path);
    let data = this.files.get(p);
    if (!data) {
      if (this.isDir(p)) throw fsError('EISDIR', 'open', p);
      if (!options?.create) throw fsError('ENOENT', 'open', p);
      data = { bytes: new Uint8Array(0), size: 0 };
      this.files.set(p, data);
    }
    return new MemFile(p, data);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const p = normalize(path);
    const data = this.files.get(p);
    if (!data) throw fsError(this.isDir(p) ? 'EISDIR' : 'ENOENT', 'open', p);
    return data.bytes.slice(0, data.size);
  }

  async list(dir: string): Promise<string[]> {
    const d = normalize(dir);
    const prefix = d === '/' ? '/' : `${d}/`;
    const names = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs]) {
      if (p.startsWith(prefix) && p.length > prefix.length) names.add(p.slice(prefix.length).split('/')[0]!);
    }
    if (names.size === 0 && !this.dirs.has(d)) throw fsError(this.files.has(d) ? 'ENOTDIR' : 'ENOENT', 'scandir', d);
    return [...names].sort();
  }

  async mkdirp(dir: string): Promise<void> {
    this.dirs.add(normalize(dir));
  }

  async exists(path: string): Promise<boolean> {
    const p = normalize(path);
    return this.files.has(p) || this.isDir(p);
  }

  async rename(from: string, to: string): Promise<void> {
    const f = normalize(from);
    const t = normalize(to);
    const data = this.files.get(f);
    if (data) {
      this.files.delete(f);
      this.files.set(t, data);
      return;
    }
    if (!this.isDir(f)) throw fsError('ENOENT', 'rename', f);
    for (const [p, d] of [...this.files]) {
      if (p.startsWith(`${f}/`)) {
        this.files.delete(p);
        this.files.set(t + p.slice(f.length), d);
      }
    }
    for (const p of [...this.dirs]) {
      if (p === f || p.startsWith(`${f}/`)) {
        this.dirs.delete(p);
        this.dirs.add(t + p.slice(f.length));
      }
    }
  }

  async remove(path: string): Promise<void> {
    const p = normalize(path);
    this.files.delete(p);
    for (const key of [...this.files.keys()]) if (key.startsWith(`${p}/`)) this.files.delete(key);
    for (const key of [...this.dirs]) if (key === p || key.startsWith(`${p}/`)) this.dirs.delete(key);
  }

  async syncDir(_dir: string): Promise<void> {}

  async lockDirectory(dir: string): Promise<DirectoryLock> {
    const d = normalize(dir);
    if (this.files.has(d)) throw fsError('ENOTDIR', 'lock', d);
    if (!this.isDir(d)) throw fsError('ENOENT', 'lock', d);
    if (this.locks.has(d)) throw new DirectoryLockedError(dir, { pid: process.pid, thisProcess: true });
    const token = {};
    this.locks.set(d, token);
    const file = lockFilePath(d);
    const bytes = encodeLockFile({ pid: process.pid, token: 'mem', dir: d });
    this.files.set(file, { bytes, size: bytes.length });
    const end = (): void => {
      if (this.locks.get(d) !== token) return;
      this.locks.delete(d);
      this.files.delete(file);
    };
    return { dir, pid: process.pid, release: async () => end(), abandon: end };
  }

  async directoryLockHolder(dir: string): Promise<DirectoryLockHolder | undefined> {
    return this.locks.has(normalize(dir)) ? { pid: process.pid, thisProcess: true } : undefined;
  }

  async close(): Promise<void> {}

  /** Every file path, sorted (for tests' assertions). */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  private isDir(p: string): boolean {
    if (this.dirs.has(p)) return true;
    const prefix = `${p}/`;
    for (const key of this.files.keys()) if (key.startsWith(prefix)) return true;
    for (const key of this.dirs) if (key.startsWith(prefix)) return true;
    return false;
  }
}
