// Workloads as data: a list of steps (transactions of operations, or DDL statements), each on a
// session, that fast-check generates and shrinks like any array (fewer steps, fewer operations,
// simpler values, shorter pauses). `runWorkload` in harness.ts plays one on the simulated engine.

import fc from 'fast-check';
import type { IndexDef, Row, TableDef } from '../store/schema.js';
import type { KeyInput } from '../sim/model.js';
import { Errors } from '../errors.js';
import { DEFAULT_SCHEMA, changesArbitrary, checkSchema, keyArbitrary, rowArbitrary, toggledIndexes, type WorkloadSchema } from './schema.js';

/** One operation of a transaction, or a pause (virtual time in which other sessions run and commit). */
export type OperationSpec =
  | { kind: 'read'; table: string; key: KeyInput }
  | { kind: 'scan'; table: string; from?: KeyInput; to?: KeyInput; limit?: number }
  | { kind: 'insert'; table: string; row: Row }
  | { kind: 'update'; table: string; key: KeyInput; changes: Row }
  | { kind: 'delete'; table: string; key: KeyInput }
  | { kind: 'pause'; us: number };

/** A DDL statement; `toggle-*` creates what is absent and drops what is present. */
export type DdlSpec =
  | { kind: 'truncate-table'; table: string }
  | { kind: 'toggle-table'; table: string }
  | { kind: 'toggle-index'; table: string; index: IndexDef };

/** A transaction: `thinkUs` after the session's previous step, its operations, then commit or abort. */
export interface TransactionSpec {
  session: number;
  thinkUs: number;
  ops: OperationSpec[];
  end: 'commit' | 'abort';
}

export interface DdlStepSpec {
  session: number;
  thinkUs: number;
  ddl: DdlSpec;
}

export type WorkloadStep = TransactionSpec | DdlStepSpec;

/** Each session runs its steps in list order; sessions run at once. */
export interface WorkloadSpec {
  schema: WorkloadSchema;
  steps: WorkloadStep[];
}

export const isDdlStep = (s: WorkloadStep): s is DdlStepSpec => 'ddl' in s;

export interface OperationArbitraryOptions {
  /** Longest pause inside a transaction, µs (default 1500: as long as a group-commit timeout or a flush); 0: no pauses. */
  pauseUsMax?: number;
}

/** Any operation on any table of the schema (reads, scans with and without bounds and limits, inserts, updates, deletes, pauses). */
export function operationArbitrary(schema: WorkloadSchema = DEFAULT_SCHEMA, options: OperationArbitraryOptions = {}): fc.Arbitrary<OperationSpec> {
  checkSchema(schema);
  const pauseUsMax = options.pauseUsMax ?? 1500;
  if (!(Number.isInteger(pauseUsMax) && pauseUsMax >= 0)) throw Errors.invalidArgument('pauseUsMax', `${pauseUsMax} is not an integer number of µs >= 0`);
  const perTable = schema.tables.map((def) => tableOperations(schema, def));
  const ops = perTable.flat();
  if (pauseUsMax > 0) ops.push({ arbitrary: fc.integer({ min: 0, max: pauseUsMax }).map((us): OperationSpec => ({ kind: 'pause', us })), weight: 3 });
  return fc.oneof(...ops);
}

function tableOperations(schema: WorkloadSchema, def: TableDef): { arbitrary: fc.Arbitrary<OperationSpec>; weight: number }[] {
  const table = def.name;
  const key = keyArbitrary(schema, def);
  const limit = fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined });
  // A composite key is scanned by the prefix of its first column; a single one by a range.
  const scan =
    def.primaryKey.length > 1
      ? fc.tuple(key, limit).map(([k, l]): OperationSpec => withLimit({ kind: 'scan', table, from: [(k as unknown[])[0]] as KeyInput, to: [(k as unknown[])[0]] as KeyInput }, l))
      : fc.tuple(fc.option(key, { nil: undefined }), fc.option(key, { nil: undefined }), limit).map(([from, to, l]): OperationSpec => {
          const s: OperationSpec = { kind: 'scan', table };
          if (from !== undefined) s.from = from;
          if (to !== undefined) s.to = to;
          return withLimit(s, l);
        });
  return [
    { arbitrary: key.map((k): OperationSpec => ({ kind: 'read', table, key: k })), weight: 3 },
    { arbitrary: scan, weight: 2 },
    { arbitrary: rowArbitrary(schema, def).map((row): OperationSpec => ({ kind: 'insert', table, row })), weight: 4 },
    { arbitrary: fc.tuple(key, changesArbitrary(schema, def)).map(([k, changes]): OperationSpec => ({ kind: 'update', table, key: k, changes })), weight: 3 },
    { arbitrary: key.map((k): OperationSpec => ({ kind: 'delete', table, key: k })), weight: 1 },
  ];
}

