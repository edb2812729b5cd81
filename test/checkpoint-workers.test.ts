// Defect 21 of issue 9: checkpoint_workers = 256 started 256 threads (15 s, 1.7 GB) for a one-row
// checkpoint. MOT's range (1..1024) stays; the threads started are bounded by the segments to seal or
// verify and by the cores (EngineOptions.cpuCores, default os.availableParallelism()). Counted through
// the executor (CheckpointReport.workerThreads, CheckpointLoadReport.threadsStarted), never timed.

import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineOptions } from '../src/engine.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'motsim-ckpt-workers-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;

const TABLE = {
  name: 'wide',
  columns: [
    { name: 'k', type: 'int32' as const, nullable: false },
    { name: 'pad', type: 'varchar' as const, size: 200 },
  ],
  primaryKey: ['k'],
};

async function fill(engine: Engine, rows: number): Promise<void> {
  await engine.createTable(TABLE);
  const session = engine.openSession();
  for (let k = 0; k < rows; k += 100) {
    const tx = session.begin();
    for (let j = k; j < Math.min(rows, k + 100); j++) tx.insert('wide', { k: j, pad: 'x'.repeat(150) });
    await tx.commit();
  }
  session.close();
}

function options(workers: number, extra: Partial<EngineOptions> = {}): EngineOptions {
  return {
    config: { checkpoint_workers: workers, checkpoint_recovery_workers: workers, wal_segment_size: '1MB', redo_buffer_size: '256KB' },
    checkpointExecutor: 'threads',
    onWarning: () => undefined,
    ...extra,
  };
}

describe('defect 21: checkpoint threads are bounded by the segments and the cores', () => {
  it('defect 21: checkpoint_workers = 256 starts one thread for a one-row checkpoint, and recovery with 256 recovery workers one', async () => {
    const dir = join(scratch, `d${++dirs}`);
    const engine = await Engine.open(dir, options(256));
    await fill(engine, 1);
    const report = await engine.checkpoint();
    expect(report.segments).toBe(1);
    expect(report.workerThreads).toBe(1);
    await engine.close();
    const again = await Engine.open(dir, options(256));
    expect(again.recovery.checkpoint).toMatchObject({ rows: 1, segments: 1, workers: 1, threadsStarted: 1, executor: 'threads' });
    await again.close();
  });

  it('defect 21: with many segments, 256 workers start at most as many threads as the machine has cores (2, then 1, injected)', async () => {
    for (const cores of [2, 1]) {
      const dir = join(scratch, `d${++dirs}`);
      const tuning = { checkpointTuning: { segmentBytesMax: 4096 }, cpuCores: cores };
      const engine = await Engine.open(dir, options(256, tuning));
      await fill(engine, 600);
      const report = await engine.checkpoint();
      expect(report.segments).toBeGreaterThan(4 * cores);
      expect(report.workerThreads).toBeGreaterThanOrEqual(1);
      expect(report.workerThreads).toBeLessThanOrEqual(cores);
      await engine.close();
      const again = await Engine.open(dir, options(256, tuning));
      const loaded = again.recovery.checkpoint!;
      expect(loaded.rows).toBe(600);
      expect(loaded.workers).toBe(cores); // loaders: min(256 configured, cores, segments)
      expect(loaded.threadsStarted).toBeGreaterThanOrEqual(1);
      expect(loaded.threadsStarted).toBeLessThanOrEqual(cores);
      await again.close();
    }
  });

  it('defect 21: with fewer workers than cores, the workers configured bound the threads', async () => {
    const dir = join(scratch, `d${++dirs}`);
    const tuning = { checkpointTuning: { segmentBytesMax: 4096 }, cpuCores: 64 };
    const engine = await Engine.open(dir, options(2, tuning));
    await fill(engine, 600);
    const report = await engine.checkpoint();
    expect(report.workerThreads).toBeLessThanOrEqual(2);
    await engine.close();
    const again = await Engine.open(dir, options(2, tuning));
    expect(again.recovery.checkpoint!.workers).toBe(2);
    expect(again.recovery.checkpoint!.threadsStarted).toBeLessThanOrEqual(2);
    await again.close();
  });
});
