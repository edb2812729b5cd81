// Index keys: the primitive a B+ tree is keyed by, and the order-preserving string encoding used for
// composite keys, bytes keys and secondary-index entries. Invariant: for every key encoding here,
// comparing encodings (with the codec's comparator) gives the same order as comparing the values.
//
// Single-column primary keys use the value itself: int32/float64 -> number, bool -> 0/1, varchar ->
// string, int64 -> a number when it is a safe integer (|v| <= 2^53 - 1) and the bigint otherwise:
// one canonical primitive per value, and `<` orders numbers and bigints together exactly, while number
// keys compare several times faster than bigints and need no heap object (below 2^31 they are Smis).
// Everything else is a string of components, each prefix-free, so a
// concatenation compares component by component and a prefix of components bounds a range:
//   int32    4 chars  big-endian bytes (0..255 each) of the value with its sign bit flipped
//   int64    8 chars  same, 64 bits
//   float64  8 chars  big-endian IEEE bits; negative: all bits inverted, else sign bit set;
//                     -0 is encoded as 0 and every NaN as the one NaN, which sorts above +Infinity
//   bool     1 char   0 or 1
//   varchar  the UTF-16 units, U+0000 as "\x01\x01", U+0001 as "\x01\x02", then "\x00"
//   bytes    the bytes as chars, escaped the same way, then "\x00"
//   nullable column (secondary indexes only): "\x00" for NULL, else "\x01" + the component
// Strings order by UTF-16 code units (JavaScript's `<`), for single and composite keys alike.

import BTreeModule from 'sorted-btree';
import * as SortedBTreeNamespace from 'sorted-btree';
import { Errors } from '../errors.js';
import { TypeCode } from './row-layout.js';
import { describeValue, type ColumnInfo, type Value } from './schema.js';
import { columnValue } from './column-access.js';

export type KeyPrimitive = number | bigint | string;
export type KeyKind = 'number' | 'float' | 'int64' | 'string';

/** sorted-btree is CommonJS: under NodeNext its default import is the exports object. */
type BTreeClass = typeof BTreeModule.default;
export type BTree<K, V> = import('sorted-btree').default<K, V>;
export const BTree: BTreeClass = ((BTreeModule as unknown as { default?: BTreeClass }).default ?? BTreeModule) as BTreeClass;
/** Branching factor: bigger leaves cost fewer node headers per entry (memory) for slightly slower edits. */
export const BTREE_NODE_ENTRIES_MAX = 64;

export function newTree<K extends KeyPrimitive>(compare: (a: K, b: K) => number): BTree<K, number> {
  return new BTree<K, number>(undefined, compare, BTREE_NODE_ENTRIES_MAX) as BTree<K, number>;
}

interface BTreeNodeClasses {
  BNode: new (keys: unknown[], values: unknown[]) => { maxKey(): unknown };
  BNodeInternal: new (children: unknown[], size: number, keys?: unknown[]) => unknown;
}
/** The node classes: named CommonJS exports (Node's ESM loader and vitest expose them differently). */
const nodeClasses = ((): BTreeNodeClasses => {
  for (const candidate of [SortedBTreeNamespace, BTreeModule, (SortedBTreeNamespace as { default?: unknown }).default]) {
    const c = candidate as Partial<BTreeNodeClasses> | undefined;
    if (c && typeof c.BNode === 'function' && typeof c.BNodeInternal === 'function') return c as BTreeNodeClasses;
  }
  throw new Error('sorted-btree does not export BNode/BNodeInternal: bulk loading needs them (check its version)');
})();

interface RawNode {
  keys: unknown[];
  values?: unknown[];
  children?: RawNode[];
  _size?: number;
  isShared?: boolean;
}

/**
 * Insert `key` if it is greater than every key in the tree by appending to the rightmost leaf, and
 * return true; otherwise (or if that leaf is full) return false and change nothing. sorted-btree's
 * own insert shifts entries between the rightmost leaves for every ascending key; appending is what
 * a B+ tree does for ascending keys (row ids, sequences), at a fraction of the cost. Uses the
 * library's node layout (pinned version; checked by appendLayoutOk at load and by tests).
 */