function withLimit(s: OperationSpec & { kind: 'scan' }, limit: number | undefined): OperationSpec {
  return limit === undefined ? s : { ...s, limit };
}

/** A DDL statement on the schema: TRUNCATE any table, toggle a droppable table, toggle an index. */
export function ddlArbitrary(schema: WorkloadSchema = DEFAULT_SCHEMA): fc.Arbitrary<DdlSpec> {
  checkSchema(schema);
  const options: fc.Arbitrary<DdlSpec>[] = [fc.constantFrom(...schema.tables.map((t): DdlSpec => ({ kind: 'truncate-table', table: t.name })))];
  if ((schema.droppableTables ?? []).length > 0) options.push(fc.constantFrom(...schema.droppableTables!.map((t): DdlSpec => ({ kind: 'toggle-table', table: t }))));
  const indexes = toggledIndexes(schema);
  if (indexes.length > 0) options.push(fc.constantFrom(...indexes.map(({ table, index }): DdlSpec => ({ kind: 'toggle-index', table, index }))));
  return fc.oneof(...options);
}

export interface WorkloadArbitraryOptions extends OperationArbitraryOptions {
  /** The tables (default DEFAULT_SCHEMA), or an arbitrary of schemas such as schemaArbitrary(). */
  schema?: WorkloadSchema | fc.Arbitrary<WorkloadSchema>;
  /** Sessions the steps are spread over (default 4; the harness maps them onto its sessions). */
  sessions?: number;
  /** Steps at most (default 12). */
  stepsMax?: number;
  /** Operations per transaction at most (default 6). */
  operationsMax?: number;
  /** Longest think time before a step, µs (default 300). */
  thinkUsMax?: number;
  /** Share of steps that are DDL (default 0.08; 0: none). */
  ddlShare?: number;
  /** Share of transactions the client aborts (default 0.1). */
  abortShare?: number;
}

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!(Number.isInteger(v) && v >= min && v <= max)) throw Errors.invalidArgument(name, `${v} is not an integer from ${min} to ${max}`);
  return v;
}

function shareOption(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(v >= 0 && v <= 1)) throw Errors.invalidArgument(name, `${v} is not a share in [0, 1]`);
  return v;
}

/** A transaction on one of `sessions` sessions. */
export function transactionArbitrary(schema: WorkloadSchema = DEFAULT_SCHEMA, options: WorkloadArbitraryOptions = {}): fc.Arbitrary<TransactionSpec> {
  const sessions = intOption('sessions', options.sessions, 4, 1, 1024);
  const operationsMax = intOption('operationsMax', options.operationsMax, 6, 1, 1000);
  const thinkUsMax = intOption('thinkUsMax', options.thinkUsMax, 300, 0, 10_000_000);
  const abortShare = shareOption('abortShare', options.abortShare, 0.1);
  // Weights out of 100: fast-check's oneof takes integers.
  const abortWeight = Math.round(abortShare * 100);
  const ends: { arbitrary: fc.Arbitrary<'commit' | 'abort'>; weight: number }[] = [{ arbitrary: fc.constant('commit' as const), weight: 100 - abortWeight }];
  if (abortWeight > 0) ends.push({ arbitrary: fc.constant('abort' as const), weight: abortWeight });
  return fc.record({
    session: fc.integer({ min: 0, max: sessions - 1 }),
    thinkUs: fc.integer({ min: 0, max: thinkUsMax }),
    ops: fc.array(operationArbitrary(schema, options), { minLength: 1, maxLength: operationsMax }),
    end: fc.oneof(...ends),
  });
}

