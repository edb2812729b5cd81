// `motsim waldump DIR`: print the WAL's redo entries (read-only), filtered, or summarised with --stats.

import { RealDisk } from '../io/real-disk.js';
import { joinPath } from '../io/disk.js';
import { requireDirectory } from '../io/require-directory.js';
import { loadMotConf } from '../config/config.js';
import { inferSegmentBytes } from '../tools/inspect.js';
import { readDirectorySettings } from '../config/directory-settings.js';
import { parseSegmentFileName } from '../wal/wal-format.js';
import { dumpWal, formatWalDumpRecord } from '../tools/waldump.js';
import { alignTable } from '../bench/bench-suite.js';
import type { Disk } from '../io/disk.js';

export interface WalDumpOptions {
  conf?: string;
  tx?: number;
  table?: string;
  fromLsn?: number;
  toLsn?: number;
  stats?: boolean;
  json?: boolean;
}

export async function walDumpCommand(dir: string, o: WalDumpOptions): Promise<void> {
  const disk = new RealDisk();
  try {
    await requireDirectory(disk, dir, 'data directory');
    const walDir = joinPath(dir, 'wal');
    await requireDirectory(disk, walDir, 'WAL directory');
    // No lock is taken (like pg_waldump): a running engine may be appending while this reads.
    const holder = await disk.directoryLockHolder(dir);
    if (holder) process.stderr.write(`motsim waldump: note: ${dir} is in use by process ${holder.pid}; the log may be growing while it is read\n`);
    const segmentBytes = await segmentBytesOf(disk, dir, walDir, o.conf);
    const dump = await dumpWal(disk, walDir, segmentBytes, { txId: o.tx, table: o.table, fromLsn: o.fromLsn, toLsn: o.toLsn });
    if (o.json) {
      process.stdout.write(JSON.stringify(o.stats ? { stats: dump.stats, end: dump.end } : dump, null, 2) + '\n');
      return;
    }
    if (!o.stats) for (const r of dump.records) process.stdout.write(formatWalDumpRecord(r) + '\n');
    else {
      const rows = Object.entries(dump.stats.byOp).map(([op, s]) => [op, String(s.entries), String(s.bytes)]);
      process.stdout.write(alignTable([['operation', 'entries', 'bytes'], ...rows]).join('\n') + '\n');
      const st = dump.stats;
      process.stdout.write(`\n${st.frames} frames, ${st.buffers} redo buffers (${st.partialBuffers} partial), ${st.transactions} transactions, ${st.walBytes} bytes of frames\n`);
    }
    const end = dump.end.kind === 'torn' ? `torn tail at LSN ${dump.end.endLsn} (${dump.end.tornBytes} bytes: ${dump.end.reason})` : `clean end at LSN ${dump.end.endLsn}`;
    process.stdout.write(`${dump.segments.length} segment(s); ${end}\n`);
  } finally {
    await disk.close();
  }
}

/**
 * The segment size: the directory's own (directory.json), else from --conf, else inferred from the
 * segment files (see inferSegmentBytes) for a directory made before directory.json existed.
 */
async function segmentBytesOf(disk: Disk, dir: string, walDir: string, conf: string | undefined): Promise<number> {
  const recorded = await readDirectorySettings(disk, dir);
  if (recorded) return recorded.wal_segment_size;
  if (conf) return (await loadMotConf(conf)).config.walSegmentBytes;
  const segments: { firstLsn: number; bytes: number }[] = [];
  for (const name of await disk.list(walDir)) {
    const firstLsn = parseSegmentFileName(name);
    if (firstLsn === undefined) continue;
    const f = await disk.open(joinPath(walDir, name));
    try {
      segments.push({ firstLsn, bytes: await f.size() });
    } finally {
      await f.close();
    }
  }
  return inferSegmentBytes(segments);
}
