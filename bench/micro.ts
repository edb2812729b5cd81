// Micro-benchmarks of the commit path's pieces (tinybench): what one single-row insert transaction
// costs in each layer, so a regression shows where it is. Run: node dist/bench/micro.js [--smoke]
// (--smoke: 5 ms and at least 8 iterations per task instead of 500 ms and tinybench's 64). A task that
// throws fails the whole script.

import { Bench } from 'tinybench';
import { Engine } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import { BENCH_TABLE, makeRow } from '../src/bench/workloads.js';
import { RedoEncoder } from '../src/redo/redo-encoder.js';
import { decodeRedoBuffer } from '../src/redo/redo-decoder.js';
import { readColumnSet } from '../src/redo/column-set.js';
import { RedoOp } from '../src/redo/redo-format.js';
import { encodeFrameInto, FrameType } from '../src/wal/wal-format.js';
import { printTable, runBench, sized, writeResult } from './report.js';

/** tinybench's budget per task: time, warm-up time, and the minimum iterations (tinybench's default 64, 16 warm-up). */
const TASK_MS = sized(500, 5);
const WARMUP_MS = sized(100, 1);
const ITERATIONS_MIN = sized(64, 8);
const WARMUP_ITERATIONS_MIN = sized(16, 2);

async function main(): Promise<void> {
  const off = await Engine.open('/micro-off', { disk: new MemDisk(), config: { enable_redo_log: false }, onWarning: () => undefined });
  await off.createTable(BENCH_TABLE);
  const asyncEngine = await Engine.open('/micro-async', {
    disk: new MemDisk(),
    config: { synchronous_commit: false, wal_segment_size: '256MB', async_redo_buffer_size_max: '64MB' },
    onWarning: () => undefined,
  });
  await asyncEngine.createTable(BENCH_TABLE);
  // Scans: a table of 10,000 rows, read 100 at a time by a transaction that then inserts a row (the
  // range must be validated at commit: phantoms). "quiet": nothing changed since, validation is
  // skipped; "changed": another transaction committed meanwhile, the range is counted again.
  const scanEngine = await Engine.open('/micro-scan', { disk: new MemDisk(), config: { enable_redo_log: false }, onWarning: () => undefined });
  await scanEngine.createTable(BENCH_TABLE);
  const scanSession = scanEngine.openSession();
  const otherSession = scanEngine.openSession();
  for (let i = 0; i < 10_000; i += 1000) {
    const tx = scanSession.begin();
    for (let j = i; j < i + 1000; j++) tx.insert('bench', makeRow(j, 0));
    await tx.commit();
  }
  let scanInsertId = 1_000_000;
  const scanThenInsert = async (changed: boolean): Promise<void> => {
    const tx = scanSession.begin();
    const from = BigInt((scanInsertId * 37) % 9_900);
    if (tx.scan('bench', from, from + 99n).length !== 100) throw new Error('the scanned range holds 100 rows');
    tx.insert('bench', makeRow(scanInsertId++, 0));
    if (changed) await otherSession.transaction((o) => o.insert('bench', makeRow(scanInsertId++, 0)));
    await tx.commit();
  };
  const offSession = off.openSession();
  const asyncSession = asyncEngine.openSession();
  const table = off.table('bench');
  const columns = table.schema.def.columns;
  const encoder = new RedoEncoder(1 << 20);
  const row = makeRow(1, 7);
  encoder.addRow(RedoOp.CREATE_ROW, 1, columns, row, null);
  const redo = encoder.finish(1, 1, 0)[0]!;
  const frameTarget = new Uint8Array(1024);
  let offId = 0;
  let asyncId = 0;
  let rawId = 10_000_000;

  const bench = new Bench({ time: TASK_MS, warmupTime: WARMUP_MS, iterations: ITERATIONS_MIN, warmupIterations: WARMUP_ITERATIONS_MIN, throws: true });
  bench
    .add('redo: encode a 1-row insert', () => {
      encoder.addRow(RedoOp.CREATE_ROW, 1, columns, row, null);
      encoder.finish(1, 1, 0);
    })
    .add('redo: decode a 1-row insert', () => {
      const d = decodeRedoBuffer(redo);
      readColumnSet(d.entries[0]!.body, columns);
    })
    .add('wal: frame a redo buffer (header + CRC)', () => {
      encodeFrameInto(frameTarget, 0, FrameType.REDO, 8, 0, redo);
    })
    .add('store: insert a row', () => {
      table.insert(makeRow(rawId++, 1), 0, 1);
    })
    .add('store: point lookup', () => {
      table.lookup(BigInt(rawId - 1 - (rawId & 1023)));
    })
    .add('transaction: 1-row insert, logging off', async () => {
      const tx = offSession.begin();
      tx.insert('bench', makeRow(offId++, 0));
      await tx.commit();
    })
    .add('transaction: 1-row insert, asynchronous (memory disk)', async () => {
      const tx = asyncSession.begin();
      tx.insert('bench', makeRow(asyncId++, 0));
      await tx.commit();
    })
    .add('transaction: scan 100 rows + insert, quiet (no validation)', () => scanThenInsert(false))
    .add('transaction: scan 100 rows + insert, table changed (range re-counted) + the other insert', () => scanThenInsert(true));
  await bench.run();
  await off.close();
  await asyncEngine.close();
  await scanEngine.close();

  for (const t of bench.tasks) {
    if (t.result.state !== 'completed') throw new Error(`task "${t.name}" ended ${t.result.state}${'error' in t.result ? `: ${t.result.error.message}` : ''}`);
  }
  const rows = bench.tasks.map((t) => {
    const r = t.result as unknown as { latency?: { mean?: number; p99?: number }; throughput?: { mean?: number } } | undefined;
    const meanMs = r?.latency?.mean ?? Number.NaN;
    return { name: t.name, meanUs: meanMs * 1000, p99Us: (r?.latency?.p99 ?? Number.NaN) * 1000, opsPerSec: r?.throughput?.mean ?? 1000 / meanMs };
  });
  printTable(`micro-benchmarks (tinybench, ${TASK_MS} ms each)`, [
    ['operation', 'mean us', 'p99 us', 'ops/s'],
    ...rows.map((r) => [r.name, r.meanUs.toFixed(3), r.p99Us.toFixed(3), Math.round(r.opsPerSec).toLocaleString('en-US')]),
  ]);
  writeResult('micro', rows);
}

runBench('micro', main);
