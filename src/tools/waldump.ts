// Reads a WAL without changing it (in the spirit of pg_waldump) and describes every redo entry:
// LSN, frame length, operation, transaction, CSN, table, key and, for updates, the changed columns.
// Table names and columns come from the CREATE_TABLE entries met in the log (a table created before
// the oldest WAL segment still present is shown by id, with its body length).

import type { Disk } from '../io/disk.js';
import { readWal, type WalEnd } from '../wal/wal-reader.js';
import { FrameType } from '../wal/wal-format.js';
import { decodeDdlBody, decodeRedoBuffer } from '../redo/redo-decoder.js';
import { readColumnSet } from '../redo/column-set.js';
import { RedoOp, redoEndOpName, redoOpName } from '../redo/redo-format.js';
import type { TableDef, Value } from '../store/schema.js';
import { formatKeyValues } from '../store/key.js';

export interface WalDumpFilter {
  txId?: number;
  /** Table name or id. */
  table?: string;
  fromLsn?: number;
  toLsn?: number;
}

export interface WalDumpRecord {
  lsn: number;
  frameBytes: number;
  /** Index of the redo buffer inside its frame (asynchronous mode packs several per frame). */
  buffer: number;
  txId: number;
  csn: number;
  end: string;
  op: string;
  tableId: number;
  table: string | undefined;
  key: string | undefined;
  /** UPDATE_ROW: the columns it changes. */
  changed: string[] | undefined;
  bodyBytes: number;
}

export interface WalDumpStats {
  frames: number;
  buffers: number;
  transactions: number;
  partialBuffers: number;
  byOp: Record<string, { entries: number; bytes: number }>;
  walBytes: number;
}

export interface WalDump {
  records: WalDumpRecord[];
  stats: WalDumpStats;
  end: WalEnd;
  segments: string[];
}

export async function dumpWal(disk: Disk, walDir: string, segmentBytes: number, filter: WalDumpFilter = {}): Promise<WalDump> {
  const scan = await readWal(disk, walDir, { segmentBytes, fromLsn: alignedStart(filter.fromLsn, segmentBytes) });
  const defs = new Map<number, TableDef>();
  const records: WalDumpRecord[] = [];
  const stats: WalDumpStats = { frames: 0, buffers: 0, transactions: 0, partialBuffers: 0, byOp: {}, walBytes: 0 };
  const txns = new Set<number>();
  for (const frame of scan.frames) {
    stats.frames++;
    const frameBytes = 32 + frame.payload.length;
    stats.walBytes += frameBytes;
    if (frame.type !== FrameType.REDO) continue;
    let at = 0;
    let index = 0;
    const payload = frame.payload;
    while (at + 4 <= payload.length) {
      const bytes = new DataView(payload.buffer, payload.byteOffset + at, 4).getUint32(0, true);
      const buf = decodeRedoBuffer(payload.subarray(at, at + bytes));
      at += bytes;
      stats.buffers++;
      if (redoEndOpName(buf.endOp) === 'PARTIAL') stats.partialBuffers++;
      txns.add(buf.txId);
      for (const e of buf.entries) {
        if (e.op === RedoOp.CREATE_TABLE) defs.set(e.tableId, decodeDdlBody<TableDef>(e.body));
        const op = redoOpName(e.op);
        const s = (stats.byOp[op] ??= { entries: 0, bytes: 0 });
        s.entries++;
        s.bytes += e.body.length + 12;
        const def = defs.get(e.tableId);
        const rec: WalDumpRecord = {
          lsn: frame.lsn,
          frameBytes,
          buffer: index,
          txId: buf.txId,
          csn: buf.csn,
          end: redoEndOpName(buf.endOp),
          op,
          tableId: e.tableId,
          table: def?.name,
          key: undefined,
          changed: undefined,
          bodyBytes: e.body.length,
        };
        if (def && (e.op === RedoOp.CREATE_ROW || e.op === RedoOp.UPDATE_ROW || e.op === RedoOp.REMOVE_ROW)) describeRow(rec, def, e.body);
        if (matches(rec, filter)) records.push(rec);
      }
      index++;
    }
  }
  stats.transactions = txns.size;
  return { records, stats, end: scan.end, segments: scan.segments };
}

function describeRow(rec: WalDumpRecord, def: TableDef, body: Uint8Array): void {
  const { row } = readColumnSet(body, def.columns);
  const keyValues: Value[] = def.primaryKey.map((name) => row[name] ?? null);
  rec.key = formatKeyValues(def.primaryKey, keyValues);
  if (rec.op === 'UPDATE_ROW') rec.changed = Object.keys(row).filter((c) => !def.primaryKey.includes(c));
}

function matches(rec: WalDumpRecord, f: WalDumpFilter): boolean {
  if (f.txId !== undefined && rec.txId !== f.txId) return false;
  if (f.table !== undefined && rec.table !== f.table && String(rec.tableId) !== f.table) return false;
  if (f.fromLsn !== undefined && rec.lsn < f.fromLsn) return false;
  if (f.toLsn !== undefined && rec.lsn > f.toLsn) return false;
  return true;
}

/** The reader starts at a segment boundary at or below fromLsn (frame boundaries are not known). */
function alignedStart(fromLsn: number | undefined, segmentBytes: number): number | undefined {
  if (fromLsn === undefined) return undefined;
  return fromLsn - (fromLsn % segmentBytes);
}

export function formatWalDumpRecord(r: WalDumpRecord): string {
  const table = r.table ?? `#${r.tableId}`;
  const parts = [
    `lsn ${r.lsn}`,
    `len ${r.frameBytes}`,
    `tx ${r.txId}`,
    r.csn ? `csn ${r.csn}` : 'csn -',
    r.end === 'COMMIT' ? '' : r.end,
    r.op,
    `table ${table}`,
    r.key ? `key ${r.key}` : '',
    r.changed ? `changed ${r.changed.join(',') || '(none)'}` : '',
    r.table === undefined ? `${r.bodyBytes} bytes` : '',
  ];
  return parts.filter((p) => p !== '').join('  ');
}
