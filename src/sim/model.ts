// The oracle's picture of a database: tables of rows in plain Maps, with just enough of the engine's
// documented semantics to re-execute a recorded transaction (inserts fill absent nullable columns
// with NULL, int64 numbers are bigints, primary and unique keys refuse duplicates per statement,
// scans are inclusive key ranges in key order, a composite prefix bound covers every key starting
// with it). It shares no code with the engine: it is what the engine is checked against.
// Invariants: a ModelDb is only changed through apply(); clone() is deep enough to branch from.

import type { ColumnDef, ColumnType, IndexDef, Row, TableDef, Value } from '../store/schema.js';

/** A primary key as a workload gives it: one value, or an array for a composite key (or a prefix of one, as a bound). */
export type KeyInput = Value | Value[];

/** One operation a recorded transaction ran, with what the engine answered. */
export type RecordedOp =
  | { op: 'get'; table: string; key: KeyInput; result: Row | undefined }
  | { op: 'scan'; table: string; from?: KeyInput; to?: KeyInput; limit?: number; result: Row[] }
  | { op: 'insert'; table: string; row: Row; result: OpOutcome }
  | { op: 'update'; table: string; key: KeyInput; changes: Row; result: OpOutcome | boolean }
  | { op: 'delete'; table: string; key: KeyInput; result: boolean };

/** 'ok', or the refusal: `23505 <constraint>` (a primary key `<table>_pkey`, or a unique index by name). */
export type OpOutcome = 'ok' | `23505 ${string}`;

/**
 * What a DDL statement did to the catalog. CREATE INDEX appends the index to the table's definition
 * (a unique one then refuses duplicates per statement); DROP INDEX removes it.
 */
export type DdlOp =
  | { ddl: 'create'; table: string; def: TableDef }
  | { ddl: 'drop'; table: string }
  | { ddl: 'truncate'; table: string }
  | { ddl: 'create-index'; table: string; index: IndexDef }
  | { ddl: 'drop-index'; table: string; index: string };

/** A transaction's effect on one row: its final image, or null (deleted). */
export interface RowEffect {
  table: string;
  /** Canonical key (see keyText). */
  key: string;
  row: Row | null;
}

interface ModelTable {
  readonly def: TableDef;
  readonly columns: ReadonlyMap<string, ColumnDef>;
  /** Column names of each unique index, with the index name. */
  readonly uniques: readonly { name: string; columns: readonly string[] }[];
  rows: Map<string, { key: Value[]; row: Row }>;
}

/** A mismatch between what the engine answered and what the model says a serial execution answers. */
export interface OpMismatch {
  index: number;
  op: RecordedOp;
  expected: string;
  got: string;
}

export class ModelDb {
  private readonly tables = new Map<string, ModelTable>();

  static empty(): ModelDb {
    return new ModelDb();
  }

  clone(): ModelDb {
    const out = new ModelDb();
    for (const [name, t] of this.tables) out.tables.set(name, { ...t, rows: new Map(t.rows) });
    return out;
  }

  tableNames(): string[] {
    return [...this.tables.keys()].sort();
  }

  has(table: string): boolean {
    return this.tables.has(table);
  }

  def(table: string): TableDef | undefined {
    return this.tables.get(table)?.def;
  }

  /** Rows of a table in key order. */
  rows(table: string): Row[] {
    const t = this.tables.get(table);
    if (!t) return [];
    return [...t.rows.values()].sort((a, b) => compareKeys(a.key, b.key)).map((r) => r.row);
  }

  applyDdl(op: DdlOp): void {
    if (op.ddl === 'create') {
      this.tables.set(op.table, modelTable(op.def, new Map()));
    } else if (op.ddl === 'drop') {
      this.tables.delete(op.table);
    } else if (op.ddl === 'truncate') {
      const t = this.tables.get(op.table);
      if (t) t.rows = new Map();
    } else {
      const t = this.tables.get(op.table);
      const def = this.defAfter(op);
      if (t && def) this.tables.set(op.table, modelTable(def, t.rows));
    }
  }

