// Memory per row: loads N rows of about 100 bytes (int64 key, int32, varchar(84)) through the
// engine (logging off, so only the row store and its index are measured) in a fresh process, and
// reports resident memory and bytes per row. Target: 1,000,000 rows in at most 250 MB resident.
// Run: node dist/bench/memory.js [rows] [--smoke]   (prints a table, writes bench/results/memory.json;
// --smoke: 2,500 rows, three batches, the last one partial)

import { Engine } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import { BENCH_TABLE, makeRow } from '../src/bench/workloads.js';
import { printTable, runBench, scriptArgs, sized, writeResult } from './report.js';

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const rowsArg = scriptArgs()[0];
  const rows = rowsArg === undefined ? sized(1_000_000, 2_500) : Number(rowsArg);
  if (!Number.isSafeInteger(rows) || rows <= 0) throw new Error(`rows (the first argument) must be a positive integer, got "${rowsArg}"`);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const engine = await Engine.open('/motsim-memory-bench', {
    // logging off, on an in-memory disk: the only files are the directory's small catalogs
    // (directory.json, the lock); the directory is never created on the real disk
    config: { enable_redo_log: false, max_mot_global_memory: '8GB', max_process_memory: '16GB' },
    disk: new MemDisk(),
    onWarning: () => undefined,
  });
  await engine.createTable(BENCH_TABLE);
  const session = engine.openSession();
  const batch = 1000;
  const t0 = performance.now();
  for (let i = 0; i < rows; i += batch) {
    const tx = session.begin();
    for (let j = i; j < Math.min(rows, i + batch); j++) tx.insert('bench', makeRow(j, j & 0xffff));
    await tx.commit();
  }
  const loadMs = performance.now() - t0;
  gc?.();
  const mem = process.memoryUsage();
  const table = engine.table('bench');
  if (table.rowCount() !== rows) throw new Error(`loaded ${rows} rows but table bench holds ${table.rowCount()}`);
  const m = table.memoryBytes();
  const result = {
    rows: table.rowCount(),
    loadMs: Math.round(loadMs),
    rssBytes: mem.rss,
    rssAddedBytes: mem.rss - rssBefore,
    bytesPerRowResident: Math.round((mem.rss - rssBefore) / rows),
    heapUsedBytes: mem.heapUsed,
    externalBytes: mem.external + mem.arrayBuffers,
    chunkBytes: m.chunks * 2 * MB,
    indexBytesEstimate: m.indexBytesEstimate,
    targetRssBytesMax: 250 * 1000 * 1000,
    withinTarget: mem.rss <= 250 * 1000 * 1000,
  };
  await engine.close();
  printTable('memory: rows of ~100 bytes (int64 + int32 + varchar(84)), logging off', [
    ['rows', result.rows.toLocaleString('en-US')],
    ['load time', `${result.loadMs} ms`],
    ['process RSS', `${(result.rssBytes / MB).toFixed(1)} MiB (target <= 250 MB: ${result.withinTarget ? 'met' : 'MISSED'})`],
    ['RSS added by the rows', `${(result.rssAddedBytes / MB).toFixed(1)} MiB`],
    ['bytes per row (resident)', String(result.bytesPerRowResident)],
    ['2 MiB chunks', `${(result.chunkBytes / MB).toFixed(0)} MiB`],
    ['index (estimate)', `${(result.indexBytesEstimate / MB).toFixed(1)} MiB`],
  ]);
  writeResult('memory', result);
}

runBench('memory', main);
