// Ledger entries as plain data (JSON-safe: no bigint, no bytes, no NaN), for violation reports and
// `motsim crash-test --json`, and the one-line text of an entry (traces, the ledger's hash).
// Invariant: formatEntryData(entrySummary(e)) is the line the ledger printed for `e` before entries
// became data, for every entry without the flags added since (outcome-unknown, applied-unanswered,
// index DDL), so run fingerprints (which hash those lines) did not change with the representation.

import type { LedgerEntry, LedgerOutcome } from './ledger.js';
import type { KeyInput, RecordedOp } from './model.js';
import type { Row, Value } from '../store/schema.js';

/**
 * A column value in JSON: numbers, strings, booleans and null as themselves; an int64 as
 * `{ "int64": "<decimal>" }`, bytes as `{ "bytes": "<hex>" }`, a float JSON cannot hold (NaN,
 * ±Infinity, -0) as `{ "float": "NaN" | "Infinity" | "-Infinity" | "-0" }`.
 */
export type JsonValue = number | string | boolean | null | { int64: string } | { bytes: string } | { float: 'NaN' | 'Infinity' | '-Infinity' | '-0' };
export type JsonRow = Record<string, JsonValue>;
/** A primary key: one value, or the values of a composite key (or a prefix of one, as a scan bound). */
export type JsonKey = JsonValue | JsonValue[];

/** One operation of a transaction and the engine's answer (RecordedOp, see src/sim/model.ts). */
export type OperationData =
  | { op: 'get'; table: string; key: JsonKey; result: JsonRow | null }
  | { op: 'scan'; table: string; from?: JsonKey; to?: JsonKey; limit?: number; result: JsonRow[] }
  | { op: 'insert'; table: string; row: JsonRow; result: string }
  | { op: 'update'; table: string; key: JsonKey; changes: JsonRow; result: string | boolean }
  | { op: 'delete'; table: string; key: JsonKey; result: boolean };

/** A DDL statement: the table, and for an index statement the index (its definition, or its name for DROP). */
export interface DdlData {
  ddl: 'create' | 'drop' | 'truncate' | 'create-index' | 'drop-index';
  table: string;
  index?: { name: string; columns: string[]; unique: boolean } | string;
}

/** An entry of the ledger without its operations: what its one-line text shows. */
export interface EntrySummary {
  /** Ledger id, unique across restarts: `tx#<id>`; the checked table's rows carry the id of their writer. */
  id: number;
  /** Engine incarnation it ran in (0, then +1 per restart). */
  epoch: number;
  /** The engine's transaction id (unique within an epoch only; -1 for a DDL statement not seen in the log). */
  transactionId: number;
  session: number;
  socket: number;
  /** Present for a DDL statement (CREATE/DROP/TRUNCATE TABLE, CREATE/DROP INDEX). */
  ddl?: DdlData;
  /** acked: the engine said "committed"; rejected; committing: no answer before the crash; active; rolled-back. */
  result: LedgerOutcome;
  readOnly: boolean;
  /** Rejected with 08007: it may or may not be there after recovery. */
  outcomeUnknown: boolean;
  /** Committing at the crash, yet its writes were applied and visible (it has its CSN): see LedgerEntry.appliedUnanswered. */
  appliedUnanswered?: true;
  /** SQLSTATE and message of a rejection. */
  error?: string;
  /** LSN of the WAL frame holding its COMMIT record, and the end of that frame. */
  lsn?: number;
  frameEndLsn?: number;
  /** Its place in the log order of its epoch (COMMIT records in the order they were placed). */
  logPosition?: number;
  csn?: number;
  /** Read-only or DDL: its place in the serial order is just after this CSN. */
  snapshotCsn?: number;
  /** Virtual times, µs: began, commit called, COMMIT placed in the log, acknowledged, made durable, rejected, rolled back. */
  beganAtUs: number;
  commitCalledAtUs?: number;
  loggedAtUs?: number;
  acknowledgedAtUs?: number;
  durableAtUs?: number;
  rejectedAtUs?: number;
  /** Not in formatEntryData's line (the ledger's hash predates it). */
  rolledBackAtUs?: number;
  /** Its final writes to the checked table: the row's writer id and padding length, or null for a delete. */
  writes: { key: number; value: { v: number; padBytes: number } | null }[];
}

/** An entry of the ledger as data, with every operation it ran and the engine's answers. */
export interface EntryData extends EntrySummary {
  operations: OperationData[];
}

