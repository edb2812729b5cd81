// RESTORE ... FROM PITR name TIMESTAMP '...': rebuilds the covered object exactly as it was committed
// at that moment. Loads the newest retained checkpoint taken at or before the moment into a scratch
// catalog, replays the WAL after it up to the commits whose commitWallMs <= the moment, then makes the
// live tables match through ordinary logged transactions (so the restore is durable like any change),
// RESTORE_BATCH_ROWS rows each. Invariant: the live engine changes only after the scratch state is
// complete; a moment outside the PITR's window is refused before anything is read. A table of the
// past state comes back only into a database its account still owns (sameOwnerThenAndNow).

import type { Engine } from '../engine.js';
import { Catalog } from '../catalog.js';
import { ChunkPools } from '../store/chunk-pool.js';
import type { Row, TableDef, Value } from '../store/schema.js';
import type { Table } from '../store/table.js';
import { Errors, MotError, describeCause } from '../errors.js';
import { listCheckpoints, loadCheckpointChain } from '../checkpoint/checkpoint-reader.js';
import { retainedCheckpoint } from '../checkpoint/checkpointer.js';
import { InlineExecutor } from '../checkpoint/executor.js';
import { replayWal } from '../recovery/wal-replay.js';
import { AccountCatalog, type Login } from './accounts.js';
import type { Release } from '../reservations.js';
import { pitrCovers, pitrWindow, tablesOf, type PitrTarget } from './pitr.js';

/** Rows changed per restore transaction (a large table is restored in several). */
export const RESTORE_BATCH_ROWS = 1000;
/** Attempts of one batch that lost a serialization conflict (40001) to a concurrent writer. */
export const RESTORE_BATCH_ATTEMPTS_MAX = 5;

export interface RestoreReport {
  pitr: string;
  timestampMs: number;
  /** The checkpoint the scratch state started from (0: none, the WAL from its first segment). */
  checkpointId: number;
  walTransactionsReplayed: number;
  tables: number;
  tablesCreated: number;
  tablesDropped: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
  transactions: number;
}

/** Parse a RESTORE timestamp: ISO 8601, or 'YYYY-MM-DD HH:MM:SS[.fff]' read as UTC. */
export function parseRestoreTimestamp(text: string): number {
  const t = text.trim();
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(t) ? t.replace(' ', 'T') + 'Z' : t;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(iso) ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms)) throw Errors.invalidArgument(`RESTORE timestamp '${text}'`, "expected 'YYYY-MM-DD HH:MM:SS[.fff]' (UTC) or ISO 8601 with a zone");
  return ms;
}

export async function restoreFromPitr(engine: Engine, caller: Login, target: PitrTarget, pitrName: string, timestampMs: number, pitrAccount?: string): Promise<RestoreReport> {
  const p = engine.pitrs.get(caller, pitrName, pitrAccount);
  const ownerOf = (db: string): string | undefined => engine.accounts.ownerOf(db);
  const t: PitrTarget = target.level === 'account' ? { ...target, account: target.account ?? caller.account } : target;
  engine.pitrs.authorize(caller, engine.accounts, `RESTORE FROM PITR "${pitrName}"`, t);
  if (!pitrCovers(p, t, ownerOf)) {
    throw Errors.invalidArgument(`RESTORE ${describeTarget(t)} FROM PITR "${pitrName}"`, `the PITR covers ${describeTarget({ ...p, database: p.database ?? undefined, table: p.table ?? undefined })} only`);
  }
  const nowMs = engine.clock.wallMs();
  const { fromMs, toMs } = pitrWindow(p, nowMs);
  if (!(timestampMs >= fromMs && timestampMs <= toMs)) {
    throw Errors.invalidArgument(
      `RESTORE timestamp ${iso(timestampMs)}`,
      `outside the window of PITR "${pitrName}" (${p.rangeValue} ${p.rangeUnit}): ${iso(fromMs)} .. ${iso(toMs)}`,
    );
  }
  const unpin = engine.pitrs.pin(timestampMs);
  const holds: Release[] = [];
  let scratch: Catalog | undefined;
  try {
    await engine.flush();
    const state = await scratchStateAt(engine, pitrName, timestampMs);
    scratch = state.catalog;
    const report: RestoreReport = { pitr: pitrName, timestampMs, checkpointId: state.checkpointId, walTransactionsReplayed: state.replayed, tables: 0, tablesCreated: 0, tablesDropped: 0, rowsInserted: 0, rowsUpdated: 0, rowsDeleted: 0, transactions: 0 };
    // One synchronous step: which tables the restore touches, and a hold on each of their databases
    // so that none is dropped (and its name given to another account) while the restore writes.
    const then = new Map(scratch.tables().filter((x) => sameOwnerThenAndNow(engine, x.name, timestampMs)).map((x) => [x.name, x]));
    // Live tables under a name no database has (the library API's) are outside every account: untouched.
    const live = engine.tables().map((x) => x.name).filter((n) => engine.accounts.databaseNow(AccountCatalog.splitInternalName(n).database) !== undefined);
    const names = [...new Set([...tablesOf(t, then.keys(), ownerOf), ...tablesOf(t, live, ownerOf)])].sort();
    for (const db of new Set(names.map((n) => AccountCatalog.splitInternalName(n).database))) holds.push(engine.accounts.holdDatabase(caller, db));
    for (const name of names) {
      report.tables++;
      await restoreTable(engine, name, then.get(name), report);
    }
    return report;
  } finally {
    for (const release of holds) release();
    if (scratch !== undefined) for (const x of scratch.tables()) scratch.drop(x);
    unpin();
  }
}

