// The tables a generated workload runs over, and the fast-check arbitraries of their keys, rows and
// column values. Values are drawn from small pools (boundary values of each type, NULL, a few small
// ones) so that generated transactions meet on the same keys and unique values, and shrink to the
// simplest value of each pool.

import fc from 'fast-check';
import type { ColumnDef, IndexDef, Row, TableDef, Value } from '../store/schema.js';
import type { KeyInput } from '../sim/model.js';
import { Errors } from '../errors.js';
import { BYTES, FLOATS, INT32S, INT64S, PAIR_BS, PAIRS_TABLE, SCRATCH_TABLE, STRINGS, TOGGLED_INDEXES, TYPED_TABLE, UNIQUES } from '../sim/default-workload.js';

/** The tables of a workload, and what its DDL may do to them. */
export interface WorkloadSchema {
  /** Created (and flushed) before the history starts. */
  tables: readonly TableDef[];
  /**
   * Secondary indexes DDL creates when absent and drops when present. Default: a unique index on each
   * non-key column of each table (`<table>_<column>_fc_uq`).
   */
  toggledIndexes?: readonly { table: string; index: IndexDef }[];
  /** Tables DDL may drop (and create again); default none: DROP TABLE ends every later operation on it. */
  droppableTables?: readonly string[];
  /** Values a column takes, keyed `table.column` (default: its type's pool, see valueArbitrary). */
  values?: Readonly<Record<string, readonly Value[]>>;
}

/**
 * The default workload's tables (src/sim/default-workload.ts): every column type, NULLs, a unique and
 * a non-unique index, a composite key scanned by prefix, and a scratch table that is dropped and
 * created again; the indexes it toggles are the default workload's.
 */
export const DEFAULT_SCHEMA: WorkloadSchema = {
  tables: [TYPED_TABLE, PAIRS_TABLE, SCRATCH_TABLE],
  toggledIndexes: TOGGLED_INDEXES,
  droppableTables: [SCRATCH_TABLE.name],
  values: {
    'typed.u': UNIQUES,
    'typed.g': [0, 1, 2],
    'typed.b': [true, false],
    'scratch.x': ['x', 'yy', ''],
  },
};

/** Keys per key column: few, so transactions conflict. */
const KEY_INTS = { min: 0, max: 4 };

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Any value of a column's type, from its pool: boundary values and a few small ones (never NULL). */
export function valueArbitrary(column: ColumnDef): fc.Arbitrary<Value> {
  const size = column.size ?? 0;
  switch (column.type) {
    case 'int32':
      return fc.oneof(fc.integer({ min: -2, max: 3 }), fc.constantFrom(...INT32S));
    case 'int64':
      return fc.oneof(fc.bigInt({ min: -2n, max: 3n }), fc.constantFrom(...INT64S));
    case 'float64':
      return fc.oneof(fc.constantFrom(0, 1.5, -2.25), fc.constantFrom(...FLOATS));
    case 'bool':
      return fc.boolean();
    case 'varchar':
      return fc.constantFrom(...['a', 'b', ...STRINGS].filter((s) => utf8Bytes(s) <= size));
    case 'bytes':
      return fc.constantFrom(...BYTES.filter((b) => b.length <= size));
  }
}

/** A value of a key column, from a pool of a few (so that transactions meet on the same rows). */
export function keyValueArbitrary(column: ColumnDef): fc.Arbitrary<Value> {
  const size = column.size ?? 0;
  switch (column.type) {
    case 'int32':
      return fc.integer(KEY_INTS);
    case 'int64':
      return fc.bigInt({ min: BigInt(KEY_INTS.min), max: BigInt(KEY_INTS.max) });
    case 'float64':
      return fc.constantFrom(0, 1.5, 2);
    case 'bool':
      return fc.boolean();
    case 'varchar':
      return fc.constantFrom(...PAIR_BS.filter((s) => utf8Bytes(s) <= size));
    case 'bytes':
      return fc.constantFrom(...BYTES.slice(0, 3).filter((b) => b.length <= size));
  }
}

export function findTable(schema: WorkloadSchema, name: string): TableDef {
  const def = schema.tables.find((t) => t.name === name);
  if (!def) throw Errors.invalidArgument('table', `"${name}" is not a table of the schema (${schema.tables.map((t) => t.name).join(', ')})`);
  return def;
}

function columnOf(def: TableDef, name: string): ColumnDef {
  const column = def.columns.find((c) => c.name === name);
  if (!column) throw Errors.invalidArgument('schema', `table "${def.name}" has no column "${name}" (named by its primary key)`);
  return column;
}

/** A column's non-NULL values: the schema's list for it, or its type's pool. */
function columnValues(schema: WorkloadSchema, def: TableDef, column: ColumnDef): fc.Arbitrary<Value> {
  const given = schema.values?.[`${def.name}.${column.name}`];
  if (given !== undefined) {
    if (given.length === 0) throw Errors.invalidArgument('schema.values', `"${def.name}.${column.name}" lists no values`);
    return fc.constantFrom(...given);
  }
  return def.primaryKey.includes(column.name) ? keyValueArbitrary(column) : valueArbitrary(column);
}

/** A full primary key of `def`: one value, or an array for a composite key. */
export function keyArbitrary(schema: WorkloadSchema, def: TableDef): fc.Arbitrary<KeyInput> {
  const parts = def.primaryKey.map((name) => columnValues(schema, def, columnOf(def, name)));
  return parts.length === 1 ? parts[0]! : fc.tuple(...parts).map((values) => values as Value[]);
}

