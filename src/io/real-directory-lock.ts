// The real disk's directory lock: a motsim.pid file (pid, start token, directory) in the directory.
// It appears only whole (written to a private temporary file, then hard-linked into place: link
// fails with EEXIST if a lock exists), so an empty or cut file is the remnant of a crash, never a
// holder in the middle of writing it. A holder is live if the kernel knows its pid and, on Linux,
// that process started when the token says (same boot, same start time): a reused pid is stale.
// Inside this process, a registry keyed by the directory's device and inode refuses a second opener
// that the pid alone could not tell from us. Every step is a synchronous system call, so no other
// opener in this process can run between the registry check and the file creation.

import fs from 'node:fs';
import path from 'node:path';
import {
  DirectoryLockedError,
  encodeLockFile,
  lockFilePath,
  parseLockFile,
  type DirectoryLock,
  type DirectoryLockHolder,
  type LockFileContent,
} from './directory-lock.js';

/** Tries to create the lock file; each retry follows the removal of a stale one found in the way. */
const LOCK_ATTEMPTS_MAX = 4;

/** Directories locked by this process: device:inode -> the content of the lock file we wrote. */
const heldHere = new Map<string, LockFileContent>();

export function lockRealDirectory(dir: string): DirectoryLock {
  const key = directoryKey(dir);
  const mine = heldHere.get(key);
  if (mine !== undefined) throw new DirectoryLockedError(dir, { pid: mine.pid, thisProcess: true });
  const file = lockFilePath(dir);
  const content: LockFileContent = { pid: process.pid, token: ownToken(), dir: path.resolve(dir) };
  const bytes = encodeLockFile(content);
  for (let attempt = 0; attempt < LOCK_ATTEMPTS_MAX; attempt++) {
    if (createWhole(file, bytes)) {
      heldHere.set(key, content);
      return handle(dir, key, file, content);
    }
    const found = readLock(file);
    if (found === 'missing') continue; // removed since we tried: try again
    const holder = found === undefined ? undefined : liveHolder(found);
    if (holder !== undefined) throw new DirectoryLockedError(dir, holder);
    const displaced = moveStaleAside(file, found);
    if (displaced !== undefined) throw new DirectoryLockedError(dir, displaced);
  }
  throw Object.assign(new Error(`EAGAIN: the lock file keeps changing, lock '${file}'`), { code: 'EAGAIN', syscall: 'lock', path: file });
}

/** The live holder of `dir`'s lock, if any. */
export function realDirectoryLockHolder(dir: string): DirectoryLockHolder | undefined {
  let key: string;
  try {
    key = directoryKey(dir);
  } catch {
    return undefined;
  }
  const mine = heldHere.get(key);
  if (mine !== undefined) return { pid: mine.pid, thisProcess: true };
  const found = readLock(lockFilePath(dir));
  return found === 'missing' || found === undefined ? undefined : liveHolder(found);
}

function handle(dir: string, key: string, file: string, content: LockFileContent): DirectoryLock {
  let held = true;
  const end = (): void => {
    if (!held) return;
    held = false;
    if (heldHere.get(key) === content) heldHere.delete(key);
    // Remove the file only while it is still ours; a leftover naming this pid is stale anyway
    // once we are gone, and within this process once the registry no longer has it.
    const found = readLock(file);
    if (found !== 'missing' && found !== undefined && sameHolder(found, content)) {
      try {
        fs.unlinkSync(file);
      } catch {
        // best effort (e.g. the directory became read-only): the file is stale from now on
      }
    }
  };
  return { dir, pid: content.pid, release: async () => end(), abandon: end };
}

/** Device and inode: the same directory under any spelling of its path (symlinks, "..", relative). */
function directoryKey(dir: string): string {
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, lock '${dir}'`), { code: 'ENOTDIR', syscall: 'lock', path: dir });
  return `${st.dev}:${st.ino}`;
}

/** Create `file` with `bytes` unless it exists; the file is never visible partly written. */
function createWhole(file: string, bytes: Uint8Array): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes, { mode: 0o644 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    return createExclusive(file, bytes); // a file system without hard links
  } finally {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

/** O_CREAT | O_EXCL, then the content: a crash in between leaves an empty (stale) file. */
function createExclusive(file: string, bytes: Uint8Array): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeSync(fd, bytes);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** The lock file's content; undefined when it is not a whole lock file; 'missing' when there is none. */
function readLock(file: string): LockFileContent | undefined | 'missing' {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return 'missing';
    throw e;
  }
  return parseLockFile(bytes);
}

/**
 * Takes a stale lock file out of the way: rename it to a name of ours (only one renamer gets a given
 * file), then check it is the file we judged stale. If another opener replaced it meanwhile with a
 * live lock, put that back and return its holder.
 */
function moveStaleAside(file: string, stale: LockFileContent | undefined): DirectoryLockHolder | undefined {
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
  const moved = readLock(aside);
  const holder = moved === 'missing' || moved === undefined ? undefined : stale !== undefined && sameHolder(moved, stale) ? undefined : liveHolder(moved);
  if (holder !== undefined) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // a third opener created one meanwhile: that one stands
    }
  }
  fs.rmSync(aside, { force: true });
  return holder;
}

function sameHolder(a: LockFileContent, b: LockFileContent): boolean {
  return a.pid === b.pid && a.token === b.token;
}

/** The holder named by a lock file if that process still runs, else undefined (stale). */
function liveHolder(content: LockFileContent): DirectoryLockHolder | undefined {
  // Our own pid, but not in the registry: a leftover of an earlier process that had our pid, or of
  // an engine here that could not remove it. Either way nobody holds it.
  if (content.pid === process.pid) return undefined;
  if (!processExists(content.pid)) return undefined;
  const info = procInfo(content.pid);
  if (info?.zombie) return undefined; // exited, not yet reaped by its parent
  const token = info?.token;
  // A Linux token that no longer matches: the pid now belongs to another process (e.g. after a reboot).
  if (token !== undefined && content.token.startsWith('boot ') && content.token !== token) return undefined;
  return { pid: content.pid, thisProcess: false };
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'; // exists, owned by another user
  }
}

let ownTokenCached: string | undefined;

/** This process's start token: Linux boot id and start time, or just the pid where /proc is missing. */
function ownToken(): string {
  ownTokenCached ??= procInfo(process.pid)?.token ?? `pid-${process.pid}`;
  return ownTokenCached;
}

/** From /proc (Linux): `boot <boot id> start <clock ticks since boot>`, and whether the process has exited (zombie). */
function procInfo(pid: number): { token: string; zombie: boolean } | undefined {
  try {
    const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, which may itself hold spaces and parentheses).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = fields[19]; // field 22 of proc(5): starttime
    if (startTicks === undefined || !/^\d+$/.test(startTicks)) return undefined;
    return { token: `boot ${bootId} start ${startTicks}`, zombie: fields[0] === 'Z' }; // field 3: state
  } catch {
    return undefined;
  }
}