/**
 * Whether a table of the state at `timestampMs` may come back into the database of that name now:
 * only if the database that held it then belonged to the account that owns the database now (the same
 * account by id, not just by name). A database another account owned then, one dropped since (or
 * forgotten), or a table under a name no database had then (left by a crash or the library API) is
 * never restored: so a tenant never gets back rows another tenant wrote.
 */
function sameOwnerThenAndNow(engine: Engine, internalName: string, timestampMs: number): boolean {
  const { database } = AccountCatalog.splitInternalName(internalName);
  const then = engine.accounts.databaseAt(database, timestampMs);
  const now = engine.accounts.databaseNow(database);
  return then !== undefined && now !== undefined && then.accountId === now.accountId;
}

/** The committed state at `timestampMs`, rebuilt in a catalog of its own. */
async function scratchStateAt(engine: Engine, pitrName: string, timestampMs: number): Promise<{ catalog: Catalog; checkpointId: number; replayed: number }> {
  const config = engine.config;
  const catalog = new Catalog(new ChunkPools({ sockets: config.sockets, globalBytesMax: config.maxMotGlobalMemoryBytes, localBytesMax: config.maxMotLocalMemoryBytes }));
  const checkpoints = await listCheckpoints(engine.disk, engine.checkpointDir);
  const base = retainedCheckpoint(checkpoints, timestampMs);
  const opts = { workers: 1, sockets: config.sockets, executorFactory: () => new InlineExecutor(engine.clock, 0) };
  try {
    if (base !== undefined) await loadCheckpointChain(engine.disk, engine.checkpointDir, base.id, catalog, engine.clock, opts);
    const wal = await replayWal(engine.disk, engine.walDir, catalog, engine.clock, {
      segmentBytes: config.walSegmentBytes,
      fromLsn: base?.lsn ?? 0,
      skipCsnAtOrBelow: base?.csn ?? 0,
      sockets: config.sockets,
      repairTornTail: false,
      includeCommit: (_csn, commitWallMs) => commitWallMs <= timestampMs,
    });
    if (base === undefined && wal.segments > 0 && !(await engine.disk.exists(`${engine.walDir}/0000000000000000.wal`))) {
      throw Errors.recoveryFailed('the first WAL segment was removed before the PITR existed, and no checkpoint is old enough');
    }
    return { catalog, checkpointId: base?.id ?? 0, replayed: wal.transactionsReplayed };
  } catch (e) {
    for (const x of catalog.tables()) catalog.drop(x);
    if (e instanceof MotError && e.sqlstate === '22023') throw e;
    throw Errors.recoveryFailed(`restore from PITR "${pitrName}" to ${iso(timestampMs)} could not rebuild the state at that moment: ${describeCause(e)}`, e);
  }
}

/** Make the live table `name` hold exactly the rows of `then` (undefined: the table did not exist then). */
async function restoreTable(engine: Engine, name: string, then: Table | undefined, report: RestoreReport): Promise<void> {
  let live = engine.catalog.find(name);
  if (live !== undefined && (then === undefined || JSON.stringify(live.schema.def) !== JSON.stringify(then.schema.def))) {
    await engine.dropTable(name);
    report.tablesDropped++;
    live = undefined;
  }
  if (then === undefined) return;
  if (live === undefined) {
    await engine.createTable(then.schema.def as TableDef);
    report.tablesCreated++;
  }
  const table = engine.catalog.get(name);
  type Change = { op: 'insert' | 'update' | 'delete'; key: Value | Value[]; row?: Row };
  const changes: Change[] = [];
  for (const slot of table.scan()) {
    const key = table.keyOfSlot(slot);
    const old = then.lookup(key);
    if (old === undefined) changes.push({ op: 'delete', key });
    else if (image(then.readRow(old)) !== image(table.readRow(slot))) changes.push({ op: 'update', key, row: then.readRow(old) });
  }
  for (const slot of then.scan()) {
    const key = then.keyOfSlot(slot);
    if (table.lookup(key) === undefined) changes.push({ op: 'insert', key, row: then.readRow(slot) });
  }
  const session = engine.openSession();
  try {
    for (let at = 0; at < changes.length; at += RESTORE_BATCH_ROWS) {
      await commitBatch(session, name, table, changes.slice(at, at + RESTORE_BATCH_ROWS));
      report.transactions++;
    }
  } finally {
    session.close();
  }
  for (const c of changes) {
    if (c.op === 'insert') report.rowsInserted++;
    else if (c.op === 'update') report.rowsUpdated++;
    else report.rowsDeleted++;
  }
}

async function commitBatch(session: ReturnType<Engine['openSession']>, name: string, table: Table, batch: { op: string; key: Value | Value[]; row?: Row }[]): Promise<void> {
  const pk = new Set(table.schema.def.primaryKey);
  for (let attempt = 1; ; attempt++) {
    const tx = session.begin();
    try {
      for (const c of batch) {
        if (c.op === 'insert') tx.insert(name, c.row!);
        else if (c.op === 'delete') tx.delete(name, c.key);
        else tx.update(name, c.key, Object.fromEntries(Object.entries(c.row!).filter(([k]) => !pk.has(k))));
      }
      await tx.commit();
      return;
    } catch (e) {
      if (tx.state === 'active') tx.rollback();
      if (!(e instanceof MotError && e.sqlstate === '40001') || attempt >= RESTORE_BATCH_ATTEMPTS_MAX) throw e;
    }
  }
}

function image(row: Row): string {
  return JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

function describeTarget(t: PitrTarget): string {
  switch (t.level) {
    case 'cluster':
      return 'the cluster';
    case 'account':
      return `account "${t.account}"`;
    case 'database':
      return `database "${t.database}"`;
    case 'table':
      return `table "${t.database}.${t.table}"`;
  }
}