  /** The table's definition after an index DDL statement (undefined without the table). */
  defAfter(op: Extract<DdlOp, { ddl: 'create-index' | 'drop-index' }>): TableDef | undefined {
    const def = this.tables.get(op.table)?.def;
    if (def === undefined) return undefined;
    const indexes = def.indexes ?? [];
    if (op.ddl === 'drop-index') return { ...def, indexes: indexes.filter((i) => i.name !== op.index) };
    const added: IndexDef = op.index.unique === true ? { name: op.index.name, columns: [...op.index.columns], unique: true } : { name: op.index.name, columns: [...op.index.columns] };
    return { ...def, indexes: [...indexes, added] };
  }

  /**
   * Two rows of the table sharing a non-NULL key over `columns` (what a unique index on them would
   * refuse): the key as text, or undefined.
   */
  duplicateKey(table: string, columns: readonly string[]): string | undefined {
    const t = this.tables.get(table);
    if (t === undefined) return undefined;
    const seen = new Set<string>();
    for (const { row } of t.rows.values()) {
      const values = columns.map((c) => row[c] ?? null);
      if (values.includes(null)) continue;
      const text = valuesText(values);
      if (seen.has(text)) return `(${columns.join(', ')})=(${text})`;
      seen.add(text);
    }
    return undefined;
  }

  /** Put a row as it is (normalized values), e.g. one read back from an engine. */
  putRow(table: string, row: Row): void {
    const t = this.tables.get(table);
    if (!t) throw new Error(`model: no table "${table}"`);
    const key = keyOfRow(t.def, row);
    t.rows.set(keyText(key), { key, row });
  }

  /**
   * The state as cells for comparing states: `T <table>` holds the table's definition, `R <table>
   * <key>` each row's canonical text.
   */
  cells(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, t] of this.tables) {
      out.set(tableCell(name), defText(t.def));
      for (const [key, r] of t.rows) out.set(rowCell(name, key), rowText(r.row));
    }
    return out;
  }

  applyEffects(effects: readonly RowEffect[]): void {
    for (const e of effects) {
      const t = this.tables.get(e.table);
      if (!t) continue;
      if (e.row === null) t.rows.delete(e.key);
      else t.rows.set(e.key, { key: keyOfRow(t.def, e.row), row: e.row });
    }
  }

  /**
   * Run `ops` as one transaction on this state (unchanged): every answer the engine gave must be the
   * answer here. Returns the mismatches and the transaction's effects (final image per row).
   */
  execute(ops: readonly RecordedOp[]): { mismatches: OpMismatch[]; effects: RowEffect[] } {
    const view = new TxView(this.tables);
    const mismatches: OpMismatch[] = [];
    ops.forEach((op, index) => {
      const expected = view.run(op);
      const got = answerText(op.result);
      if (expected !== got) mismatches.push({ index, op, expected, got });
    });
    return { mismatches, effects: view.effects() };
  }
}

function modelTable(def: TableDef, rows: Map<string, { key: Value[]; row: Row }>): ModelTable {
  const columns = new Map(def.columns.map((c) => [c.name, { ...c, nullable: def.primaryKey.includes(c.name) ? false : c.nullable !== false }]));
  const uniques = (def.indexes ?? []).filter((i) => i.unique === true).map((i) => ({ name: i.name, columns: [...i.columns] }));
  return { def, columns, uniques, rows };
}

/** A transaction's view: the committed model plus its own writes so far. */
class TxView {
  private readonly own = new Map<string, Map<string, { key: Value[]; row: Row } | null>>();

  constructor(private readonly tables: ReadonlyMap<string, ModelTable>) {}

  run(op: RecordedOp): string {
    const t = this.tables.get(op.table);
    if (!t) return 'error 42P01 no such table';
    switch (op.op) {
      case 'get':
        return answerText(this.lookup(t, op.table, keyText(normalizeKey(t.def, op.key)))?.row);
      case 'scan':
        return answerText(this.scan(t, op.table, op.from, op.to, op.limit));
      case 'insert':
        return answerText(this.insert(t, op.table, op.row));
      case 'update':
        return answerText(this.update(t, op.table, op.key, op.changes));
      case 'delete': {
        const key = keyText(normalizeKey(t.def, op.key));
        if (!this.lookup(t, op.table, key)) return answerText(false);
        this.write(op.table, key, null);
        return answerText(true);
      }
    }
  }

