// `motsim inspect DIR`: print what src/tools/inspect.ts finds in a data directory (read-only):
// settings, control file, checkpoints, WAL segments and what a cold start would do (recovery itself,
// run into a scratch catalog, so it refuses exactly what recovery refuses).

import { RealDisk } from '../io/real-disk.js';
import { loadMotConf } from '../config/config.js';
import { inspectDataDir, type InspectReport } from '../tools/inspect.js';

export async function inspectCommand(dir: string, o: { conf?: string; json?: boolean }): Promise<void> {
  const conf = o.conf ? (await loadMotConf(o.conf)).config : undefined;
  const disk = new RealDisk();
  try {
    const report = await inspectDataDir(disk, dir, { checkpointDir: conf?.checkpointDir, segmentBytes: conf?.walSegmentBytes, config: conf });
    process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatInspectReport(report) + '\n');
  } finally {
    await disk.close();
  }
}

export function formatInspectReport(r: InspectReport): string {
  const lines: string[] = [`data directory ${r.dir}`];
  if (r.inUseByPid !== undefined) lines.push(`in use by process ${r.inUseByPid}: read without its lock, so this may be changing (a torn tail may be a write in progress)`);
  lines.push(
    r.settings
      ? `settings (directory.json): wal_segment_size ${mb(r.settings.wal_segment_size)}, wal_preallocate ${r.settings.wal_preallocate}`
      : 'settings: no directory.json (a directory made before it existed, or not a data directory)',
  );
  const c = r.control;
  if (r.controlProblem) lines.push(`control file: DAMAGED (${r.controlProblem})`);
  else if (!c) lines.push('control file: none (no checkpoint yet)');
  else {
    const chainBaseId = (c as typeof c & { chainBaseId?: number }).chainBaseId; // incremental checkpoints: the chain's full one
    lines.push(
      `control file: checkpoint ${c.checkpointId}, LSN ${c.checkpointLsn}, CSN ${c.checkpointCsn}, max transaction id ${c.maxTxId}, WAL durable at write ${c.lastReplayLsn}` +
        (chainBaseId !== undefined && chainBaseId !== c.checkpointId ? `, chain from checkpoint ${chainBaseId}` : ''),
    );
  }
  lines.push(`checkpoints: ${r.checkpoints.length === 0 ? 'none' : ''}`);
  for (const k of r.checkpoints) {
    const what = k.complete
      ? `complete (${k.kind}), LSN ${k.lsn}, CSN ${k.csn}, ${k.rows} rows in ${k.segments} segment(s)`
      : `INCOMPLETE: ${k.problem}`;
    lines.push(`  ${k.directory}${k.current ? ' (current)' : ''}: ${what}; ${k.files} file(s), ${mb(k.bytes)}`);
  }
  const w = r.wal;
  lines.push(`WAL: ${w.segments.length} segment file(s) in ${w.dir}, ${mb(w.fileBytes)} on disk, segment size ${mb(w.segmentBytes)}`);
  for (const s of w.segments) lines.push(`  ${s.name}: LSN ${s.firstLsn}.., ${mb(s.bytes)}`);
  if (w.tornCopies.length > 0) lines.push(`  copies of torn tails cut earlier: ${w.tornCopies.join(', ')}`);
  const v = r.recovery;
  const from =
    v.checkpointId === undefined
      ? 'no checkpoint: an empty start, WAL from LSN 0'
      : `load checkpoint ${v.checkpointId}${v.checkpointRows === undefined ? '' : ` (${v.checkpointRows} rows)`}, then the WAL from LSN ${v.fromLsn}`;
  lines.push(`recovery would: ${from}`);
  if (v.end) {
    const end = v.end.kind === 'torn' ? `TORN tail at LSN ${v.end.endLsn} (${v.end.tornBytes} bytes would be cut, a copy kept: ${v.end.reason})` : `clean end at LSN ${v.end.endLsn}`;
    lines.push(`  replay ${v.frames} WAL frame(s) (${mb(v.walBytes)}): ${v.transactionsToReplay} transaction(s) to apply, ${v.transactionsSkipped} already in the checkpoint, ${v.transactionsIncomplete} incomplete (dropped)`);
    lines.push(`  log end: ${end}`);
    if (v.durableAtLeast) lines.push(`  known durable up to LSN ${v.durableAtLeast.lsn}: ${v.durableAtLeast.source}`);
  } else if (!v.error) lines.push('  no WAL segment: nothing to replay');
  if (v.error) lines.push(`  PROBLEM: ${v.error}`);
  lines.push('(nothing was changed)');
  return lines.join('\n');
}

function mb(bytes: number): string {
  if (bytes < 10_000) return `${bytes} B`;
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}