export function appendGreatest<K extends KeyPrimitive>(tree: BTree<K, number>, key: K, value: number): boolean {
  if (!appendLayoutOk) return false;
  const t = tree as unknown as { _root: RawNode; _maxNodeSize: number; _compare: (a: K, b: K) => number };
  let node = t._root;
  if (node.keys.length === 0) return false;
  let depth = 0;
  // Bounded by the tree's height.
  while (node.children !== undefined) {
    if (node.isShared) return false;
    appendPath[depth++] = node;
    node = node.children[node.children.length - 1]!;
  }
  const keys = node.keys;
  const values = node.values;
  if (node.isShared || values === undefined || values.length !== keys.length) return clearPath(depth);
  if (t._compare(key, keys[keys.length - 1] as K) <= 0) return clearPath(depth);
  if (keys.length < t._maxNodeSize) {
    keys.push(key);
    values.push(value);
  } else {
    // The rightmost leaf is full: start a new rightmost leaf in its parent, if the parent has room
    // (sorted-btree itself would shift entries into the left sibling, keeping this leaf full).
    const parent = depth > 0 ? appendPath[depth - 1]! : undefined;
    if (parent === undefined || parent.children!.length >= t._maxNodeSize) return clearPath(depth);
    parent.children!.push(new nodeClasses.BNode([key], [value]) as unknown as RawNode);
    parent.keys.push(key);
    parent._size = (parent._size ?? 0) + 1;
    depth--; // the parent's size and last key are already right
    appendPath[depth] = undefined;
  }
  for (let i = 0; i < depth; i++) {
    const p = appendPath[i]!;
    p.keys[p.keys.length - 1] = key;
    p._size = (p._size ?? 0) + 1;
    appendPath[i] = undefined;
  }
  return true;
}

const appendPath: (RawNode | undefined)[] = [];

function clearPath(depth: number): false {
  for (let i = 0; i < depth; i++) appendPath[i] = undefined;
  return false;
}

/** sorted-btree's nodes still look the way appendGreatest expects (else it always declines). */
const appendLayoutOk = ((): boolean => {
  const t = new BTree<number, number>(undefined, (a, b) => a - b, 4);
  for (let i = 0; i < 20; i++) t.set(i, i);
  const root = (t as unknown as { _root: RawNode })._root;
  return Array.isArray(root.keys) && Array.isArray(root.children) && typeof root._size === 'number' && Array.isArray(root.children[0]!.values);
})();

/**
 * A tree holding exactly these pairs, built bottom-up in O(n): `keys` must be strictly increasing by
 * `compare` (the caller checks). Leaves are filled to 3/4 so later inserts do not split at once.
 * Far cheaper than n inserts, which for ascending keys keep rebalancing the right edge.
 */
export function buildTreeFromSorted<K extends KeyPrimitive>(compare: (a: K, b: K) => number, keys: K[], values: number[]): BTree<K, number> {
  const tree = newTree<K>(compare);
  if (keys.length === 0) return tree;
  const fill = Math.max(2, Math.floor((BTREE_NODE_ENTRIES_MAX * 3) / 4));
  let level: unknown[] = [];
  let sizes: number[] = [];
  for (let i = 0; i < keys.length; i += fill) {
    level.push(new nodeClasses.BNode(keys.slice(i, i + fill), values.slice(i, i + fill)));
    sizes.push(Math.min(fill, keys.length - i));
  }
  // Bounded: each round divides the number of nodes by `fill` (>= 2).
  while (level.length > 1) {
    const up: unknown[] = [];
    const upSizes: number[] = [];
    for (let i = 0; i < level.length; i += fill) {
      const children = level.slice(i, i + fill);
      let size = 0;
      for (let j = i; j < Math.min(i + fill, level.length); j++) size += sizes[j]!;
      up.push(new nodeClasses.BNodeInternal(children, size));
      upSizes.push(size);
    }
    level = up;
    sizes = upSizes;
  }
  (tree as unknown as { _root: unknown })._root = level[0];
  return tree;
}

// ---- comparators (monomorphic, so the tree's hot loop stays fast) ----

export function compareInt(a: number, b: number): number {
  return a - b;
}

