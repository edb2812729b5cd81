// Column types, table definitions and their validation against MOT's limits; value checks for rows.
// A TableSchema is immutable once created: its row layout and indexes never change afterwards. CREATE
// INDEX and DROP INDEX give a table a new TableSchema (withIndex, withoutIndex) with the same columns,
// so the row layout of a table never changes while it exists.

import { Errors, MotError, type ReturnCode, type SqlStateName, type MotCodeName } from '../errors.js';
import {
  TypeCode,
  compileRowCodec,
  layoutColumns,
  utf8ByteLength,
  type ColumnSlot,
  type RowCodec,
  type RowLayout,
  type TypeCodeValue,
} from './row-layout.js';
import { columnReadSource } from './column-access.js';

export type ColumnType = 'int32' | 'int64' | 'float64' | 'bool' | 'varchar' | 'bytes';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** varchar/bytes: declared maximum bytes (UTF-8 bytes for varchar). Required for those, refused for others. */
  size?: number;
  /** Default true; primary key columns are never nullable (forced NOT NULL, as in PostgreSQL). */
  nullable?: boolean;
}

export interface IndexDef {
  name: string;
  columns: string[];
  unique?: boolean;
}

export interface TableDef {
  name: string;
  columns: ColumnDef[];
  primaryKey: string[];
  indexes?: IndexDef[];
}

export type { Value, Row } from './value.js';
import type { Row, Value } from './value.js';

/**
 * MOT's limits, from openGauss-server src/gausskernel/storage/mot/core:
 * system/global.h (MAX_TUPLE_SIZE, MAX_KEY_SIZE, MAX_NUM_INDEXES, MAX_KEY_COLUMNS, MAX_VARCHAR_LEN)
 * and storage/column.h (Column::MAX_COLUMN_NAME_LEN). MOT itself bounds declared columns only by the
 * count given at CREATE TABLE; the 1600 is PostgreSQL/openGauss's MaxHeapAttributeNumber.
 */
export const MotLimits = {
  /** MAX_TUPLE_SIZE: null bitmap + column bytes of one row. */
  tupleBytesMax: 16384,
  /** MAX_KEY_SIZE: total key bytes of one index. */
  keyBytesMax: 256,
  /** MAX_NUM_INDEXES: primary + secondary indexes of one table. */
  indexesMax: 10,
  /** MAX_KEY_COLUMNS: columns in one index key. */
  keyColumnsMax: 10,
  /** MAX_VARCHAR_LEN: declared size of a varchar (and bytea, which MOT stores as varchar). */
  varcharBytesMax: 1024,
  /** Column::MAX_COLUMN_NAME_LEN is 84 including the terminating NUL. */
  columnNameBytesMax: 83,
  /** MaxHeapAttributeNumber (openGauss/PostgreSQL), the bound on columns of any table. */
  declaredColumnsMax: 1600,
} as const;

const COLUMN_TYPES: ReadonlySet<string> = new Set<ColumnType>(['int32', 'int64', 'float64', 'bool', 'varchar', 'bytes']);
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A column as the store sees it: its slot placement plus its declared type and key width. */
export interface ColumnInfo extends ColumnSlot {
  readonly type: ColumnType;
  /** Bytes this column adds to an index key (MOT's Column::m_keySize). */
  readonly keyBytes: number;
}

export interface IndexInfo {
  readonly name: string;
  /** Column positions in key order. */
  readonly columns: readonly number[];
  readonly unique: boolean;
  readonly keyBytes: number;
}

