// `motsim recover DIR`: a cold start of the directory, printing what recovery found and did.

import { Engine } from '../engine.js';

export async function recoverCommand(dir: string, o: { conf?: string; json?: boolean }): Promise<void> {
  const engine = await Engine.open(dir, o.conf ? { confFile: o.conf } : {});
  try {
    const r = engine.recovery;
    const tables = engine.tables().map((t) => ({ name: t.name, rows: t.rowCount() }));
    if (o.json) {
      process.stdout.write(JSON.stringify({ recovery: r, tables }, null, 2) + '\n');
      return;
    }
    const w = r.wal;
    const end = w.end.kind === 'torn' ? `torn tail at LSN ${w.end.endLsn} (${w.end.tornBytes} bytes; ${w.tornBytesCut} cut, copy kept in wal/)` : `clean end at LSN ${w.end.endLsn}`;
    process.stdout.write(
      [
        `recovered ${dir} in ${r.elapsedMs.toFixed(1)} ms`,
        `  WAL: ${w.segments} segment(s), ${w.framesRead} frames, ${end}`,
        `  transactions replayed: ${w.transactionsReplayed}, skipped (in checkpoint): ${w.transactionsSkipped}, dropped (no commit record): ${w.transactionsDropped}`,
        `  redo entries applied: ${w.entriesApplied}, tolerated errors: ${w.toleratedErrors}`,
        ...w.toleratedSamples.map((s) => `    tolerated: ${s}`),
        `  replay time: ${w.elapsedMs.toFixed(1)} ms`,
        `  tables: ${tables.map((t) => `${t.name} (${t.rows} rows)`).join(', ') || 'none'}`,
      ].join('\n') + '\n',
    );
  } finally {
    await engine.close();
  }
}