/** int64 keys: numbers and bigints, compared exactly across the two types. */
export function compareInt64(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Numbers with NaN equal to itself and above everything, -0 equal to 0 (SQL float ordering). */
export function compareFloat(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  return a !== a ? (b !== b ? 0 : 1) : -1;
}

export function comparePrimitive<T extends bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function comparatorFor(kind: KeyKind): (a: never, b: never) => number {
  switch (kind) {
    case 'number':
      return compareInt as (a: never, b: never) => number;
    case 'float':
      return compareFloat as (a: never, b: never) => number;
    case 'int64':
      return compareInt64 as (a: never, b: never) => number;
    default:
      return comparePrimitive as (a: never, b: never) => number;
  }
}

// ---- components ----

const scratch = new DataView(new ArrayBuffer(8));
const fromCharCode = String.fromCharCode;
const NEEDS_ESCAPE = /[\x00\x01]/;

function encodeInt32(v: number): string {
  const u = (v ^ 0x80000000) >>> 0;
  return fromCharCode(u >>> 24, (u >>> 16) & 255, (u >>> 8) & 255, u & 255);
}

function encodeEightBytes(): string {
  const s = scratch;
  return fromCharCode(s.getUint8(0), s.getUint8(1), s.getUint8(2), s.getUint8(3), s.getUint8(4), s.getUint8(5), s.getUint8(6), s.getUint8(7));
}

function encodeInt64(v: bigint): string {
  scratch.setBigInt64(0, v, false);
  scratch.setUint8(0, scratch.getUint8(0) ^ 0x80);
  return encodeEightBytes();
}

function encodeFloat64(v: number): string {
  if (v !== v) {
    scratch.setUint32(0, 0x7ff80000, false);
    scratch.setUint32(4, 0, false);
  } else {
    scratch.setFloat64(0, v === 0 ? 0 : v, false);
  }
  if (scratch.getUint8(0) & 0x80) {
    scratch.setUint32(0, ~scratch.getUint32(0, false) >>> 0, false);
    scratch.setUint32(4, ~scratch.getUint32(4, false) >>> 0, false);
  } else {
    scratch.setUint8(0, scratch.getUint8(0) | 0x80);
  }
  return encodeEightBytes();
}

function escapeUnit(m: string): string {
  return m === '\x00' ? '\x01\x01' : '\x01\x02';
}

function encodeString(s: string): string {
  return (NEEDS_ESCAPE.test(s) ? s.replace(/[\x00\x01]/g, escapeUnit) : s) + '\x00';
}

function encodeBytes(b: Uint8Array): string {
  const codes: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const x = b[i];
    if (x <= 1) codes.push(1, x + 1);
    else codes.push(x);
  }
  codes.push(0);
  let out = '';
  for (let i = 0; i < codes.length; i += 4096) out += fromCharCode(...codes.slice(i, i + 4096));
  return out;
}

/** One non-null component, for a value already checked against its column. */
export function encodeComponent(typeCode: number, v: Exclude<Value, null>): string {
  switch (typeCode) {
    case TypeCode.int32:
      return encodeInt32(v as number);
    case TypeCode.int64:
      return encodeInt64(typeof v === 'bigint' ? v : BigInt(v as number));
    case TypeCode.float64:
      return encodeFloat64(v as number);
    case TypeCode.bool:
      return v ? '\x01' : '\x00';
    case TypeCode.varchar:
      return encodeString(v as string);
    default:
      return encodeBytes(v as Uint8Array);
  }
}