export class TableSchema {
  readonly name: string;
  readonly columns: readonly ColumnInfo[];
  readonly layout: RowLayout;
  /** Whole-row encoder/decoder compiled for this layout. */
  readonly codec: RowCodec;
  /** Slot bytes per row: header + null bitmap + columns, a multiple of 8. */
  readonly rowBytes: number;
  /** Null bitmap + column bytes (the part MOT bounds by MAX_TUPLE_SIZE). */
  readonly dataBytes: number;
  /** Primary key column positions, in key order. */
  readonly primaryKey: readonly number[];
  /** Name of the primary key's unique constraint, as in PostgreSQL: `<table>_pkey`. */
  readonly primaryKeyName: string;
  readonly indexes: readonly IndexInfo[];
  /** Whether column position i is part of the primary key. A bound function: safe to pass around. */
  readonly isKeyColumn: (i: number) => boolean;
  private readonly byName: ReadonlyMap<string, number>;
  /** Compiled per-column checks and rebuild (see normalizeRow). */
  private readonly normalizeColumns: (row: Row, partial: boolean) => NormalizedRow;

  private constructor(readonly def: TableDef, columns: ColumnInfo[], layout: RowLayout, primaryKey: number[], indexes: IndexInfo[]) {
    this.name = def.name;
    this.columns = columns;
    this.layout = layout;
    this.codec = compileRowCodec(layout);
    this.normalizeColumns = compileRowNormalizer(def.name, columns);
    this.rowBytes = layout.rowBytes;
    this.dataBytes = layout.dataBytes;
    this.primaryKey = primaryKey;
    this.primaryKeyName = `${def.name}_pkey`;
    this.indexes = indexes;
    this.byName = new Map(columns.map((c) => [c.name, c.index]));
    const keyFlags = columns.map((c) => primaryKey.includes(c.index));
    this.isKeyColumn = (i: number): boolean => keyFlags[i] === true;
  }

  /** Validates a definition against MOT's limits; throws MotError naming the table and column. */
  static create(def: TableDef): TableSchema {
    const tableName = checkTableName(def);
    const pkNames = checkPrimaryKeyShape(def, tableName);
    const pkSet = new Set(pkNames);
    const shapes = checkColumns(def, tableName, pkSet);
    const layout = layoutColumns(shapes);
    if (layout.dataBytes > MotLimits.tupleBytesMax) {
      throw limitError('RC_EXCEEDS_MAX_ROW_SIZE', 'feature_not_supported', 'MOT_ERROR_INVALID_ARG',
        `Un-support feature: table "${tableName}" tuple size ${layout.dataBytes} exceeds MAX_TUPLE_SIZE=${MotLimits.tupleBytesMax}`);
    }
    const columns: ColumnInfo[] = layout.columns.map((slot) => ({
      ...slot,
      type: def.columns[slot.index].type,
      keyBytes: slot.typeCode >= TypeCode.varchar ? slot.sizeBytes : slot.widthBytes,
    }));
    const byName = new Map(columns.map((c) => [c.name, c.index]));
    const primaryKey = resolveIndexColumns(tableName, `${tableName}_pkey`, pkNames, byName, columns);
    const indexes = checkIndexes(def, tableName, byName, columns);
    const frozen = deepFreezeDef(def, shapes);
    return new TableSchema(frozen, columns, layout, primaryKey, indexes);
  }

  /**
   * This schema with one more secondary index, appended last (CREATE INDEX), validated like a table
   * definition: MOT's limits on indexes per table, key columns and key bytes, known columns, no
   * column twice. The caller checks that the name is free (a duplicate name is refused here too).
   */
  withIndex(index: IndexDef): TableSchema {
    const indexes = [...(this.def.indexes ?? []), normalizeIndexDef(index)];
    return TableSchema.create({ ...this.def, indexes });
  }

  /** This schema without the secondary index `name` (DROP INDEX); the caller checks that it exists. */
  withoutIndex(name: string): TableSchema {
    return TableSchema.create({ ...this.def, indexes: (this.def.indexes ?? []).filter((i) => i.name !== name) });
  }

  /** The secondary index named `name`, if this schema has one. */
  index(name: string): IndexInfo | undefined {
    return this.indexes.find((i) => i.name === name);
  }

  /** Column position by name; throws undefined_column naming table and column. */
  columnIndex(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw Errors.undefinedColumn(this.name, name);
    return i;
  }

  column(name: string): ColumnInfo {
    return this.columns[this.columnIndex(name)];
  }

  hasColumn(name: string): boolean {
    return this.byName.has(name);
  }

