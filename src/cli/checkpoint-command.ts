// `motsim checkpoint DIR`: open the data directory (recovering it), take a checkpoint, print what it
// wrote and what it removed, and close.

import { Engine } from '../engine.js';
import type { CheckpointReport } from '../checkpoint/checkpointer.js';

export async function checkpointCommand(dir: string, o: { conf?: string; json?: boolean }): Promise<void> {
  const engine = await Engine.open(dir, { create: false, ...(o.conf ? { confFile: o.conf } : {}) });
  try {
    const r = await engine.checkpoint();
    process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : formatCheckpointReport(r) + '\n');
  } finally {
    await engine.close();
  }
}

export function formatCheckpointReport(r: CheckpointReport): string {
  const ms = (us: number): string => (us / 1000).toFixed(1);
  const mb = r.bytes / 1e6;
  return [
    `checkpoint ${r.checkpointId} (${r.trigger}) in ${r.directory}: ${ms(r.elapsedUs)} ms`,
    `  consistency point: CSN ${r.csn}, WAL LSN ${r.lsn} (recovery replays the WAL from there)`,
    `  ${r.tables} table(s), ${r.rows} rows (${r.preImages} from pre-images), ${r.segments} segment(s), ${mb.toFixed(1)} MB (${(mb / Math.max(1e-9, r.captureUs / 1e6)).toFixed(0)} MB/s capture)`,
    `  RESOLVE waited ${ms(r.resolvePauseUs)} ms for ${r.commitsResolved} commit(s) holding a CSN <= ${r.csn}; new commits were never held back`,
    `  phases: capture ${ms(r.captureUs)} ms, complete ${ms(r.completeUs)} ms, cleanup ${ms(r.cleanupUs)} ms; ${r.workerThreads} worker thread(s) started`,
    `  removed: ${r.checkpointsRemoved} older checkpoint(s), ${r.walSegmentsRemoved} WAL segment(s) (${(r.walBytesRemoved / 1e6).toFixed(1)} MB) below LSN ${r.lsn}`,
  ].join('\n');
}
