// Literals to typed column values (with the column's table and name in every error), value
// comparison for WHERE and ORDER BY, and errors that point at a token of the statement.

import { sqlTypeName, type ColumnDef, type Value } from '../store/schema.js';
import { Errors, MotError } from '../errors.js';
import type { Literal } from './ast.js';
import type { Token } from './lexer.js';

/** The same error with the token's line and column appended to its message. */
export function atToken(e: unknown, t: Token): unknown {
  if (!(e instanceof MotError) || / \(line \d+, column \d+\)$/.test(e.message)) return e;
  return new MotError({ code: e.code, rc: e.rc, sqlstate: e.condition, message: `${e.message} (line ${t.line}, column ${t.column})`, detail: e.detail, cause: e.cause });
}

/** The value a literal stands for in `column` of `table`. */
export function literalValue(table: string, column: ColumnDef, lit: Literal): Value {
  try {
    return convert(table, column, lit);
  } catch (e) {
    throw atToken(e, lit.token);
  }
}

function convert(table: string, col: ColumnDef, lit: Literal): Value {
  if (lit.kind === 'null') return null;
  const mismatch = (): MotError => Errors.datatypeMismatch(table, col.name, sqlTypeOf(col), describeLiteral(lit));
  switch (col.type) {
    case 'int32':
    case 'float64': {
      const text = lit.kind === 'number' ? (lit.negative ? '-' : '') + lit.text : lit.kind === 'string' ? lit.value.trim() : undefined;
      if (text === undefined || text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw mismatch();
      const n = Number(text);
      if (!Number.isFinite(n)) throw outOfRange(table, col, text);
      // A nonzero literal that parses to 0 underflowed (PostgreSQL's float8in refuses it too; a
      // subnormal result is kept, as there).
      if (n === 0 && /[1-9]/.test(mantissa(text))) {
        if (col.type === 'float64') throw outOfRange(table, col, text);
        throw mismatch(); // an integer column: a nonzero value below 1 is not an integer
      }
      if (col.type === 'int32' && !Number.isInteger(n)) throw mismatch();
      return n;
    }
    case 'int64': {
      const text = lit.kind === 'number' ? (lit.negative ? '-' : '') + lit.text : lit.kind === 'string' ? lit.value.trim() : undefined;
      if (text === undefined || !/^[+-]?\d+$/.test(text)) throw mismatch();
      return BigInt(text);
    }
    case 'bool': {
      if (lit.kind === 'bool') return lit.value;
      if (lit.kind === 'string') {
        const v = lit.value.trim().toLowerCase();
        if (['t', 'true', 'yes', 'on', '1'].includes(v)) return true;
        if (['f', 'false', 'no', 'off', '0'].includes(v)) return false;
      }
      throw mismatch();
    }
    case 'varchar':
      if (lit.kind !== 'string') throw mismatch();
      return lit.value;
    case 'bytes': {
      if (lit.kind !== 'string') throw mismatch();
      if (!lit.value.startsWith('\\x')) return new TextEncoder().encode(lit.value);
      const hex = lit.value.slice(2);
      if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw mismatch();
      return Uint8Array.from(Buffer.from(hex, 'hex'));
    }
  }
}

/** 22003, as PostgreSQL: `"1e309" is out of range for type double precision` (or integer). */
function outOfRange(table: string, col: ColumnDef, text: string): MotError {
  return Errors.valueOutOfRange(table, col.name, sqlTypeOf(col), `"${text}"`);
}

/** The digits before the exponent of a numeric literal. */
function mantissa(text: string): string {
  const e = text.search(/[eE]/);
  return e < 0 ? text : text.slice(0, e);
}

function describeLiteral(lit: Literal): string {
  switch (lit.kind) {
    case 'number':
      return `the number ${lit.negative ? '-' : ''}${lit.text}`;
    case 'string':
      return `the string '${lit.value}'`;
    case 'bool':
      return `the boolean ${lit.value}`;
    case 'null':
      return 'NULL';
  }
}

export function sqlTypeOf(col: ColumnDef): string {
  return sqlTypeName({ type: col.type, sizeBytes: col.size ?? 0 });
}

/** Order of two non-NULL values of one column type. */
export function compareValues(a: Value, b: Value): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = a as number | bigint;
  const y = b as number | bigint;
  return x < y ? -1 : x > y ? 1 : 0;
}