export function entrySummary(e: LedgerEntry): EntrySummary {
  const d: EntrySummary = {
    id: e.id,
    epoch: e.epoch,
    transactionId: e.txId,
    session: e.session,
    socket: e.socket,
    result: e.outcome,
    readOnly: e.readOnly === true,
    outcomeUnknown: e.outcomeUnknown === true,
    beganAtUs: e.beganAtUs,
    writes: e.writes.map((w) => ({ key: w.key, value: w.value === null ? null : { v: w.value.v, padBytes: w.value.pad.length } })),
  };
  if (e.ddl !== undefined) d.ddl = ddlData(e);
  // Optional fields only when known, so the JSON says "absent" rather than null.
  const optional = {
    error: e.error,
    lsn: e.lsn,
    frameEndLsn: e.frameEndLsn,
    logPosition: e.logPosition,
    csn: e.csn,
    snapshotCsn: e.snapshotCsn,
    commitCalledAtUs: e.commitCalledAtUs,
    loggedAtUs: e.loggedAtUs,
    acknowledgedAtUs: e.ackAtUs,
    durableAtUs: e.durableAtUs,
    rejectedAtUs: e.rejectedAtUs,
    rolledBackAtUs: e.rolledBackAtUs,
    appliedUnanswered: e.appliedUnanswered === true ? (true as const) : undefined,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (d as unknown as Record<string, unknown>)[k] = v;
  return d;
}

export function entryData(e: LedgerEntry): EntryData {
  return { ...entrySummary(e), operations: e.ops.map(operationData) };
}

function ddlData(e: LedgerEntry): DdlData {
  const d = e.ddl!;
  if (d.ddl === 'create-index') return { ddl: d.ddl, table: d.table, index: { name: d.index.name, columns: [...d.index.columns], unique: d.index.unique === true } };
  if (d.ddl === 'drop-index') return { ddl: d.ddl, table: d.table, index: d.index };
  return { ddl: d.ddl, table: d.table };
}

export function jsonValue(v: Value): JsonValue {
  if (typeof v === 'bigint') return { int64: v.toString() };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { float: 'NaN' };
    if (v === Number.POSITIVE_INFINITY) return { float: 'Infinity' };
    if (v === Number.NEGATIVE_INFINITY) return { float: '-Infinity' };
    if (Object.is(v, -0)) return { float: '-0' };
  }
  return v;
}

function jsonRow(row: Row): JsonRow {
  const out: JsonRow = {};
  for (const [k, v] of Object.entries(row)) if (v !== undefined) out[k] = jsonValue(v);
  return out;
}

function jsonKey(key: KeyInput): JsonKey {
  return Array.isArray(key) ? key.map(jsonValue) : jsonValue(key);
}

function operationData(op: RecordedOp): OperationData {
  switch (op.op) {
    case 'get':
      return { op: 'get', table: op.table, key: jsonKey(op.key), result: op.result === undefined ? null : jsonRow(op.result) };
    case 'scan': {
      const d: OperationData = { op: 'scan', table: op.table, result: op.result.map(jsonRow) };
      if (op.from !== undefined) d.from = jsonKey(op.from);
      if (op.to !== undefined) d.to = jsonKey(op.to);
      if (op.limit !== undefined) d.limit = op.limit;
      return d;
    }
    case 'insert':
      return { op: 'insert', table: op.table, row: jsonRow(op.row), result: op.result };
    case 'update':
      return { op: 'update', table: op.table, key: jsonKey(op.key), changes: jsonRow(op.changes), result: op.result };
    case 'delete':
      return { op: 'delete', table: op.table, key: jsonKey(op.key), result: op.result };
  }
}

/** "tx#12", or the DDL statement ("ddl create-index typed typed_s_uq(s)"). */
export function entryLabel(d: EntrySummary): string {
  const x = d.ddl;
  if (x === undefined) return `tx#${d.id}`;
  const index =
    x.ddl === 'create-index' && typeof x.index === 'object' ? ` ${x.index.unique ? 'unique ' : ''}${x.index.name}(${x.index.columns.join(',')})` : x.ddl === 'drop-index' ? ` ${String(x.index)}` : '';
  return `ddl ${x.ddl} ${x.table}${index}`;
}

/** One line per entry, for traces and the ledger's hash (the same text for an entry and its data). */
export function formatEntryData(d: EntrySummary): string {
  const writes = d.writes.map((w) => (w.value === null ? `del ${w.key}` : `put ${w.key}=${w.value.v}/${w.value.padBytes}B`)).join(', ');
  const at = (label: string, us: number | undefined): string => (us === undefined ? '' : ` ${label}@${Math.round(us)}us`);
  return (
    `${entryLabel(d)} (id ${d.id}, epoch ${d.epoch}, txId ${d.transactionId}, session ${d.session}, socket ${d.socket}) ${d.result}` +
    (d.readOnly ? ' read-only' : '') +
    (d.outcomeUnknown ? ' outcome-unknown' : '') +
    (d.appliedUnanswered === true ? ' applied-unanswered' : '') +
    (d.lsn === undefined ? '' : ` lsn ${d.lsn}`) +
    (d.csn === undefined ? '' : ` csn ${d.csn}`) +
    at('began', d.beganAtUs) +
    at('commit', d.commitCalledAtUs) +
    at('logged', d.loggedAtUs) +
    at('acked', d.acknowledgedAtUs) +
    at('durable', d.durableAtUs) +
    at('rejected', d.rejectedAtUs) +
    (d.error ? ` (${d.error})` : '') +
    ` [${writes}]`
  );
}
