// The serializability oracle: OCC's serial order is the commit order (CSN). Replay the transactions of
// one engine incarnation in CSN order on the model (src/sim/model.ts), re-executing each one's
// recorded operations at its place: every answer the engine gave (rows read, ranges scanned, keys
// found absent, inserts refused as duplicates, updates and deletes that found or missed their row)
// must be the answer of that serial execution. A read-only transaction sits after every CSN its
// commit saw (CommitResult.snapshotCsn). Pure: no engine, no I/O.
//
// Which transactions are in the serial order: every one the engine placed in the log (so it passed
// validation) or acknowledged, every acknowledged read-only one, and every one whose writes were
// applied (visible) though its commit was not answered when the engine crashed (appliedUnanswered:
// an asynchronous commit waiting for the event loop's turn before it answers). A transaction whose commit
// was refused after it was placed in the log (the WAL failed) is re-executed at its place, for its
// effects (recovery may find it, if its outcome is unknown), but neither checked nor applied to the
// state later transactions saw: its writes never reached memory.
//
// DDL statements take their place too. CREATE UNIQUE INDEX is checked like a read: accepted, no two
// rows of the state at its place share a non-NULL key; refused with 23505, two do, in the state just
// after the last CSN assigned when the engine checked (LedgerEntry.snapshotCsn: the engine checks the
// rows under the table's lock, once every commit with a CSN up to there has applied its writes).

import { ModelDb, defText, malformedAnswer, rowText, type DdlOp, type OpMismatch, type RecordedOp, type RowEffect } from './model.js';
import type { TableDef } from '../store/schema.js';
import type { LedgerEntry } from './ledger.js';

export interface HistoryViolation {
  /** 'wrong-row-returned': an answer names another key or range; 'not-serializable': it differs from the serial execution. */
  kind: 'not-serializable' | 'wrong-row-returned';
  entry: LedgerEntry;
  message: string;
}

export interface HistoryCheck {
  violations: HistoryViolation[];
  /** Each serialized entry's effects (DDL entries have none: see LedgerEntry.ddl). */
  effects: Map<LedgerEntry, RowEffect[]>;
  /** For each CREATE/DROP INDEX in the serial order: the table's definition after it, as defText. */
  defsAfter: Map<LedgerEntry, string>;
  /** Transactions re-executed (writing and read-only). */
  checked: number;
  /** The model after every applied transaction, in CSN order. */
  state: ModelDb;
}

const MISMATCHES_SHOWN_MAX = 3;

/**
 * Where a transaction sits in the serial order: its CSN if it was placed in the log, acknowledged or
 * applied (an asynchronous commit is visible before its redo is placed, and may be visible before it
 * is answered), or just after its snapshot for a read-only one.
 */
export function serialPosition(e: LedgerEntry): number | undefined {
  if (e.csn !== undefined && e.csn > 0 && (e.logPosition !== undefined || e.outcome === 'acked' || e.appliedUnanswered === true)) return e.csn;
  if (e.outcome === 'acked' && e.readOnly && e.snapshotCsn !== undefined) return e.snapshotCsn + 0.5;
  if (refusedForDuplicates(e)) return e.snapshotCsn! + 0.5;
  return undefined;
}

/** A CREATE INDEX the engine refused with 23505 (duplicate rows), before it reached the log. */
function refusedForDuplicates(e: LedgerEntry): boolean {
  return e.ddl?.ddl === 'create-index' && e.outcome === 'rejected' && e.logPosition === undefined && e.snapshotCsn !== undefined && e.error?.startsWith('23505 ') === true;
}

/**
 * Whether a logged transaction's writes were part of the state that later transactions read: not if
 * its commit was refused, even with its outcome unknown (08007): a refused commit's writes never
 * reach memory (synchronous and group modes apply them only after the flush succeeded), whatever
 * recovery later finds in the log.
 */
function appliedToState(e: LedgerEntry): boolean {
  return e.outcome !== 'rejected';
}