  /** Checks one value for a column (type, range, size, NOT NULL). undefined counts as NULL. */
  checkValue(col: ColumnInfo, value: unknown): void {
    if (value === null || value === undefined) {
      if (!col.nullable) throw Errors.nullViolation(this.name, col.name);
      return;
    }
    checkNonNullValue(this.name, col, value);
  }

  /**
   * A row from the API boundary, checked and rebuilt: for insert (partial = false) every column, an
   * absent nullable one as NULL (so the redo entry and the slot always hold a full row); for update
   * (partial = true) only the columns given. Values as rows hold them (int64 as bigint, bytes
   * copied). Refuses a non-object, an unknown column name, NULL in a NOT NULL column and any value
   * that does not fit its column, naming the table and column. `undefined` counts as absent.
   */
  normalizeRow(input: unknown, partial: boolean): Row {
    if (input === null || typeof input !== 'object' || Array.isArray(input) || input instanceof Uint8Array) {
      throw Errors.invalidArgument(`row for table "${this.name}"`, `expected an object of column values, got ${describeValue(input)}`);
    }
    const row = input as Row;
    const out = this.normalizeColumns(row, partial);
    let keys = 0;
    for (const _ in row) keys++;
    if (keys !== out.present) {
      // Some key is not a column (or is a column set to undefined, which counts as absent).
      for (const k in row) if (!this.byName.has(k)) throw Errors.undefinedColumn(this.name, k);
    }
    return out.row;
  }

  /** normalizeRow() without keeping the result: the checks only. */
  checkRow(row: Row, partial: boolean): void {
    this.normalizeRow(row, partial);
  }

  /** SQL-ish spelling of a column's type for messages: `character varying(80)`. */
  typeName(col: ColumnInfo): string {
    return sqlTypeName(col);
  }
}

// ---- value checks (hot path: each branch cheap) ----

/**
 * Straight-line per-column normalization with each column a named property load (monomorphic for
 * rows of one shape), like compileRowCodec. Only JSON-quoted names and booleans enter the source.
 * A full row (partial = false) comes out as one object literal holding every column in declared
 * order, so every row of a table shares one hidden class downstream (codecs, redo encoder).
 */
function compileRowNormalizer(table: string, columns: readonly ColumnInfo[]): (row: Row, partial: boolean) => NormalizedRow {
  const lines = columns.map((c, i) => {
    const read = columnReadSource('row', c.name);
    return c.nullable
      ? `v = ${read}; if (v !== undefined) { present++; if (v !== null) v = check(cols[${i}], v); } c${i} = v;`
      : `v = ${read}; if (v === undefined) { if (!partial) nullViolation(${i}); } ` +
          `else { present++; if (v === null) nullViolation(${i}); else v = check(cols[${i}], v); } c${i} = v;`;
  });
  const locals = columns.map((_, i) => `c${i}`).join(', ');
  const full = columns.map((c, i) => `${JSON.stringify(c.name)}: c${i} === undefined ? null : c${i}`).join(', ');
  const partialOut = columns.map((c, i) => `if (c${i} !== undefined) out[${JSON.stringify(c.name)}] = c${i};`).join(' ');
  const source =
    `return function normalizeRow(row, partial) {\n let v, present = 0, ${locals};\n ${lines.join('\n ')}\n` +
    ` if (!partial) return { present, row: { ${full} } };\n const out = {}; ${partialOut}\n return { present, row: out };\n};`;
  const check = (col: ColumnInfo, v: unknown): Value => checkNonNullValue(table, col, v);
  const nullViolation = (i: number): never => {
    throw Errors.nullViolation(table, columns[i].name);
  };
  const factory = new Function('cols', 'check', 'nullViolation', source) as (...args: unknown[]) => (row: Row, partial: boolean) => NormalizedRow;
  return factory(columns, check, nullViolation);
}

interface NormalizedRow {
  /** Columns the input set (to a value or null; undefined counts as absent). */
  present: number;
  row: Row;
}

