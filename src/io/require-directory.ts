// A directory a command or the engine needs must exist and be a directory: otherwise a MotError that
// names it (58P01 when missing, 42809 when a file is in the way, the errno's SQLSTATE otherwise, e.g.
// 42501 for a permission error). Nothing is ever created here.

import type { Disk } from './disk.js';
import { Errors, MotError } from '../errors.js';

/** `what` names the role in messages: 'data directory', 'checkpoint_dir'... `hint` is added when it is missing. */
export async function requireDirectory(disk: Disk, dir: string, what: string, hint?: string): Promise<void> {
  try {
    await disk.list(dir);
  } catch (e) {
    throw directoryError(e, dir, what, hint);
  }
}

function directoryError(e: unknown, dir: string, what: string, hint: string | undefined): MotError {
  const errno = (e as { code?: string } | undefined)?.code;
  if (errno === 'ENOENT') return Errors.directoryMissing(what, dir, hint);
  if (errno === 'ENOTDIR') return Errors.notADirectory(what, dir);
  return Errors.fileAccess(`open ${what}`, dir, e);
}