export function checkSerializable(entries: readonly LedgerEntry[], base: ModelDb): HistoryCheck {
  const serial = entries.filter((e) => serialPosition(e) !== undefined).sort((a, b) => serialPosition(a)! - serialPosition(b)!);
  const state = base.clone();
  const violations: HistoryViolation[] = checkWellFormed(entries, base);
  const effects = new Map<LedgerEntry, RowEffect[]>();
  const defsAfter = new Map<LedgerEntry, string>();
  let checked = 0;
  for (const e of serial) {
    if (e.ddl) {
      const problem = checkIndexDdl(e, e.ddl, state);
      if (problem !== undefined) violations.push({ kind: 'not-serializable', entry: e, message: problem });
      if (refusedForDuplicates(e)) continue; // a check only: it changed nothing
      if (e.ddl.ddl === 'create-index' || e.ddl.ddl === 'drop-index') {
        const def = state.defAfter(e.ddl);
        if (def !== undefined) defsAfter.set(e, defText(def));
      }
      if (appliedToState(e)) state.applyDdl(e.ddl);
      effects.set(e, []);
      continue;
    }
    const run = state.execute(e.ops);
    checked++;
    if (run.mismatches.length > 0 && appliedToState(e)) violations.push({ kind: 'not-serializable', entry: e, message: describeMismatches(e, run.mismatches) });
    effects.set(e, run.effects);
    if (appliedToState(e) && !e.readOnly) state.applyEffects(run.effects);
  }
  return { violations, effects, defsAfter, checked, state };
}

/**
 * A CREATE UNIQUE INDEX at its place in the serial order: accepted (logged or acknowledged) only if
 * no two rows share a non-NULL key then; refused with 23505 only if two do.
 */
function checkIndexDdl(e: LedgerEntry, ddl: DdlOp, state: ModelDb): string | undefined {
  if (ddl.ddl !== 'create-index' || ddl.index.unique !== true || !state.has(ddl.table)) return undefined;
  const duplicate = state.duplicateKey(ddl.table, ddl.index.columns);
  const what = `CREATE UNIQUE INDEX ${ddl.index.name} ON ${ddl.table} (${ddl.index.columns.join(', ')})`;
  if (refusedForDuplicates(e)) {
    return duplicate === undefined ? `${what} was refused (${e.error}), but no two rows share a key in the state after CSN ${e.snapshotCsn}` : undefined;
  }
  if (!appliedToState(e) || duplicate === undefined) return undefined;
  return `${what} was accepted at CSN ${e.csn}, but two rows share the key ${duplicate} in the state before it`;
}

/** Every transaction's answers, committed or not, name the keys they were asked for (see malformedAnswer). */
function checkWellFormed(entries: readonly LedgerEntry[], base: ModelDb): HistoryViolation[] {
  const defs = new Map<string, TableDef[]>();
  const add = (def: TableDef): void => void defs.set(def.name, [...(defs.get(def.name) ?? []), def]);
  for (const name of base.tableNames()) add(base.def(name)!);
  for (const e of entries) if (e.ddl?.ddl === 'create') add(e.ddl.def);
  const out: HistoryViolation[] = [];
  for (const e of entries) {
    e.ops.forEach((op, i) => {
      // A name re-created with another definition: the answer must fit one of them.
      const candidates = defs.get(op.table) ?? [];
      const problems = candidates.map((d) => malformedAnswer(d, op));
      if (candidates.length > 0 && problems.every((p) => p !== undefined)) {
        out.push({ kind: 'wrong-row-returned', entry: e, message: `tx#${e.id} (${e.outcome}): op ${i + 1} ${describeOp(op)}: ${problems[0]}` });
      }
    });
  }
  return out;
}

function describeMismatches(e: LedgerEntry, mismatches: OpMismatch[]): string {
  const where = e.readOnly ? `read-only, after CSN ${e.snapshotCsn}` : `CSN ${e.csn}`;
  const shown = mismatches.slice(0, MISMATCHES_SHOWN_MAX).map((m) => `op ${m.index + 1} ${describeOp(m.op)}: the engine answered ${m.got}, a serial execution answers ${m.expected}`);
  const more = mismatches.length > shown.length ? `; and ${mismatches.length - shown.length} more` : '';
  return `tx#${e.id} (${where}) is not serializable in CSN order: ${shown.join('; ')}${more}`;
}

/** One recorded operation, short, for messages and traces. */
export function describeOp(op: RecordedOp): string {
  const k = (key: unknown): string => (Array.isArray(key) ? `(${key.map(String).join(', ')})` : String(key));
  switch (op.op) {
    case 'get':
      return `get ${op.table} ${k(op.key)}`;
    case 'scan':
      return `scan ${op.table} [${op.from === undefined ? '' : k(op.from)}..${op.to === undefined ? '' : k(op.to)}]${op.limit === undefined ? '' : ` limit ${op.limit}`}`;
    case 'insert':
      return `insert ${op.table} ${rowText(op.row)}`;
    case 'update':
      return `update ${op.table} ${k(op.key)} ${rowText(op.changes)}`;
    case 'delete':
      return `delete ${op.table} ${k(op.key)}`;
  }
}