/**
 * Checks a non-null value for its column and returns it as rows hold it: an int64 given as a safe
 * integer number becomes its bigint; bytes are copied (the caller may reuse its array).
 */
function checkNonNullValue(table: string, col: ColumnInfo, value: unknown): Value {
  switch (col.typeCode) {
    case TypeCode.int32:
      if (typeof value !== 'number' || (value | 0) !== value) {
        if (typeof value === 'number' && Number.isInteger(value)) {
          throw Errors.valueOutOfRange(table, col.name, 'integer', String(value));
        }
        throw mismatch(table, col, value);
      }
      return value;
    case TypeCode.int64:
      if (typeof value === 'bigint') {
        if (value < INT64_MIN || value > INT64_MAX) throw Errors.valueOutOfRange(table, col.name, 'bigint', String(value));
        return value;
      }
      // A safe integer number is accepted for convenience and stored as its bigint.
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw mismatch(table, col, value);
      return BigInt(value);
    case TypeCode.float64:
      if (typeof value !== 'number') throw mismatch(table, col, value);
      return value;
    case TypeCode.bool:
      if (typeof value !== 'boolean') throw mismatch(table, col, value);
      return value;
    case TypeCode.varchar:
      if (typeof value !== 'string') throw mismatch(table, col, value);
      checkVarchar(table, col, value);
      return value;
    default:
      if (!(value instanceof Uint8Array)) throw mismatch(table, col, value);
      if (value.length > col.sizeBytes) throw Errors.valueTooLong(table, col.name, sqlTypeName(col), value.length);
      return new Uint8Array(value);
  }
}

function checkVarchar(table: string, col: ColumnInfo, s: string): void {
  // Every UTF-16 unit is at least one UTF-8 byte, so a string longer than the limit needs no count.
  const bytes = s.length > col.sizeBytes ? s.length : utf8ByteLength(s);
  if (bytes > col.sizeBytes) throw Errors.valueTooLong(table, col.name, sqlTypeName(col), bytes);
  // A lone surrogate has no UTF-8 form: it would come back as U+FFFD, so refuse it.
  if (!isWellFormed(s)) throw Errors.datatypeMismatch(table, col.name, sqlTypeName(col), 'a string with a lone surrogate');
}

const nativeIsWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;
function isWellFormed(s: string): boolean {
  if (nativeIsWellFormed !== undefined) return nativeIsWellFormed.call(s);
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function mismatch(table: string, col: ColumnInfo, value: unknown): MotError {
  return Errors.datatypeMismatch(table, col.name, sqlTypeName(col), describeValue(value));
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)}`;
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  // Any object, including one without a prototype (String() would throw) or with a hostile toString.
  if (typeof value === 'object') return Array.isArray(value) ? `an array of ${value.length}` : `an object (${Object.prototype.toString.call(value)})`;
  return `${typeof value} ${String(value)}`;
}

/** The SQL name of a column's type, for messages (PostgreSQL's spelling). */
export function sqlTypeName(col: { type: ColumnType; sizeBytes: number }): string {
  switch (col.type) {
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'float64':
      return 'double precision';
    case 'bool':
      return 'boolean';
    case 'varchar':
      return `character varying(${col.sizeBytes})`;
    default:
      return `bytea(${col.sizeBytes})`;
  }
}

// ---- definition checks ----

function limitError(rc: ReturnCode, sqlstate: SqlStateName, code: MotCodeName, message: string, detail?: string): MotError {
  return new MotError({ code, rc, sqlstate, message, detail });
}

function definitionError(message: string): MotError {
  return limitError('RC_ERROR', 'invalid_column_definition', 'MOT_ERROR_INVALID_ARG', message);
}

function checkTableName(def: TableDef): string {
  if (def === null || typeof def !== 'object' || typeof def.name !== 'string' || def.name.length === 0) {
    throw Errors.invalidArgument('table definition', 'the table needs a non-empty name');
  }
  if (!Array.isArray(def.columns) || def.columns.length === 0) {
    throw definitionError(`Can't create table "${def.name}": it has no columns`);
  }
  return def.name;
}