  effects(): RowEffect[] {
    const out: RowEffect[] = [];
    for (const [table, m] of this.own) {
      for (const [key, v] of m) {
        const before = this.tables.get(table)?.rows.get(key);
        if (v === null && before === undefined) continue; // inserted, then deleted: no effect
        out.push({ table, key, row: v === null ? null : v.row });
      }
    }
    return out;
  }

  private lookup(t: ModelTable, table: string, key: string): { key: Value[]; row: Row } | undefined {
    const mine = this.own.get(table);
    if (mine?.has(key)) return mine.get(key) ?? undefined;
    return t.rows.get(key);
  }

  private all(t: ModelTable, table: string): { key: Value[]; row: Row }[] {
    const out = new Map(t.rows);
    for (const [k, v] of this.own.get(table) ?? []) {
      if (v === null) out.delete(k);
      else out.set(k, v);
    }
    return [...out.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  private write(table: string, key: string, v: { key: Value[]; row: Row } | null): void {
    let m = this.own.get(table);
    if (!m) this.own.set(table, (m = new Map()));
    m.set(key, v);
  }

  private scan(t: ModelTable, table: string, from: KeyInput | undefined, to: KeyInput | undefined, limit: number | undefined): Row[] {
    const lo = from === undefined ? undefined : boundValues(t.def, from);
    const hi = to === undefined ? undefined : boundValues(t.def, to);
    const out: Row[] = [];
    for (const r of this.all(t, table)) {
      if (lo !== undefined && compareKeys(r.key.slice(0, lo.length), lo) < 0) continue;
      if (hi !== undefined && compareKeys(r.key.slice(0, hi.length), hi) > 0) continue;
      if (limit !== undefined && out.length >= limit) break;
      out.push(r.row);
    }
    return out;
  }

  private insert(t: ModelTable, table: string, input: Row): OpOutcome {
    const row = fullRow(t, input);
    const keyValues = keyOfRow(t.def, row);
    const key = keyText(keyValues);
    if (this.lookup(t, table, key)) return `23505 ${t.def.name}_pkey`;
    const clash = this.uniqueClash(t, table, key, row);
    if (clash) return `23505 ${clash}`;
    this.write(table, key, { key: keyValues, row });
    return 'ok';
  }

  private update(t: ModelTable, table: string, keyInput: KeyInput, changes: Row): OpOutcome | boolean {
    const key = keyText(normalizeKey(t.def, keyInput));
    const cur = this.lookup(t, table, key);
    if (!cur) return false;
    const row = { ...cur.row };
    for (const [name, v] of Object.entries(changes)) if (v !== undefined && t.columns.has(name)) row[name] = normalizeValue(t.columns.get(name)!.type, v);
    const clash = this.uniqueClash(t, table, key, row);
    if (clash) return `23505 ${clash}`;
    this.write(table, key, { key: cur.key, row });
    return true;
  }

  /** The name of a unique index in which another row (of the view) holds `row`'s non-NULL key. */
  private uniqueClash(t: ModelTable, table: string, key: string, row: Row): string | undefined {
    if (t.uniques.length === 0) return undefined;
    const rows = this.all(t, table);
    for (const u of t.uniques) {
      const mine = u.columns.map((c) => row[c] ?? null);
      if (mine.includes(null)) continue;
      const text = valuesText(mine);
      for (const other of rows) {
        if (keyText(other.key) === key) continue;
        if (valuesText(u.columns.map((c) => other.row[c] ?? null)) === text) return u.name;
      }
    }
    return undefined;
  }
}

/**
 * What any answer must satisfy whatever the transaction's fate (aborted ones included: OCC may show
 * an aborting transaction a stale row, never a row of another key): a point read returns the row of
 * the key asked for or none; a scan returns rows inside its range, in strictly ascending key order,
 * at most `limit`. Returns what is wrong, or undefined.
 */
export function malformedAnswer(def: TableDef, op: RecordedOp): string | undefined {
  if (op.op === 'get') {
    if (op.result === undefined) return undefined;
    const want = keyText(normalizeKey(def, op.key));
    const got = keyText(keyOfRow(def, op.result));
    return want === got ? undefined : `get ${want} returned the row of key ${got}`;
  }
  if (op.op !== 'scan') return undefined;
  const lo = op.from === undefined ? undefined : boundValues(def, op.from);
  const hi = op.to === undefined ? undefined : boundValues(def, op.to);
  let prev: Value[] | undefined;
  if (op.limit !== undefined && op.result.length > op.limit) return `scan returned ${op.result.length} rows, more than its limit ${op.limit}`;
  for (const row of op.result) {
    const key = keyOfRow(def, row);
    if (lo !== undefined && compareKeys(key.slice(0, lo.length), lo) < 0) return `scan returned key ${keyText(key)}, below its range`;
    if (hi !== undefined && compareKeys(key.slice(0, hi.length), hi) > 0) return `scan returned key ${keyText(key)}, above its range`;
    if (prev !== undefined && compareKeys(prev, key) >= 0) return `scan returned key ${keyText(key)} after ${keyText(prev)} (not ascending)`;
    prev = key;
  }
  return undefined;
}

// ---- values, keys and their canonical text ----

function normalizeValue(type: ColumnType, v: Value | undefined): Value {
  if (v === undefined || v === null) return null;
  if (type === 'int64' && typeof v === 'number') return BigInt(v);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  return v;
}

function fullRow(t: ModelTable, input: Row): Row {
  const row: Row = {};
  for (const c of t.def.columns) row[c.name] = normalizeValue(c.type, Object.hasOwn(input, c.name) ? input[c.name] : undefined);
  return row;
}

function keyOfRow(def: TableDef, row: Row): Value[] {
  return def.primaryKey.map((name) => normalizeValue(def.columns.find((c) => c.name === name)!.type, row[name]));
}

function normalizeKey(def: TableDef, key: KeyInput): Value[] {
  const values = Array.isArray(key) ? key : [key];
  return values.map((v, i) => normalizeValue(def.columns.find((c) => c.name === def.primaryKey[i])!.type, v));
}

function boundValues(def: TableDef, bound: KeyInput): Value[] {
  return normalizeKey(def, bound);
}

/** Key order: numbers and bigints numerically, booleans false first, strings and bytes by code units with a prefix first. */
export function compareKeys(a: readonly Value[], b: readonly Value[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function compareValues(a: Value, b: Value): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = BigInt(a as bigint | number);
    const y = BigInt(b as bigint | number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  return 0;
}

/** Cell names of ModelDb.cells(). */
export function tableCell(table: string): string {
  return `T ${table}`;
}

export function rowCell(table: string, key: string): string {
  return `R ${JSON.stringify(table)} ${key}`;
}

/** A table definition as text (what a re-created table must match). */
export function defText(def: TableDef): string {
  const cols = def.columns.map((c) => `${c.name}:${c.type}${c.size === undefined ? '' : `(${c.size})`}${c.nullable === false || def.primaryKey.includes(c.name) ? '!' : ''}`);
  const idx = (def.indexes ?? []).map((i) => `${i.unique ? 'unique ' : ''}${i.name}(${i.columns.join(',')})`);
  return `${def.name}(${cols.join(' ')}; pk ${def.primaryKey.join(',')}${idx.length ? `; ${idx.join(' ')}` : ''})`;
}

/** One value as text with its type, so that 1 (int32) and 1n (int64) and '1' differ, and -0 and NaN survive. */
export function valueText(v: Value | undefined): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  return `x'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`;
}

/**
 * The text of a key's values, compared as keys are: -0 and 0 are one key (as in the engine's key
 * encoding and PostgreSQL's float8 equality), though a cell keeps its sign (valueText).
 */
function valuesText(values: readonly Value[]): string {
  return values.map((v) => (Object.is(v, -0) ? '0' : valueText(v))).join(',');
}

/** The canonical text of a primary key (of normalized values). */
export function keyText(values: readonly Value[]): string {
  return valuesText(values);
}

/** The canonical text of a row: its columns by name, in name order. */
export function rowText(row: Row | undefined | null): string {
  if (row === undefined) return 'no row';
  if (row === null) return 'deleted';
  return `{${Object.keys(row)
    .sort()
    .map((k) => `${k}:${valueText(row[k])}`)
    .join(' ')}}`;
}

function answerText(answer: unknown): string {
  if (answer === undefined) return 'no row';
  if (typeof answer === 'string' || typeof answer === 'boolean') return String(answer);
  if (Array.isArray(answer)) return `[${answer.map((r) => rowText(r as Row)).join(', ')}]`;
  return rowText(answer as Row);
}
