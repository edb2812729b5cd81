// `motsim recover DIR`: a cold start of the directory, printing what recovery found and did.

import { Engine, type RecoveryReport } from '../engine.js';

export async function recoverCommand(dir: string, o: { conf?: string; json?: boolean }): Promise<void> {
  const engine = await Engine.open(dir, { create: false, ...(o.conf ? { confFile: o.conf } : {}) });
  try {
    const r = engine.recovery;
    const tables = engine.tables().map((t) => ({ name: t.name, rows: t.rowCount() }));
    if (o.json) {
      process.stdout.write(JSON.stringify({ recovery: r, tables }, null, 2) + '\n');
      return;
    }
    process.stdout.write(formatRecoveryReport(dir, r, tables) + '\n');
  } finally {
    await engine.close();
  }
}

export function formatRecoveryReport(dir: string, r: RecoveryReport, tables: { name: string; rows: number }[]): string {
  const w = r.wal;
  const c = r.checkpoint;
  const end = w.end.kind === 'torn' ? `torn tail at LSN ${w.end.endLsn} (${w.end.tornBytes} bytes; ${w.tornBytesCut} cut, copy kept in wal/)` : `clean end at LSN ${w.end.endLsn}`;
  const checkpoint = c
    ? [
        `  checkpoint ${c.checkpointId} (${c.directory}): LSN ${c.lsn}, CSN ${c.csn}, ${c.tables} table(s), ${c.rows} rows from ${c.segments} segment(s), ${(c.bytes / 1e6).toFixed(1)} MB`,
        `    ${c.workers} recovery worker(s) (${c.executor === 'threads' ? `${c.threadsStarted} thread(s) started` : c.executor}); metadata ${c.metadataMs.toFixed(1)} ms, segments ${c.segmentsMs.toFixed(1)} ms` +
          (c.segmentsMs > 0 ? ` (${Math.round(c.rows / (c.segmentsMs / 1000))} rows/s)` : ''),
      ]
    : ['  checkpoint: none (no control file): empty start, WAL from LSN 0'];
  return [
    `recovered ${dir} in ${r.elapsedMs.toFixed(1)} ms (checkpoint ${r.checkpointMs.toFixed(1)} ms, WAL ${r.walMs.toFixed(1)} ms)`,
    ...checkpoint,
    `  WAL: ${w.segments} segment(s) from LSN ${c?.lsn ?? 0}, ${w.framesRead} frames, ${end}`,
    `  transactions replayed: ${w.transactionsReplayed}, skipped (in checkpoint): ${w.transactionsSkipped}, dropped (no commit record): ${w.transactionsDropped}`,
    `  redo entries applied: ${w.entriesApplied}, tolerated errors: ${w.toleratedErrors}`,
    ...w.toleratedSamples.map((s) => `    tolerated: ${s}`),
    `  replay time: ${w.elapsedMs.toFixed(1)} ms`,
    `  tables: ${tables.map((t) => `${t.name} (${t.rows} rows)`).join(', ') || 'none'}`,
  ].join('\n');
}
