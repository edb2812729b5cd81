// This disk's ceiling for durable commits: 100-byte appends, each followed by fdatasync, from one
// thread, in the benchmark's own directory. Every logging mode's throughput is reported against it.

import fs from 'node:fs';
import { join } from 'node:path';

export interface CeilingResult {
  commitsPerSec: number;
  fdatasyncUsAvg: number;
  records: number;
  durationMs: number;
}

export function measureDiskCeiling(dir: string, durationMs: number, recordBytes = 100): CeilingResult {
  const path = join(dir, 'ceiling.bin');
  const fd = fs.openSync(path, 'w');
  const record = Buffer.alloc(recordBytes, 0x5a);
  let offset = 0;
  let records = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  try {
    while (performance.now() < deadline) {
      fs.writeSync(fd, record, 0, recordBytes, offset);
      fs.fdatasyncSync(fd);
      offset += recordBytes;
      records++;
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path, { force: true });
  }
  const elapsedMs = performance.now() - t0;
  return {
    commitsPerSec: (records * 1000) / elapsedMs,
    fdatasyncUsAvg: (elapsedMs * 1000) / Math.max(1, records),
    records,
    durationMs: elapsedMs,
  };
}
