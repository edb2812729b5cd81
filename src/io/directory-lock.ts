// One engine per data directory (PostgreSQL's postmaster.pid rule): the lock file's name and text,
// the handle a Disk returns, and the error it rejects with when a live holder has the directory.
// Each Disk decides liveness its own way: the real disk asks the kernel, the simulated machine its
// process table (a crash kills every holder). A lock whose holder is gone is stale and taken over.

import { joinPath, type DirectoryLock, type DirectoryLockHolder } from './disk.js';

export type { DirectoryLock, DirectoryLockHolder };

/** The lock file, inside the locked directory. */
export const DIRECTORY_LOCK_FILE_NAME = 'motsim.pid';

/** Node-style (code 'EBUSY'): the directory is held by a live holder. */
export class DirectoryLockedError extends Error {
  readonly code = 'EBUSY';
  readonly syscall = 'lock';

  constructor(
    readonly path: string,
    readonly holder: DirectoryLockHolder,
  ) {
    super(`EBUSY: directory is locked by process ${holder.pid}${holder.thisProcess ? ' (this process)' : ''}, lock '${lockFilePath(path)}'`);
    this.name = 'DirectoryLockedError';
  }
}

export function lockFilePath(dir: string): string {
  return joinPath(dir, DIRECTORY_LOCK_FILE_NAME);
}

/** What a lock file says: the holder's pid, a token telling that process from a later one with the same pid, and the directory. */
export interface LockFileContent {
  pid: number;
  token: string;
  dir: string;
}

/** Text of a lock file: one field per line (pid, start token, directory), like postmaster.pid. */
export function encodeLockFile(content: LockFileContent): Uint8Array {
  return new TextEncoder().encode(`${content.pid}\n${content.token}\n${content.dir}\n`);
}

/**
 * The content of a lock file, or undefined when it is not one we wrote whole (empty or cut short by
 * a crash, or damaged): such a file has no live holder, since a holder's file appears only whole.
 */
export function parseLockFile(bytes: Uint8Array): LockFileContent | undefined {
  const lines = new TextDecoder().decode(bytes).split('\n');
  if (lines.length < 4 || lines[3] !== '') return undefined;
  const [pidText, token, dir] = lines as [string, string, string];
  const pid = Number(pidText);
  if (!/^[1-9]\d{0,9}$/.test(pidText) || !Number.isSafeInteger(pid) || token === '' || dir === '') return undefined;
  return { pid, token, dir };
}