/**
 * A workload: up to `stepsMax` transactions (and DDL statements) over the schema, spread over the
 * sessions. Shrinks to fewer steps, fewer operations and simpler values.
 */
export function workloadArbitrary(options: WorkloadArbitraryOptions = {}): fc.Arbitrary<WorkloadSpec> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (schema instanceof fc.Arbitrary) return schema.chain((s) => workloadArbitrary({ ...options, schema: s }));
  const stepsMax = intOption('stepsMax', options.stepsMax, 12, 1, 10_000);
  const sessions = intOption('sessions', options.sessions, 4, 1, 1024);
  const ddlWeight = Math.round(shareOption('ddlShare', options.ddlShare, 0.08) * 100);
  const thinkUsMax = intOption('thinkUsMax', options.thinkUsMax, 300, 0, 10_000_000);
  const steps: { arbitrary: fc.Arbitrary<WorkloadStep>; weight: number }[] = [{ arbitrary: transactionArbitrary(schema, options), weight: 100 - ddlWeight }];
  if (ddlWeight > 0) {
    const ddl = fc.record({ session: fc.integer({ min: 0, max: sessions - 1 }), thinkUs: fc.integer({ min: 0, max: thinkUsMax }), ddl: ddlArbitrary(schema) });
    steps.push({ arbitrary: ddl, weight: ddlWeight });
  }
  return fc.array(fc.oneof(...steps), { minLength: 1, maxLength: stepsMax }).map((s) => printable({ schema, steps: s }));
}

/**
 * The workload with a compact fast-check printout (fc.toStringMethod, not enumerable: equality and
 * JSON ignore it), so that a counterexample reads as the history it is rather than as nested JSON.
 */
function printable(w: WorkloadSpec): WorkloadSpec {
  Object.defineProperty(w, fc.toStringMethod, { value: () => describeWorkload(w), enumerable: false });
  return w;
}

/** One line per step: `s1 +40us: read typed 3; pause 200us; insert pairs {...}; commit`. */
export function describeWorkload(w: WorkloadSpec): string {
  const tables = w.schema.tables.map((t) => t.name).join(', ');
  const steps = w.steps.map((step) => {
    const head = `s${step.session} +${step.thinkUs}us: `;
    if (isDdlStep(step)) return head + (step.ddl.kind === 'toggle-index' ? `toggle-index ${step.ddl.table}.${step.ddl.index.name}` : `${step.ddl.kind} ${step.ddl.table}`);
    return head + [...step.ops.map(describeOperation), step.end].join('; ');
  });
  return `workload(tables ${tables}:\n    ${steps.join('\n    ')})`;
}

export function describeOperation(op: OperationSpec): string {
  switch (op.kind) {
    case 'pause':
      return `pause ${op.us}us`;
    case 'read':
    case 'delete':
      return `${op.kind} ${op.table} ${valueText(op.key)}`;
    case 'scan':
      return `scan ${op.table} ${op.from === undefined ? '-' : valueText(op.from)}..${op.to === undefined ? '-' : valueText(op.to)}${op.limit === undefined ? '' : ` limit ${op.limit}`}`;
    case 'insert':
      return `insert ${op.table} ${valueText(op.row)}`;
    case 'update':
      return `update ${op.table} ${valueText(op.key)} set ${valueText(op.changes)}`;
  }
}

/** JSON, with bigints as 5n, bytes as x'00ff', -0, NaN and infinities spelled out. */
export function valueText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `x'${Buffer.from(x).toString('hex')}'` : Object.is(x, -0) ? '-0' : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x,
  ).replace(/"(-?\d+n|x'[0-9a-f]*'|-0|NaN|-?Infinity)"/g, '$1');
}

/** Steps and operations of a workload (pauses not counted): the size of a counterexample. */
export function workloadSize(w: WorkloadSpec): { steps: number; transactions: number; operations: number } {
  const transactions = w.steps.filter((s): s is TransactionSpec => !isDdlStep(s));
  return {
    steps: w.steps.length,
    transactions: transactions.length,
    operations: transactions.reduce((n, t) => n + t.ops.filter((o) => o.kind !== 'pause').length, 0) + (w.steps.length - transactions.length),
  };
}