function checkPrimaryKeyShape(def: TableDef, table: string): string[] {
  if (!Array.isArray(def.primaryKey) || def.primaryKey.length === 0) {
    throw definitionError(`Can't create table "${table}": a primary key is required`);
  }
  return def.primaryKey;
}

function checkColumns(
  def: TableDef,
  table: string,
  pkSet: ReadonlySet<string>,
): { name: string; typeCode: TypeCodeValue; sizeBytes: number; nullable: boolean }[] {
  if (def.columns.length > MotLimits.declaredColumnsMax) {
    const extra = def.columns[MotLimits.declaredColumnsMax];
    throw limitError('RC_TABLE_EXCEEDS_MAX_DECLARED_COLS', 'feature_not_supported', 'MOT_ERROR_RESOURCE_LIMIT',
      `Can't create table "${table}"`,
      `Can't add column ${extra?.name}, number of declared columns is limited to ${MotLimits.declaredColumnsMax}`);
  }
  const seen = new Set<string>();
  return def.columns.map((c) => {
    const name = c?.name;
    if (typeof name !== 'string' || name.length === 0) throw definitionError(`Column definition of table "${table}" has no name`);
    if (!COLUMN_TYPES.has(c.type)) {
      throw limitError('RC_UNSUPPORTED_COL_TYPE', 'invalid_column_definition', 'MOT_ERROR_INVALID_ARG',
        `Column definition of ${name} is not supported`,
        `Column type ${String(c.type)} of column "${name}" in table "${table}" is not supported yet`);
    }
    if (seen.has(name)) throw definitionError(`column "${name}" specified more than once in table "${table}"`);
    // Rows are plain objects: this one name would set their prototype instead of a property.
    if (name === '__proto__') throw definitionError(`column name "__proto__" is reserved (table "${table}")`);
    seen.add(name);
    const nameBytes = Buffer.byteLength(name, 'utf8');
    if (nameBytes > MotLimits.columnNameBytesMax) {
      throw limitError('RC_COL_NAME_EXCEEDS_MAX_SIZE', 'invalid_column_definition', 'MOT_ERROR_INVALID_ARG',
        `Column definition of ${name} is not supported`,
        `Column name ${name} in table "${table}" exceeds max name size ${MotLimits.columnNameBytesMax} (${nameBytes} bytes)`);
    }
    const typeCode = TypeCode[c.type];
    const sizeBytes = checkColumnSize(table, c, typeCode);
    const nullable = pkSet.has(name) ? false : c.nullable !== false;
    return { name, typeCode, sizeBytes, nullable };
  });
}

function checkColumnSize(table: string, c: ColumnDef, typeCode: TypeCodeValue): number {
  const varlen = typeCode === TypeCode.varchar || typeCode === TypeCode.bytes;
  if (!varlen) {
    if (c.size !== undefined) {
      throw limitError('RC_COL_SIZE_INVLALID', 'invalid_column_definition', 'MOT_ERROR_INVALID_ARG',
        `Column definition of ${c.name} is not supported`,
        `Column "${c.name}" in table "${table}": a size applies only to varchar and bytes columns`);
    }
    return typeCode === TypeCode.int32 ? 4 : typeCode === TypeCode.bool ? 1 : 8;
  }
  const size = c.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MotLimits.varcharBytesMax) {
    throw limitError('RC_COL_SIZE_INVLALID', 'invalid_column_definition', 'MOT_ERROR_INVALID_ARG',
      `Column definition of ${c.name} is not supported`,
      `Column size ${String(size)} of column "${c.name}" in table "${table}" exceeds max size ${MotLimits.varcharBytesMax} (or is not a positive integer)`);
  }
  return size;
}

