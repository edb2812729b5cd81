// MOT's monitoring views as rows: global and local memory per NUMA node (node -1, the total, first),
// memory per session, and pg_relation_size of a table or of its primary index.

import type { Engine } from '../engine.js';
import { Errors } from '../errors.js';
import { AccountCatalog, type Login } from './accounts.js';

export interface MemoryDetailViewRow {
  numa_node: number;
  reserved_size: number;
  used_size: number;
}

export interface SessionMemoryViewRow {
  sessid: string;
  total_size: number;
  free_size: number;
  used_size: number;
}

/** mot_global_memory_detail(): table and index memory (2 MiB chunks) per NUMA node. Needs `sys`. */
export function globalMemoryDetail(engine: Engine, caller: Login): MemoryDetailViewRow[] {
  engine.accounts.requireSys(caller, 'mot_global_memory_detail()');
  return engine.catalog.pools.detail().map((r) => ({ numa_node: r.numaNode, reserved_size: r.reservedBytes, used_size: r.usedBytes }));
}

/** mot_local_memory_detail(): session-local memory per NUMA node. Needs `sys`. */
export function localMemoryDetail(engine: Engine, caller: Login): MemoryDetailViewRow[] {
  engine.accounts.requireSys(caller, 'mot_local_memory_detail()');
  return engine.catalog.pools.localDetail().map((r) => ({ numa_node: r.numaNode, reserved_size: r.reservedBytes, used_size: r.usedBytes }));
}

/**
 * mot_session_memory_detail(): one row per open session. motsim keeps a transaction's private state
 * (read and write sets) on the JS heap, not in MOT local memory, so the sizes are 0. `sessid` is
 * "<socket>.<session id>" (MOT prints "<start time>.<thread id>"). Needs `sys`.
 */
export function sessionMemoryDetail(engine: Engine, caller: Login): SessionMemoryViewRow[] {
  engine.accounts.requireSys(caller, 'mot_session_memory_detail()');
  return engine.openSessions.map((s) => ({ sessid: `${s.socket}.${s.id}`, total_size: 0, free_size: 0, used_size: 0 }));
}

/**
 * pg_relation_size(name): a table's memory (its chunks x 2 MiB, as MOT reports it), or for
 * `<table>_pkey` the estimated memory of the table's indexes. `name` may be `db.table`; unqualified
 * names are looked up in `database`. The caller's account must own the database.
 */
export function relationSize(engine: Engine, caller: Login, database: string | undefined, name: string): number {
  const dot = name.indexOf('.');
  const db = dot > 0 ? name.slice(0, dot) : database;
  const rel = dot > 0 ? name.slice(dot + 1) : name;
  if (db === undefined) throw Errors.invalidState(`no database selected for relation "${name}": USE a database or write "database.${name}"`);
  engine.accounts.checkDatabaseAccess(caller, db);
  const table = engine.catalog.find(AccountCatalog.internalTableName(db, rel));
  if (table) return table.memoryBytes().dataBytes;
  if (rel.endsWith('_pkey')) {
    const owner = engine.catalog.find(AccountCatalog.internalTableName(db, rel.slice(0, -'_pkey'.length)));
    if (owner) return owner.memoryBytes().indexBytesEstimate;
  }
  throw Errors.tableNotFound(`${db}.${rel}`);
}