/** A non-key column's value: NULL now and then when nullable. */
function cellArbitrary(schema: WorkloadSchema, def: TableDef, column: ColumnDef): fc.Arbitrary<Value> {
  const values = columnValues(schema, def, column);
  return column.nullable === false ? values : fc.oneof(values, fc.constant(null));
}

const nonKeyColumns = (def: TableDef): ColumnDef[] => def.columns.filter((c) => !def.primaryKey.includes(c.name));

/** A row to insert: every key column; nullable columns now and then omitted (stored as NULL) or NULL. */
export function rowArbitrary(schema: WorkloadSchema, def: TableDef): fc.Arbitrary<Row> {
  const model: Record<string, fc.Arbitrary<Value | undefined>> = {};
  for (const c of def.columns) {
    if (def.primaryKey.includes(c.name)) model[c.name] = columnValues(schema, def, c);
    else model[c.name] = c.nullable === false ? cellArbitrary(schema, def, c) : fc.option(cellArbitrary(schema, def, c), { nil: undefined });
  }
  return fc.record(model).map(definedOnly);
}

/** Changes of an update: some non-key columns, each with a new value (or NULL). */
export function changesArbitrary(schema: WorkloadSchema, def: TableDef): fc.Arbitrary<Row> {
  const model: Record<string, fc.Arbitrary<Value>> = {};
  for (const c of nonKeyColumns(def)) model[c.name] = cellArbitrary(schema, def, c);
  return fc.record(model, { requiredKeys: [] }).map(definedOnly);
}

function definedOnly(r: Record<string, Value | undefined>): Row {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Row;
}

/** The indexes DDL toggles: the schema's, or a unique index on each non-key column. */
export function toggledIndexes(schema: WorkloadSchema): readonly { table: string; index: IndexDef }[] {
  if (schema.toggledIndexes !== undefined) return schema.toggledIndexes;
  return schema.tables.flatMap((def) => nonKeyColumns(def).map((c) => ({ table: def.name, index: { name: `${def.name}_${c.name}_fc_uq`, columns: [c.name], unique: true } })));
}

/** Checks a schema given by a user before anything runs on it: a typed error naming what is wrong. */
export function checkSchema(schema: WorkloadSchema): void {
  if (schema.tables.length === 0) throw Errors.invalidArgument('schema.tables', 'lists no table');
  for (const def of schema.tables) for (const k of def.primaryKey) columnOf(def, k);
  for (const t of schema.droppableTables ?? []) findTable(schema, t);
  for (const { table } of toggledIndexes(schema)) findTable(schema, table);
}

/** Column names that are also Object.prototype members: generated schemas use them now and then. */
export const INHERITED_COLUMN_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'] as const;

/**
 * A generated schema: 1..`tablesMax` tables `t0`, `t1`... with a one- or two-column primary key
 * (int32, int64 or varchar), up to four further columns of any type, nullable or not, named `c<j>`
 * or, one time in four, like an Object.prototype member (INHERITED_COLUMN_NAMES), and up to two
 * secondary indexes, unique or not.
 */
export function schemaArbitrary(options: { tablesMax?: number } = {}): fc.Arbitrary<WorkloadSchema> {
  const tablesMax = options.tablesMax ?? 2;
  if (!(Number.isInteger(tablesMax) && tablesMax >= 1 && tablesMax <= 8)) throw Errors.invalidArgument('tablesMax', `${tablesMax} is not an integer from 1 to 8`);
  const keyColumn = fc.oneof(
    fc.constant({ type: 'int32' as const }),
    fc.constant({ type: 'int64' as const }),
    fc.constant({ type: 'varchar' as const, size: 8 }),
  );
  const column = fc.record({
    // Now and then a name that an Object.prototype member also has (issue 9, defect 16: such columns
    // broke UPDATE and inserts that omitted them), so the oracle meets them without being told.
    inheritedName: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.constantFrom(...INHERITED_COLUMN_NAMES), weight: 1 }),
    type: fc.constantFrom('int32', 'int64', 'float64', 'bool', 'varchar', 'bytes') as fc.Arbitrary<ColumnDef['type']>,
    size: fc.integer({ min: 1, max: 24 }),
    nullable: fc.boolean(),
  });
  const table = fc.record({
    keys: fc.array(keyColumn, { minLength: 1, maxLength: 2 }),
    columns: fc.array(column, { minLength: 0, maxLength: 4 }),
    indexes: fc.array(fc.record({ column: fc.nat(), unique: fc.boolean() }), { maxLength: 2 }),
  });
  return fc.array(table, { minLength: 1, maxLength: tablesMax }).map((tables) => ({
    tables: tables.map((t, i): TableDef => {
      const name = `t${i}`;
      const keys = t.keys.map((k, j): ColumnDef => ({ name: `k${j}`, nullable: false, ...k }));
      const taken = new Set<string>();
      const others = t.columns.map((c, j): ColumnDef => ({
        name: c.inheritedName !== null && !taken.has(c.inheritedName) ? (taken.add(c.inheritedName), c.inheritedName) : `c${j}`,
        type: c.type,
        nullable: c.nullable,
        ...(c.type === 'varchar' || c.type === 'bytes' ? { size: c.size } : {}),
      }));
      const indexes: IndexDef[] = [];
      for (const ix of others.length === 0 ? [] : t.indexes) {
        const col = others[ix.column % others.length]!.name;
        if (!indexes.some((x) => x.columns[0] === col)) indexes.push({ name: `${name}_${col}_ix`, columns: [col], unique: ix.unique });
      }
      return { name, columns: [...keys, ...others], primaryKey: keys.map((k) => k.name), ...(indexes.length > 0 ? { indexes } : {}) };
    }),
  }));
}
