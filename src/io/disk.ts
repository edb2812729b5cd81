// File I/O, injected. The WAL, checkpoints and recovery touch storage only through a Disk, so the same
// code runs on the real disk (io/real-disk.ts) and on the simulated one (sim/sim-disk.ts), which
// keeps written bytes apart from flushed bytes and can crash, tear writes and fail fsync.
//
// Errors are Node-style: an Error with `code` ('ENOENT', 'ENOSPC', 'EIO', ...) and the path in the
// message. Callers turn them into MotErrors that name the file.


export interface DiskFile {
  readonly path: string;
  /** Current size in bytes. */
  size(): Promise<number>;
  /** Read up to `length` bytes at `offset` (fewer at end of file). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Write `data` at `offset` into the page cache (not durable until sync). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** fdatasync: everything written so far becomes durable, or the promise rejects. */
  sync(): Promise<void>;
  /**
   * write(offset, data) then sync(), as one device request. `lane` names the I/O lane (the
   * simulated NUMA socket whose pinned flusher thread does the work); without a lane the caller's
   * own thread does it (on the real disk: blocking system calls, no thread hop).
   */
  writeAndSync(offset: number, data: Uint8Array, lane?: number): Promise<void>;
  /** Set the file's size (shrinking discards bytes). */
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface Disk {
  /** A short description for reports, e.g. 'real:/tmp/x' or 'sim:nvme'. */
  readonly description: string;
  /** Open a file for reading and writing; `create` makes it if missing (else ENOENT). */
  open(path: string, options?: { create?: boolean }): Promise<DiskFile>;
  /** The whole content of a file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Names (not paths) of the entries of a directory, sorted; ENOENT if it does not exist. */
  list(dir: string): Promise<string[]>;
  /** Create a directory and its parents (no error if it exists). */
  mkdirp(dir: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Atomically replace `to` with `from` (POSIX rename). Durable only after syncDir. */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file, or a directory with everything in it. No error if missing. */
  remove(path: string): Promise<void>;
  /** fsync a directory, making creations, renames and removals in it durable. */
  syncDir(dir: string): Promise<void>;
  /**
   * Take the lock of an existing directory (a DIRECTORY_LOCK_FILE_NAME file in it naming the
   * holder), as every opener of a data directory must. A lock whose holder is gone (a dead process,
   * a crashed simulated machine) is taken over. Rejects with DirectoryLockedError, naming the
   * holder, while a live holder has it, including another holder in this very process.
   */
  lockDirectory(dir: string): Promise<DirectoryLock>;
  /** The live holder of a directory's lock, if any; takes nothing (for tools that only read). */
  directoryLockHolder(dir: string): Promise<DirectoryLockHolder | undefined>;
  /** Release resources (I/O lane threads). */
  close(): Promise<void>;
}

/** Write a whole file durably and atomically: write `path.tmp`, sync it, rename, sync the directory. */
export async function writeFileAtomic(disk: Disk, path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await disk.open(tmp, { create: true });
  try {
    await file.truncate(0);
    await file.write(0, data);
    await file.sync();
  } finally {
    await file.close();
  }
  await disk.rename(tmp, path);
  await disk.syncDir(parentDir(path));
}

/**
 * mkdirp, then make every directory it created durable (syncDir of each one's parent, top-down):
 * a new directory's entry, like a new file's, survives a crash only once its parent is synced.
 */
export async function mkdirpDurable(disk: Disk, dir: string): Promise<void> {
  const created: string[] = [];
  // Bounded by the depth of `dir`: each step goes one level up, and a root always exists.
  for (let d = dir; d !== parentDir(d) && !(await disk.exists(d)); d = parentDir(d)) created.push(d);
  await disk.mkdirp(dir);
  for (const d of created.reverse()) await disk.syncDir(parentDir(d));
}

export function parentDir(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : path.slice(0, i);
}

export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p.length > 0)
    .join('/')
    .replace(/\/+/g, '/');
}

/** Errors that mean "the device refused the write or the flush". */
export function isIoError(e: unknown): boolean {
  const code = (e as { code?: string } | undefined)?.code;
  return code === 'EIO' || code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS';
}

/** Who holds a directory. */
export interface DirectoryLockHolder {
  /** The holder's process id (on the simulated disk: the simulated process's). */
  pid: number;
  /** The holder is this process (another Engine opened the directory here and has not closed it). */
  thisProcess: boolean;
}

/** A directory held by this process until release() or abandon(). */
export interface DirectoryLock {
  readonly dir: string;
  /** The pid written in the lock file. */
  readonly pid: number;
  /** Orderly end (Engine.close): the lock file is removed. Idempotent; never throws. */
  release(): Promise<void>;
  /**
   * The holder stops without an orderly end (Engine.abandon): the lock no longer counts as held by
   * a live holder, so the next lockDirectory takes it over. Synchronous and never throws. On the
   * simulated disk no I/O is issued: the lock file stays behind as a crashed process leaves it.
   */
  abandon(): void;
}
