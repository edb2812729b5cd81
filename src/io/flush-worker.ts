// A socket's pinned flusher thread (run by piscina, one thread per simulated socket): writes one
// group's bytes at their WAL position and fdatasyncs, as one request. Keeps its file descriptors open.

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

export default function flush(task: FlushTask): number {
  const fd = fdFor(task.path);
  let done = 0;
  while (done < task.data.length) {
    done += fs.writeSync(fd, task.data, done, task.data.length - done, task.offset + done);
  }
  fs.fdatasyncSync(fd);
  return done;
}