function resolveIndexColumns(
  table: string,
  index: string,
  names: readonly string[],
  byName: ReadonlyMap<string, number>,
  columns: readonly ColumnInfo[],
): number[] {
  if (!Array.isArray(names) || names.length === 0) throw definitionError(`Can't create index "${index}" on table "${table}": no columns`);
  if (names.length > MotLimits.keyColumnsMax) {
    // MOT reports ERRCODE_FDW_TOO_MANY_INDEX_COLUMNS here; motsim has no such SQLSTATE, so it
    // reports the closest limit (key too large) and says why in the detail.
    throw limitError('RC_INDEX_EXCEEDS_MAX_SIZE', 'fdw_key_size_exceeds_max_allowed', 'MOT_ERROR_INVALID_ARG',
      `Can't create index "${index}" on table "${table}"`,
      `Number of columns ${names.length} exceeds max allowed ${MotLimits.keyColumnsMax}`);
  }
  const positions: number[] = [];
  let keyBytes = 0;
  for (const name of names) {
    const i = byName.get(name);
    if (i === undefined) throw Errors.undefinedColumn(table, String(name));
    if (positions.includes(i)) throw definitionError(`Can't create index "${index}" on table "${table}": column "${name}" appears twice`);
    positions.push(i);
    keyBytes += columns[i].keyBytes;
  }
  if (keyBytes > MotLimits.keyBytesMax) {
    throw limitError('RC_INDEX_EXCEEDS_MAX_SIZE', 'fdw_key_size_exceeds_max_allowed', 'MOT_ERROR_INVALID_ARG',
      `Can't create index "${index}" on table "${table}"`,
      `Total columns size ${keyBytes} is greater than maximum index size ${MotLimits.keyBytesMax}`);
  }
  return positions;
}

function checkIndexes(def: TableDef, table: string, byName: ReadonlyMap<string, number>, columns: readonly ColumnInfo[]): IndexInfo[] {
  const defs = def.indexes ?? [];
  if (!Array.isArray(defs)) throw Errors.invalidArgument(`indexes of table "${table}"`, 'must be an array');
  if (1 + defs.length > MotLimits.indexesMax) {
    throw limitError('RC_TABLE_EXCEEDS_MAX_INDEXES', 'fdw_too_many_indexes', 'MOT_ERROR_RESOURCE_LIMIT',
      `Can not create index, max number of indexes ${MotLimits.indexesMax} reached`,
      `Total number of indexes for table "${table}" (${1 + defs.length}, with the primary key) is greater than the maximum number of indexes allowed ${MotLimits.indexesMax}`);
  }
  const names = new Set<string>([`${table}_pkey`]);
  return defs.map((d) => {
    if (typeof d?.name !== 'string' || d.name.length === 0) throw definitionError(`an index of table "${table}" has no name`);
    if (names.has(d.name)) throw definitionError(`index "${d.name}" of table "${table}" already exists`);
    names.add(d.name);
    const cols = resolveIndexColumns(table, d.name, d.columns, byName, columns);
    const keyBytes = cols.reduce((sum, i) => sum + columns[i].keyBytes, 0);
    return { name: d.name, columns: cols, unique: d.unique === true, keyBytes };
  });
}

/**
 * An index definition as CREATE INDEX records it: only `name`, `columns` and, for a unique index,
 * `unique: true` (anything else a caller passed is not part of the definition). Shapes that are not
 * an index definition are left for TableSchema.create to refuse.
 */
export function normalizeIndexDef(index: IndexDef): IndexDef {
  if (index === null || typeof index !== 'object') return index;
  const columns = Array.isArray(index.columns) ? [...index.columns] : index.columns;
  return index.unique === true ? { name: index.name, columns, unique: true } : { name: index.name, columns };
}

/** A frozen copy of the definition; each column states its effective nullability. */
function deepFreezeDef(def: TableDef, shapes: readonly { nullable: boolean }[]): TableDef {
  const copy: TableDef = {
    name: def.name,
    columns: def.columns.map((c, i) => Object.freeze({ ...c, nullable: shapes[i].nullable })),
    primaryKey: [...def.primaryKey],
    indexes: (def.indexes ?? []).map((i) => Object.freeze({ ...i, columns: Object.freeze([...i.columns]) as string[] })),
  };
  Object.freeze(copy.columns);
  Object.freeze(copy.primaryKey);
  Object.freeze(copy.indexes);
  return Object.freeze(copy);
}
