// VACUUM as MOT runs it: always FULL (live rows copied in key order into fresh chunks, old chunks
// freed), under an exclusive table lock. Moving rows changes slot ids, which an open transaction may
// hold (its reads and writes remember slots), so the lock is "no transaction open in any session and
// no commit in progress on the table" (coarser than a per-table lock: motsim does not track which
// tables an open transaction touched). VACUUM waits for that, boundedly, then runs in one synchronous
// step, so nothing can start meanwhile. Not logged: it changes the memory layout, not the data.

import type { Engine } from '../engine.js';
import type { Table } from '../store/table.js';
import { Errors } from '../errors.js';

/** How long VACUUM waits for commits in progress on its table before failing with 55P03. */
export const VACUUM_LOCK_WAIT_MS_MAX = 1000;
/** How often it looks again meanwhile. */
export const VACUUM_LOCK_POLL_MS = 1;

export interface VacuumResult {
  table: string;
  rows: number;
  chunksBefore: number;
  chunksAfter: number;
}

export async function vacuumTable(engine: Engine, table: Table, lockWaitMsMax = VACUUM_LOCK_WAIT_MS_MAX): Promise<VacuumResult> {
  const polls = Math.ceil(lockWaitMsMax / VACUUM_LOCK_POLL_MS);
  const busy = (): boolean => engine.locks.heldOn(table) > 0 || engine.openSessions.some((s) => s.inTransaction);
  for (let n = 0; busy(); n++) {
    if (n >= polls) throw Errors.tableLockTimeout(table.name, 'VACUUM', lockWaitMsMax);
    await engine.clock.sleepUs(VACUUM_LOCK_POLL_MS * 1000);
  }
  if (table.dropped) throw Errors.tableNotFound(table.name);
  const r = table.vacuum();
  return { table: table.name, rows: table.rowCount(), chunksBefore: r.chunksBefore, chunksAfter: r.chunksAfter };
}
