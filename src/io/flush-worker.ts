// A socket's pinned flusher thread (run by piscina, one thread per simulated socket): writes one
// group's bytes at their WAL position and fdatasyncs, as one request. Keeps its file descriptors open.
// A failure is returned, not thrown: an Error crossing the thread boundary loses its `code` and
// `syscall` (ENOSPC would reach the engine as a bare EIO-like failure), so the fields travel as data
// and real-disk.ts rebuilds the error (flushFailure).

import fs from 'node:fs';

export interface FlushTask {
  path: string;
  offset: number;
  data: Uint8Array;
}

const fds = new Map<string, number>();
const FDS_OPEN_MAX = 64;

function fdFor(path: string): number {
  let fd = fds.get(path);
  if (fd === undefined) {
    if (fds.size >= FDS_OPEN_MAX) {
      for (const [p, old] of fds) {
        fs.closeSync(old);
        fds.delete(p);
        break;
      }
    }
    fd = fs.openSync(path, fs.constants.O_RDWR);
    fds.set(path, fd);
  }
  return fd;
}

/** What a failed flush returns: the Node error's fields. */
export interface FlushFailure {
  failed: true;
  message: string;
  code?: string;
  syscall?: string;
  errno?: number;
  path?: string;
}

export default function flush(task: FlushTask): number | FlushFailure {
  try {
    const fd = fdFor(task.path);
    let done = 0;
    while (done < task.data.length) {
      done += fs.writeSync(fd, task.data, done, task.data.length - done, task.offset + done);
    }
    fs.fdatasyncSync(fd);
    return done;
  } catch (e) {
    const { message, code, syscall, errno, path } = e as NodeJS.ErrnoException;
    // A descriptor whose write or sync failed is not trusted again (fsyncgate): reopen next time.
    const fd = fds.get(task.path);
    if (fd !== undefined) {
      fds.delete(task.path);
      try {
        fs.closeSync(fd);
      } catch {
        // already unusable
      }
    }
    return { failed: true, message: String(message), code, syscall, errno, path: path ?? task.path };
  }
}