/** The smallest string greater than every string that starts with `prefix` (prefix from this file). */
export function prefixSuccessor(prefix: string): string {
  // Every encoding here ends in a byte char or the "\x00" terminator, never U+FFFF.
  return prefix.slice(0, -1) + fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

// ---- codecs ----

/** Encodes keys over a fixed list of columns (a primary key or a secondary index). */
export class KeyCodec {
  readonly kind: KeyKind;
  readonly compare: (a: KeyPrimitive, b: KeyPrimitive) => number;
  private readonly single: ColumnInfo | undefined;

  constructor(
    private readonly table: string,
    readonly columns: readonly ColumnInfo[],
    /** Secondary entries are always strings (they get a primary-key suffix). */
    forceString: boolean,
  ) {
    const only = columns.length === 1 && !forceString ? columns[0] : undefined;
    this.single = only !== undefined && only.typeCode !== TypeCode.bytes ? only : undefined;
    this.kind = this.single === undefined ? 'string' : kindOf(this.single.typeCode);
    this.compare = comparatorFor(this.kind) as (a: KeyPrimitive, b: KeyPrimitive) => number;
  }

  /**
   * A caller-supplied key (single value, or array for composite) to its primitive; checks shape and
   * types. `prefixAllowed`: an array of the first k < n components (a range bound) is accepted and
   * encodes to a string prefix of every key that starts with those values.
   */
  encode(key: Value | readonly Value[], prefixAllowed = false): KeyPrimitive {
    const single = this.single;
    if (single !== undefined && !Array.isArray(key) && isFastSingle(single.typeCode, key as Value)) {
      return singlePrimitive(single.typeCode, key as Exclude<Value, null>);
    }
    const values = Array.isArray(key) ? (key as readonly Value[]) : [key as Value];
    const n = this.columns.length;
    if (values.length > n || values.length === 0 || (values.length < n && !prefixAllowed)) {
      throw Errors.invalidArgument(
        `key for table "${this.table}"`,
        `expected ${n} value${n === 1 ? '' : 's'} (${this.columns.map((c) => c.name).join(', ')}), got ${values.length}`,
      );
    }
    for (let i = 0; i < values.length; i++) this.checkKeyValue(this.columns[i], values[i]);
    if (values.length < n) return this.encodeStringKey(values);
    return this.fromValues(values);
  }

  /** Whether `key` has fewer components than the codec's columns (only meaningful as a range bound). */
  isPrefix(key: Value | readonly Value[]): boolean {
    return Array.isArray(key) && key.length < this.columns.length;
  }

  /** Key of validated values (all columns, in key order). */
  fromValues(values: readonly Value[]): KeyPrimitive {
    if (this.single !== undefined) return singlePrimitive(this.single.typeCode, values[0] as Exclude<Value, null>);
    return this.encodeStringKey(values);
  }

  /** Key of a validated row (key columns present and non-null). */
  fromRow(row: Readonly<Record<string, Value>>): KeyPrimitive {
    const single = this.single;
    if (single !== undefined) return singlePrimitive(single.typeCode, columnValue(row, single.name) as Exclude<Value, null>);
    let out = '';
    for (const col of this.columns) out += encodeNullable(col, columnValue(row, col.name));
    return out;
  }

  /** Always the string encoding (used as the primary-key suffix of secondary entries). */
  encodeStringKey(values: readonly Value[]): string {
    let out = '';
    for (let i = 0; i < values.length; i++) out += encodeNullable(this.columns[i], values[i]);
    return out;
  }

  private checkKeyValue(col: ColumnInfo, v: unknown): void {
    const ok =
      v === null
        ? col.nullable
        : col.typeCode === TypeCode.int32
          ? typeof v === 'number' && (v | 0) === v
          : col.typeCode === TypeCode.int64
            ? typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))
            : col.typeCode === TypeCode.float64
              ? typeof v === 'number'
              : col.typeCode === TypeCode.bool
                ? typeof v === 'boolean'
                : col.typeCode === TypeCode.varchar
                  ? typeof v === 'string'
                  : v instanceof Uint8Array;
    if (!ok) throw Errors.datatypeMismatch(this.table, col.name, col.type, `key value ${describeValue(v)}`);
  }
}

function encodeNullable(col: ColumnInfo, v: Value | undefined): string {
  if (!col.nullable) return encodeComponent(col.typeCode, v as Exclude<Value, null>);
  return v === null || v === undefined ? '\x00' : '\x01' + encodeComponent(col.typeCode, v);
}

function isFastSingle(typeCode: number, v: Value): boolean {
  switch (typeCode) {
    case TypeCode.int32:
      return typeof v === 'number' && (v | 0) === v;
    case TypeCode.int64:
      return typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v));
    case TypeCode.float64:
      return typeof v === 'number';
    case TypeCode.bool:
      return typeof v === 'boolean';
    case TypeCode.varchar:
      return typeof v === 'string';
    default:
      return false;
  }
}

function kindOf(typeCode: number): KeyKind {
  switch (typeCode) {
    case TypeCode.int32:
    case TypeCode.bool:
      return 'number';
    case TypeCode.float64:
      return 'float';
    case TypeCode.int64:
      return 'int64';
    default:
      return 'string';
  }
}

function singlePrimitive(typeCode: number, v: Exclude<Value, null>): KeyPrimitive {
  switch (typeCode) {
    case TypeCode.int64: {
      if (typeof v !== 'bigint') return v as number; // a checked safe integer
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : v;
    }
    case TypeCode.bool:
      return v ? 1 : 0;
    case TypeCode.float64:
      return v === 0 ? 0 : (v as number); // -0 and 0 are one key
    default:
      return v as number | string;
  }
}

/** `(id)=(42)` / `(a, b)=(1, x)`, as PostgreSQL prints keys in constraint messages. */
export function formatKeyValues(names: readonly string[], values: readonly Value[]): string {
  return `(${names.join(', ')})=(${values.map(formatValue).join(', ')})`;
}

export function formatValue(v: Value): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return '\\x' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return String(v);
}
