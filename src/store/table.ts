// A table's rows in memory: fixed-size slots in 2 MiB chunks taken from the inserting session's NUMA
// node, a primary index (key -> slot) and secondary indexes ((index key, primary key) -> slot).
// Invariants: a slot is LIVE iff the primary index and every secondary index each hold exactly one
// entry pointing at it; free slots are all-zero; slot ids change only in vacuum(). The schema (and so
// the set of secondary indexes) changes only through redefine() (CREATE/DROP INDEX), which keeps the
// columns and row layout and moves schemaVersion and changeCount.

import { Errors, MotError, assert } from '../errors.js';
import { CHUNK_BYTES, type Chunk, type ChunkPools } from './chunk-pool.js';
import {
  ROW_FLAGS_OFFSET,
  ROW_FLAG_LIVE,
  checkRawRow,
  readColumnAt,
  readCsn,
  writeColumnAt,
  writeCsn,
  writeFlags,
  type RowCodec,
  type RowLayout,
} from './row-layout.js';
import {
  KeyCodec,
  encodeComponent,
  formatKeyValues,
  newTree,
  buildTreeFromSorted,
  appendGreatest,
  prefixSuccessor,
  type BTree,
  type KeyPrimitive,
} from './key.js';
import { describeValue, type ColumnInfo, type IndexInfo, type Row, type TableSchema, type Value } from './schema.js';
import { columnValue } from './column-access.js';

/**
 * Address of a row slot: chunkNumber * slotsPerChunk + slotIndex, where chunkNumber indexes the
 * table's own chunk list. O(1) to resolve; valid until the row is removed or the table vacuumed.
 */
export type SlotId = number;

/** Slot ids stay below 2^31 so `| 0` arithmetic is exact and ids are small integers in V8. */
export const SLOT_IDS_MAX = 2 ** 31;
/** Rows a scan reads from the index at a time; it re-seeks after any change to the table. */
export const SCAN_BATCH_ROWS = 64;

// Rough V8 costs behind memoryBytes().indexBytesEstimate (64-bit, no pointer compression).
const INDEX_ENTRY_BYTES = 20; // key + value slots in a mostly full 64-entry leaf, plus internal nodes (measured ~19-25)
/** int64 keys: Smi (0 bytes) below 2^31, unboxed or boxed doubles above; bigints past 2^53. */
const INT64_KEY_BYTES = 4;
const HEAP_NUMBER_BYTES = 16;
const STRING_HEADER_BYTES = 24;

export interface ScanOptions {
  limit?: number;
  /** Descending key order over the same range. */
  reverse?: boolean;
  /** Whether `to` itself (or, for a composite prefix, every key starting with it) is in range. */
  toInclusive?: boolean;
}

/** Bounds of a scan as primary-index keys (see Table.encodeRange). */
export interface KeyRange {
  readonly lo: KeyPrimitive | undefined;
  readonly hi: KeyPrimitive | undefined;
  readonly hiInclusive: boolean;
}

/** A scan's row limit: undefined (none) or an integer >= 0, else a MotError naming the table. */
export function checkScanLimit(table: string, limit: unknown): number {
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (typeof limit !== 'number' || !(limit >= 0) || (limit !== Number.POSITIVE_INFINITY && !Number.isInteger(limit))) {
    throw Errors.invalidArgument(`scan limit on table "${table}"`, `must be an integer >= 0, got ${describeValue(limit)}`);
  }
  return limit;
}

export interface TableMemory {
  /** Chunks held by the table x 2 MiB (what MOT reports as the table's size). */
  dataBytes: number;
  /** Live rows x slot bytes. */
  liveRowBytes: number;
  /** JS-heap cost of the primary and secondary indexes, estimated from entry counts and key sizes. */
  indexBytesEstimate: number;
  chunks: number;
}

interface SocketCursor {
  /** Chunk being filled (-1 before the first). */
  chunkNo: number;
  /** Next never-used slot index in that chunk; slotsPerChunk when full. */
  nextIndex: number;
  /** Freed slots of this socket's chunks, reused first (LIFO). */
  readonly freeSlots: SlotId[];
}

class SecondaryIndex {
  readonly tree: BTree<string, SlotId>;
  readonly codec: KeyCodec;
  readonly columns: readonly ColumnInfo[];
  readonly columnNames: readonly string[];
  entryChars = 0;

  constructor(
    readonly info: IndexInfo,
    table: string,
    all: readonly ColumnInfo[],
  ) {
    this.columns = info.columns.map((i) => all[i]);
    this.columnNames = this.columns.map((c) => c.name);
    this.codec = new KeyCodec(table, this.columns, true);
    this.tree = newTree<string>((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

export class Table {
  readonly name: string;
  private readonly layout: RowLayout;
  private readonly codec: RowCodec;
  private readonly slotBytes: number;
  private readonly slotsPerChunk: number;
  private readonly pk: KeyCodec;
  private readonly pkColumns: readonly ColumnInfo[];
  private readonly pkNames: readonly string[];
  private primary: BTree<KeyPrimitive, SlotId>;
  /** Set between beginLoad() and finishLoad(): rows loaded but not yet in the primary index. */
  private loading: { keys: KeyPrimitive[]; slots: SlotId[] } | undefined;
  /** In the schema's index order (redefine() replaces the list). */
  private secondaries: readonly SecondaryIndex[];
  private byIndexName: ReadonlyMap<string, SecondaryIndex>;
  /** The unique ones among `secondaries`, in order: a unique index's position is its place here. */
  private uniques: readonly SecondaryIndex[];
  private schemaNow: TableSchema;
  /** Bumped by every redefine() (CREATE/DROP INDEX). */
  private schemaVersionNow = 0;
  private readonly allocPurpose: string;

  private chunks: (Chunk | undefined)[] = [];
  private freeChunkNos: number[] = [];
  private chunkCount = 0;
  private cursors: (SocketCursor | undefined)[] = [];
  private rows = 0;
  /** Bumped by every insert/remove/vacuum/truncate: open scans re-seek when it moves. */
  private modCount = 0;
  /** Bumped by every update and version change (with modCount: any change a reader could see). */
  private updateCount = 0;
  private primaryKeyChars = 0;
  private isDropped = false;
  /** Chunk of the slot last resolved by locate() (avoids allocating a pair per call). */
  private hit: Chunk | undefined;
  private readonly pairScratch: [KeyPrimitive, SlotId] = [0, 0];

  constructor(
    readonly id: number,
    schema: TableSchema,
    private readonly pools: ChunkPools,
  ) {
    this.schemaNow = schema;
    this.name = schema.name;
    this.layout = schema.layout;
    this.codec = schema.codec;
    this.slotBytes = schema.rowBytes;
    this.slotsPerChunk = Math.floor(CHUNK_BYTES / this.slotBytes);
    this.pkColumns = schema.primaryKey.map((i) => schema.columns[i]);
    this.pkNames = this.pkColumns.map((c) => c.name);
    this.pk = new KeyCodec(schema.name, this.pkColumns, false);
    this.primary = newTree<KeyPrimitive>(this.pk.compare);
    this.secondaries = schema.indexes.map((info) => new SecondaryIndex(info, schema.name, schema.columns));
    this.byIndexName = new Map(this.secondaries.map((ix) => [ix.info.name, ix]));
    this.uniques = this.secondaries.filter((ix) => ix.info.unique);
    this.allocPurpose = `rows of table "${schema.name}"`;
  }

  get dropped(): boolean {
    return this.isDropped;
  }

  /** The table's definition now: columns never change, indexes change with redefine(). */
  get schema(): TableSchema {
    return this.schemaNow;
  }

  /**
   * Moves with every CREATE or DROP INDEX on the table. A transaction records it when it first
   * touches the table and cannot go on or commit once it moved: its unique-key checks and claims
   * were made against the indexes of then (unique indexes are referred to by position).
   */
  get schemaVersion(): number {
    return this.schemaVersionNow;
  }

  /**
   * A number that changes whenever anything a reader could observe changes (rows, versions, slot
   * ids, indexes, the table being dropped). Optimistic validation is skipped when it has not moved.
   */
  get changeCount(): number {
    return this.modCount + this.updateCount + this.schemaVersionNow + (this.isDropped ? 1 : 0);
  }

  // ---- index DDL ----

  /**
   * Throws the unique violation (23505, naming the index and a duplicated key) that building the
   * index `info` over the live rows would meet, if `info` is unique and two rows share a non-NULL
   * key; nothing changes. CREATE INDEX calls it before its redo is logged.
   */
  checkIndexBuildable(info: IndexInfo): void {
    this.checkNotDropped();
    this.buildSecondary(info);
  }

  /**
   * Take `schema` (the same columns; indexes added or removed, CREATE/DROP INDEX): indexes it no
   * longer has are dropped, new ones built over the live rows. All or nothing: a unique violation
   * while building throws before anything changes (the caller checked with checkIndexBuildable()).
   */
  redefine(schema: TableSchema): void {
    this.checkNotDropped();
    assert(schema.rowBytes === this.schemaNow.rowBytes && schema.columns.length === this.schemaNow.columns.length, `table "${this.name}" keeps its columns`);
    const next = schema.indexes.map((info) => {
      const have = this.byIndexName.get(info.name);
      if (have !== undefined && sameIndex(have.info, info)) return have;
      return this.buildSecondary(info);
    });
    this.schemaNow = schema;
    this.secondaries = next;
    this.byIndexName = new Map(next.map((ix) => [ix.info.name, ix]));
    this.uniques = next.filter((ix) => ix.info.unique);
    this.schemaVersionNow++;
  }

  /** A secondary index over every live row; a unique one throws 23505 at the first duplicate. */
  private buildSecondary(info: IndexInfo): SecondaryIndex {
    const ix = new SecondaryIndex(info, this.name, this.schemaNow.columns);
    const pair = [] as unknown as (KeyPrimitive | SlotId)[]; // findUnique() uses pairScratch
    for (const [, slot] of this.primary.entries(undefined, pair)) {
      const base = this.locate(slot);
      const chunk = this.hit!;
      const values = this.indexValuesAt(ix, chunk, base);
      const prefix = ix.codec.encodeStringKey(values);
      if (info.unique && this.findUnique(ix, prefix, slot, values) !== undefined) {
        throw Errors.uniqueViolation(this.name, info.name, formatKeyValues(ix.columnNames, values));
      }
      const entry = prefix + this.primarySuffixAt(chunk, base);
      ix.tree.set(entry, slot);
      ix.entryChars += entry.length;
    }
    return ix;
  }

  // ---- reads ----

  /** Slot of the row with this primary key (single value, or array for composite), if any. */
  lookup(key: Value | Value[]): SlotId | undefined {
    return this.primary.get(this.pk.encode(key, false));
  }

  /** Slot of the row whose encodeKey() is `encodedKey` (skips re-encoding a key the caller holds). */
  lookupEncoded(encodedKey: KeyPrimitive): SlotId | undefined {
    return this.primary.get(encodedKey);
  }

  readRow(slot: SlotId): Row {
    const base = this.locate(slot);
    const chunk = this.hit!;
    return this.codec.decode(chunk.buf, chunk.view, base);
  }

  readColumn(slot: SlotId, column: number): Value {
    const base = this.locate(slot);
    const chunk = this.hit!;
    assert(column >= 0 && column < this.layout.columns.length, `column ${column} of table "${this.name}" exists`);
    return readColumnAt(chunk.buf, chunk.view, base, this.layout, column);
  }

  /** CSN of the last committed writer of the row (its OCC version). */
  version(slot: SlotId): number {
    const base = this.locate(slot);
    return readCsn(this.hit!.view, base);
  }

  setVersion(slot: SlotId, csn: number): void {
    const base = this.locate(slot);
    writeCsn(this.hit!.view, base, csn);
    this.updateCount++;
  }

  isLive(slot: SlotId): boolean {
    const cn = (slot / this.slotsPerChunk) | 0;
    const chunk = this.chunks[cn];
    if (chunk === undefined || !Number.isInteger(slot) || slot < 0) return false;
    return (chunk.buf[(slot - cn * this.slotsPerChunk) * this.slotBytes + ROW_FLAGS_OFFSET] & ROW_FLAG_LIVE) !== 0;
  }

  /** NUMA node whose memory holds the row. */
  socketOf(slot: SlotId): number {
    this.locate(slot);
    return this.hit!.socket;
  }

  /** The raw slot bytes (header + row), a view into chunk memory: copy it before the row can change. */
  rowBytes(slot: SlotId): Uint8Array {
    const base = this.locate(slot);
    return this.hit!.buf.subarray(base, base + this.slotBytes);
  }

  /**
   * Slots in primary key order over [from, to) ([from, to] with toInclusive). For a composite key a
   * bound may be a prefix (first k columns). Safe against changes made while iterating: after any
   * insert/remove it re-seeks past the last key it yielded.
   */
  scan(from?: Value | Value[], to?: Value | Value[], options: ScanOptions = {}): Iterable<SlotId> {
    const range = this.encodeRange(from, to, options.toInclusive === true);
    const limit = checkScanLimit(this.name, options.limit);
    return options.reverse === true ? this.scanDown(range.lo, range.hi, range.hiInclusive, limit) : this.scanUp(range.lo, range.hi, range.hiInclusive, limit);
  }

  /**
   * A scan's bounds as primary-index keys: [from, to) or [from, to]; a composite prefix `to` with
   * toInclusive covers every key starting with it. Checks the bounds' shape and types.
   */
  encodeRange(from: Value | Value[] | undefined, to: Value | Value[] | undefined, toInclusive: boolean): KeyRange {
    this.checkNotDropped();
    const lo = from === undefined ? undefined : this.pk.encode(from, true);
    let hi: KeyPrimitive | undefined;
    let hiInclusive = toInclusive;
    if (to !== undefined) {
      hi = this.pk.encode(to, true);
      if (this.pk.isPrefix(to) && hiInclusive) {
        hi = prefixSuccessor(hi as string);
        hiInclusive = false;
      }
    }
    return { lo, hi, hiInclusive };
  }

  /** (primary key, slot) pairs in key order over `range` (ascending), with the same guarantees as scan(). */
  *scanPairs(range: KeyRange): Generator<[KeyPrimitive, SlotId]> {
    for (const slot of this.scanUp(range.lo, range.hi, range.hiInclusive, Number.POSITIVE_INFINITY)) yield [this.primaryKeyOfSlot(slot), slot];
  }

  /** The primary-index key of the live row at `slot` (what encodeKey() gives for its key). */
  primaryKeyOfSlot(slot: SlotId): KeyPrimitive {
    const base = this.locate(slot);
    return this.primaryKeyAt(this.hit!, base);
  }

  /** Rows whose primary key is in `range` (a scan validating itself counts again: a phantom changes the count). */
  countRange(range: KeyRange): number {
    let n = 0;
    for (const _ of this.scanUp(range.lo, range.hi, range.hiInclusive, Number.POSITIVE_INFINITY)) n++;
    return n;
  }

  /** Whether the primary key `key` (an encodeKey() result) is in `range`. */
  inRange(key: KeyPrimitive, range: KeyRange): boolean {
    const cmp = this.pk.compare;
    if (range.lo !== undefined && cmp(key, range.lo) < 0) return false;
    if (range.hi !== undefined) {
      const c = cmp(key, range.hi);
      if (c > 0 || (c === 0 && !range.hiInclusive)) return false;
    }
    return true;
  }

  /** Slots whose index key equals `key` (a prefix of a composite index key matches all it starts). */
  lookupIndex(indexName: string, key: Value | Value[]): SlotId[] {
    const ix = this.byIndexName.get(indexName);
    if (ix === undefined) throw Errors.indexNotFound(indexName, this.name);
    const prefix = ix.codec.encode(key, true) as string;
    const out: SlotId[] = [];
    for (const pair of ix.tree.entries(prefix, this.pairScratch as unknown as [string, SlotId])) {
      if (!pair[0].startsWith(prefix)) break;
      out.push(pair[1]);
    }
    return out;
  }

  // ---- unique secondary indexes (checked by a committing transaction before its redo is logged) ----

  /** Names of the unique secondary indexes; a unique index is referred to by its position here. */
  get uniqueIndexNames(): readonly string[] {
    return this.uniques.map((ix) => ix.info.name);
  }

  /**
   * The key a row would have in each unique index (by position), or undefined where one of its
   * columns is NULL (NULLs never conflict). `row` is a full row (every column).
   */
  uniqueKeysOf(row: Row): (string | undefined)[] {
    return this.uniques.map((ix) => {
      const values = ix.columns.map((c) => {
        const v = columnValue(row, c.name);
        return v === undefined ? null : v;
      });
      return values.includes(null) ? undefined : ix.codec.encodeStringKey(values);
    });
  }

  /** uniqueKeysOf() for the live row at `slot`. */
  uniqueKeysAtSlot(slot: SlotId): (string | undefined)[] {
    const base = this.locate(slot);
    const chunk = this.hit!;
    return this.uniques.map((ix) => {
      const values = this.indexValuesAt(ix, chunk, base);
      return values.includes(null) ? undefined : ix.codec.encodeStringKey(values);
    });
  }

  /** Slots of every live row holding `key` (from uniqueKeysOf) in unique index `u`. */
  uniqueHolders(u: number, key: string): SlotId[] {
    const ix = this.uniques[u]!;
    const out: SlotId[] = [];
    for (const pair of ix.tree.entries(key, this.pairScratch as unknown as [string, SlotId])) {
      if (!pair[0].startsWith(key)) break;
      out.push(pair[1]);
    }
    return out;
  }

  /** `(email)=(a@x)` for unique index `u` and a full row, for a unique-violation message. */
  formatUniqueKey(u: number, row: Row): string {
    const ix = this.uniques[u]!;
    return formatKeyValues(ix.columnNames, ix.columns.map((c) => columnValue(row, c.name) ?? null));
  }

  /**
   * After rows were written with `uniqueChecked` (WAL replay of one transaction): the first unique
   * index in which the row at `slot` shares its key with another row, as an error, or undefined.
   */
  uniqueViolationAt(slot: SlotId): MotError | undefined {
    const keys = this.uniqueKeysAtSlot(slot);
    for (let u = 0; u < keys.length; u++) {
      const key = keys[u];
      if (key === undefined) continue;
      if (this.uniqueHolders(u, key).length > 1) return Errors.uniqueViolation(this.name, this.uniques[u]!.info.name, this.formatUniqueKey(u, this.readRow(slot)));
    }
    return undefined;
  }

  // ---- keys ----

  /** The primitive the primary index is keyed by; a composite key (or a prefix of one) is a string. */
  encodeKey(key: Value | Value[]): string | number | bigint {
    return this.pk.encode(key, true);
  }

  /** Orders two encodeKey() results as the primary index does. */
  compareEncodedKeys(a: KeyPrimitive, b: KeyPrimitive): number {
    return this.pk.compare(a, b);
  }

  /** Primary key of a row object (value, or array for composite); int64 numbers become bigint. */
  keyOf(row: Row): Value | Value[] {
    const cols = this.pkColumns;
    if (cols.length === 1) return normalizeKeyValue(cols[0], columnValue(row, cols[0].name));
    return cols.map((c) => normalizeKeyValue(c, columnValue(row, c.name)));
  }

  keyOfSlot(slot: SlotId): Value | Value[] {
    const base = this.locate(slot);
    const chunk = this.hit!;
    const cols = this.pkColumns;
    if (cols.length === 1) return readColumnAt(chunk.buf, chunk.view, base, this.layout, cols[0].index);
    return cols.map((c) => readColumnAt(chunk.buf, chunk.view, base, this.layout, c.index));
  }

  /** `(id)=(42)`, for messages. */
  formatKey(key: Value | Value[]): string {
    return formatKeyValues(this.pkNames, Array.isArray(key) ? key : [key as Value]);
  }

  // ---- writes ----

  /** A copy of `row` without its primary-key columns (what update() may be given for a whole-row image). */
  withoutKeyColumns(row: Row): Row {
    const out: Row = {};
    for (const c of this.layout.columns) {
      if (this.schema.isKeyColumn(c.index)) continue;
      const v = columnValue(row, c.name);
      if (v !== undefined) out[c.name] = v;
    }
    return out;
  }

  /** What insert (partial = false) and update (partial = true) check, without writing. */
  validateRow(row: Row, partial: boolean): void {
    this.schema.checkRow(row, partial);
  }

  /** Validates, allocates a slot on `socket`'s memory, writes the row with version `csn`, indexes it. */
  insert(row: Row, socket: number, csn: number): SlotId {
    this.schema.checkRow(row, false);
    return this.insertChecked(row, socket, csn);
  }

  /** insert() for a row already checked with validateRow(row, false) (the commit path checks at statement time). */
  insertChecked(row: Row, socket: number, csn: number): SlotId {
    this.checkNotDropped();
    return this.insertReserved(this.allocSlot(socket), row, csn);
  }

  /**
   * Take a slot on `socket`'s memory for a row a committing transaction will insert. Running out of
   * memory fails here, before the transaction's redo is logged, never after it is durable.
   */
  reserveSlot(socket: number): SlotId {
    this.checkNotDropped();
    return this.allocSlot(socket);
  }

  /** Give back a slot from reserveSlot() that was not used (the commit failed). */
  releaseReservedSlot(slot: SlotId): void {
    const base = this.slotBase(slot);
    this.releaseSlot(slot, this.hit!, base);
  }

  /** insertChecked() into a slot from reserveSlot(); `uniqueChecked` as for update(). */
  insertReserved(slot: SlotId, row: Row, csn: number, uniqueChecked = false): SlotId {
    const key = this.pk.fromRow(row);
    const base = this.slotBase(slot);
    const chunk = this.hit!;
    this.codec.encode(chunk.buf, chunk.view, base, row);
    writeCsn(chunk.view, base, csn);
    chunk.buf[base + ROW_FLAGS_OFFSET] = ROW_FLAG_LIVE;
    this.indexNewRow(slot, key, chunk, base, uniqueChecked);
    return slot;
  }

  /**
   * Recovery/checkpoint load: `bytes` is a slot image from rowBytes() (its header is replaced by
   * `csn` and LIVE). Checked structurally, then indexed like insert().
   */
  insertRaw(bytes: Uint8Array, socket: number, csn: number): SlotId {
    if (!(bytes instanceof Uint8Array) || bytes.length !== this.slotBytes) {
      this.checkNotDropped();
      throw Errors.invalidArgument(`raw row for table "${this.name}"`, `expected ${this.slotBytes} bytes, got ${bytes?.length}`);
    }
    return this.insertFilled(socket, csn, (buf, _view, base) => buf.set(bytes, base));
  }


  /**
   * Recovery fast path: allocate a slot on `socket`, let `fill` write the row's null bitmap and
   * columns into the zeroed slot (e.g. straight from redo bytes, with no row object), then check the
   * image like insertRaw() and index it. A duplicate primary key throws a unique violation.
   */
  insertFilled(socket: number, csn: number, fill: (buf: Buffer, view: DataView, base: number) => void, uniqueChecked = false): SlotId {
    this.checkNotDropped();
    const slot = this.allocSlot(socket);
    const base = this.slotBase(slot);
    const chunk = this.hit!;
    try {
      fill(chunk.buf, chunk.view, base);
    } catch (e) {
      this.releaseSlot(slot, chunk, base);
      throw e;
    }
    writeFlags(chunk.view, base, ROW_FLAG_LIVE);
    writeCsn(chunk.view, base, csn);
    const reason = checkRawRow(chunk.buf, chunk.view, base, this.layout);
    if (reason !== undefined) {
      this.releaseSlot(slot, chunk, base);
      throw Errors.invalidArgument(`row for table "${this.name}"`, reason);
    }
    this.indexNewRow(slot, this.primaryKeyAt(chunk, base), chunk, base, uniqueChecked);
    return slot;
  }

  /**
   * Bulk load for recovery: rows given to loadRaw() go into slots at once but into the indexes only
   * at finishLoad(), which builds the primary index bottom-up (rows arrive in key order from a
   * checkpoint; any out-of-order tail is sorted). The table must be empty. Lookups and scans must
   * wait for finishLoad().
   */
  beginLoad(): void {
    this.checkNotDropped();
    if (this.rows !== 0 || this.loading) throw Errors.invalidState(`bulk load of table "${this.name}" needs an empty table not already loading`);
    this.loading = { keys: [], slots: [] };
  }

  /** One row image of `rowBytes` bytes at `offset` of `bytes` (a checkpoint segment), with version `csn`. */
  loadRaw(bytes: Uint8Array, offset: number, socket: number, csn: number): void {
    const loading = this.loading;
    if (!loading) throw Errors.invalidState(`loadRaw on table "${this.name}" outside beginLoad()/finishLoad()`);
    const slot = this.allocSlot(socket);
    const base = this.slotBase(slot);
    const chunk = this.hit!;
    chunk.buf.set(bytes.subarray(offset, offset + this.slotBytes), base);
    writeFlags(chunk.view, base, ROW_FLAG_LIVE);
    writeCsn(chunk.view, base, csn);
    const reason = checkRawRow(chunk.buf, chunk.view, base, this.layout);
    if (reason !== undefined) {
      this.releaseSlot(slot, chunk, base);
      throw Errors.invalidArgument(`raw row for table "${this.name}"`, reason);
    }
    loading.keys.push(this.primaryKeyAt(chunk, base));
    loading.slots.push(slot);
  }

  /** Index everything loaded since beginLoad(). A duplicate primary key is an error naming it. */
  finishLoad(): void {
    const loading = this.loading;
    if (!loading) return;
    this.loading = undefined;
    let { keys, slots } = loading;
    const cmp = this.pk.compare;
    let sorted = true;
    for (let i = 1; i < keys.length && sorted; i++) sorted = cmp(keys[i - 1]!, keys[i]!) < 0;
    if (!sorted) {
      const order = keys.map((_, i) => i).sort((a, b) => cmp(keys[a]!, keys[b]!));
      keys = order.map((i) => loading.keys[i]!);
      slots = order.map((i) => loading.slots[i]!);
      for (let i = 1; i < keys.length; i++) {
        if (cmp(keys[i - 1]!, keys[i]!) === 0) {
          throw Errors.uniqueViolation(this.name, this.schema.primaryKeyName, this.formatKey(this.keyOfSlot(slots[i]!)));
        }
      }
    }
    this.primary = buildTreeFromSorted(cmp, keys, slots);
    for (const k of keys) if (typeof k === 'string') this.primaryKeyChars += k.length;
    this.rows += keys.length;
    this.modCount++;
    if (this.secondaries.length > 0) {
      for (const slot of slots) {
        const base = this.slotBase(slot);
        this.indexSecondaries(slot, this.hit!, base);
      }
    }
  }

  /**
   * Writes only the given columns and sets the version to `csn`. Primary key columns may not change;
   * secondary indexes follow the new values. A unique index refuses a duplicate before anything
   * changes, unless `uniqueChecked`: the caller has established that the whole transaction's final
   * state is unique (a committing transaction, or WAL replay verifying at the transaction's end), so
   * a value two rows swap may be held twice for a moment.
   */
  update(slot: SlotId, changes: Row, csn: number, uniqueChecked = false): void {
    const base = this.locate(slot);
    const chunk = this.hit!;
    this.schema.checkRow(changes, true);
    this.updateCount++;
    for (const col of this.pkColumns) {
      const v = columnValue(changes, col.name);
      if (v !== undefined && !this.sameKeyValue(col, v, readColumnAt(chunk.buf, chunk.view, base, this.layout, col.index))) {
        throw Errors.notSupported(
          `changing primary key column "${col.name}" of table "${this.name}" (row ${this.formatKey(this.keyOfSlot(slot))})`,
        );
      }
    }
    const moves = this.secondaries.length === 0 ? undefined : this.planIndexMoves(slot, chunk, base, changes, uniqueChecked);
    const cols = this.layout.columns;
    for (let i = 0; i < cols.length; i++) {
      const v = columnValue(changes, cols[i].name);
      if (v !== undefined) writeColumnAt(chunk.buf, chunk.view, base, this.layout, i, v);
    }
    writeCsn(chunk.view, base, csn);
    if (moves !== undefined) {
      for (const m of moves) {
        m.ix.tree.delete(m.from);
        m.ix.tree.set(m.to, slot);
        m.ix.entryChars += m.to.length - m.from.length;
      }
    }
  }

  /** Unindexes the row and frees its slot (zeroed, reused by the next insert on its socket). */
  remove(slot: SlotId): void {
    const base = this.locate(slot);
    const chunk = this.hit!;
    const key = this.primaryKeyAt(chunk, base);
    const removed = this.primary.delete(key);
    if (!removed) assert(false, `row at slot ${slot} of table "${this.name}" is in its primary index`);
    if (typeof key === 'string') this.primaryKeyChars -= key.length;
    if (this.secondaries.length > 0) {
      const suffix = this.primarySuffixAt(chunk, base);
      for (const ix of this.secondaries) {
        const entry = this.entryPrefixAt(ix, chunk, base) + suffix;
        const gone = ix.tree.delete(entry);
        if (!gone) assert(false, `row at slot ${slot} of table "${this.name}" is in index "${ix.info.name}"`);
        ix.entryChars -= entry.length;
      }
    }
    this.releaseSlot(slot, chunk, base);
    this.rows--;
    this.modCount++;
  }

  // ---- maintenance ----

  rowCount(): number {
    return this.rows;
  }

  memoryBytes(): TableMemory {
    const entries = this.rows * (1 + this.secondaries.length);
    let keyBytes = 0;
    switch (this.pk.kind) {
      case 'int64':
        keyBytes = this.rows * INT64_KEY_BYTES;
        break;
      case 'float':
        keyBytes = this.rows * HEAP_NUMBER_BYTES;
        break;
      case 'string':
        keyBytes = this.rows * STRING_HEADER_BYTES + this.primaryKeyChars;
        break;
      default:
        keyBytes = 0;
    }
    for (const ix of this.secondaries) keyBytes += this.rows * STRING_HEADER_BYTES + ix.entryChars;
    return {
      dataBytes: this.chunkCount * CHUNK_BYTES,
      liveRowBytes: this.rows * this.slotBytes,
      indexBytesEstimate: entries * INDEX_ENTRY_BYTES + keyBytes,
      chunks: this.chunkCount,
    };
  }

  /**
   * VACUUM FULL: copies every live row, in primary key order, into fresh chunks of the same NUMA
   * node, repoints the indexes and frees the old chunks. All or nothing: if memory runs out midway
   * the new chunks are freed and the table is unchanged. Slot ids change; callers hold none across it.
   */
  vacuum(): { chunksBefore: number; chunksAfter: number; rowsMoved: number } {
    this.checkNotDropped();
    const spc = this.slotsPerChunk;
    const rb = this.slotBytes;
    const chunksBefore = this.chunkCount;
    const fresh: Chunk[] = [];
    const cursors: SocketCursor[] = [];
    const remap: (Int32Array | undefined)[] = [];
    let moved = 0;
    try {
      for (const [, oldSlot] of this.primary.entries(undefined, this.pairScratch as unknown as (KeyPrimitive | SlotId)[])) {
        const ocn = (oldSlot / spc) | 0;
        const old = this.chunks[ocn]!;
        const oldBase = (oldSlot - ocn * spc) * rb;
        let cur = cursors[old.socket];
        if (cur === undefined) cur = cursors[old.socket] = { chunkNo: -1, nextIndex: spc, freeSlots: [] };
        if (cur.nextIndex === spc) {
          fresh.push(this.pools.allocate(old.socket, 'global', `${this.allocPurpose} (VACUUM)`));
          cur.chunkNo = fresh.length - 1;
          cur.nextIndex = 0;
        }
        const index = cur.nextIndex++;
        old.buf.copy(fresh[cur.chunkNo].buf, index * rb, oldBase, oldBase + rb);
        const map = remap[ocn] ?? (remap[ocn] = new Int32Array(spc));
        map[oldSlot - ocn * spc] = cur.chunkNo * spc + index;
        moved++;
      }
    } catch (e) {
      for (const c of fresh) this.pools.free(c);
      throw e;
    }
    const repoint = (_k: unknown, v: SlotId): { value: SlotId } => {
      const ocn = (v / spc) | 0;
      return { value: remap[ocn]![v - ocn * spc] };
    };
    this.primary.editAll(repoint);
    for (const ix of this.secondaries) ix.tree.editAll(repoint);
    for (const c of this.chunks) if (c !== undefined) this.pools.free(c);
    this.chunks = fresh;
    this.freeChunkNos = [];
    this.chunkCount = fresh.length;
    this.cursors = cursors;
    this.modCount++;
    return { chunksBefore, chunksAfter: fresh.length, rowsMoved: moved };
  }

  /** Removes every row and frees every chunk; the table stays usable. */
  truncate(): void {
    for (const c of this.chunks) if (c !== undefined) this.pools.free(c);
    this.chunks = [];
    this.freeChunkNos = [];
    this.chunkCount = 0;
    this.cursors = [];
    this.primary.clear();
    for (const ix of this.secondaries) {
      ix.tree.clear();
      ix.entryChars = 0;
    }
    this.rows = 0;
    this.primaryKeyChars = 0;
    this.modCount++;
  }

  /** Frees everything; any later use throws table-not-found. */
  drop(): void {
    this.truncate();
    this.isDropped = true;
  }

  // ---- internals ----

  private checkNotDropped(): void {
    if (this.isDropped) throw Errors.tableNotFound(this.name);
  }

  /** Base offset of a LIVE slot; sets this.hit. A dead or foreign slot is a caller bug. */
  private locate(slot: SlotId): number {
    const cn = (slot / this.slotsPerChunk) | 0;
    const chunk = this.chunks[cn];
    const base = (slot - cn * this.slotsPerChunk) * this.slotBytes;
    if (chunk === undefined || (chunk.buf[base + ROW_FLAGS_OFFSET] & ROW_FLAG_LIVE) === 0 || !(slot >= 0)) {
      assert(false, `slot ${slot} of table "${this.name}" holds a live row${this.isDropped ? ' (the table was dropped)' : ''}`);
    }
    this.hit = chunk;
    return base;
  }

  /** Base offset of an allocated (not yet LIVE) slot; sets this.hit. */
  private slotBase(slot: SlotId): number {
    const cn = (slot / this.slotsPerChunk) | 0;
    this.hit = this.chunks[cn];
    return (slot - cn * this.slotsPerChunk) * this.slotBytes;
  }

  private allocSlot(socket: number): SlotId {
    const cur = this.cursors[socket] ?? this.openCursor(socket);
    const free = cur.freeSlots;
    if (free.length > 0) return free.pop()!;
    if (cur.nextIndex === this.slotsPerChunk) this.takeChunk(cur, socket);
    return cur.chunkNo * this.slotsPerChunk + cur.nextIndex++;
  }

  private openCursor(socket: number): SocketCursor {
    if (!Number.isInteger(socket) || socket < 0 || socket >= this.pools.sockets) {
      throw Errors.invalidArgument(`NUMA node for table "${this.name}"`, `${socket} is not in 0..${this.pools.sockets - 1}`);
    }
    const cur: SocketCursor = { chunkNo: -1, nextIndex: this.slotsPerChunk, freeSlots: [] };
    this.cursors[socket] = cur;
    return cur;
  }

  private takeChunk(cur: SocketCursor, socket: number): void {
    const chunkNo = this.freeChunkNos.length > 0 ? this.freeChunkNos[this.freeChunkNos.length - 1] : this.chunks.length;
    if ((chunkNo + 1) * this.slotsPerChunk > SLOT_IDS_MAX) {
      throw Errors.outOfLogicalMemory(`table "${this.name}" has used all ${SLOT_IDS_MAX} row slot ids`);
    }
    const chunk = this.pools.allocate(socket, 'global', this.allocPurpose);
    if (chunkNo === this.chunks.length) this.chunks.push(chunk);
    else {
      this.freeChunkNos.pop();
      this.chunks[chunkNo] = chunk;
    }
    this.chunkCount++;
    cur.chunkNo = chunkNo;
    cur.nextIndex = 0;
  }

  private releaseSlot(slot: SlotId, chunk: Chunk, base: number): void {
    chunk.buf.fill(0, base, base + this.slotBytes);
    this.cursors[chunk.socket]!.freeSlots.push(slot);
  }

  /** Adds a freshly written slot to every index, undoing everything if a unique key is taken. */
  private indexNewRow(slot: SlotId, key: KeyPrimitive, chunk: Chunk, base: number, uniqueChecked = false): void {
    if (!appendGreatest(this.primary, key, slot) && !this.primary.setIfNotPresent(key, slot)) {
      const shown = this.formatKey(this.keyOfSlot(slot));
      this.releaseSlot(slot, chunk, base);
      throw Errors.uniqueViolation(this.name, this.schema.primaryKeyName, shown);
    }
    if (typeof key === 'string') this.primaryKeyChars += key.length;
    this.indexSecondaries(slot, chunk, base, key, uniqueChecked);
    this.rows++;
    this.modCount++;
  }

  /**
   * Adds a row already in the primary index to every secondary index. A unique violation undoes
   * everything for that row (including the primary entry when `key` is given) and throws.
   */
  private indexSecondaries(slot: SlotId, chunk: Chunk, base: number, key?: KeyPrimitive, uniqueChecked = false): void {
    const n = this.secondaries.length;
    if (n > 0) {
      const suffix = this.primarySuffixAt(chunk, base);
      for (let i = 0; i < n; i++) {
        const ix = this.secondaries[i];
        const values = this.indexValuesAt(ix, chunk, base);
        const prefix = ix.codec.encodeStringKey(values);
        if (!uniqueChecked && ix.info.unique && this.findUnique(ix, prefix, slot, values) !== undefined) {
          const shown = formatKeyValues(ix.columnNames, values);
          for (let j = 0; j < i; j++) {
            const entry = this.entryPrefixAt(this.secondaries[j], chunk, base) + suffix;
            this.secondaries[j].tree.delete(entry);
            this.secondaries[j].entryChars -= entry.length;
          }
          if (key !== undefined) {
            this.primary.delete(key);
            if (typeof key === 'string') this.primaryKeyChars -= key.length;
            this.releaseSlot(slot, chunk, base);
          }
          throw Errors.uniqueViolation(this.name, ix.info.name, shown);
        }
        const entry = prefix + suffix;
        ix.tree.set(entry, slot);
        ix.entryChars += entry.length;
      }
    }
  }

  /** The slot already holding this unique index key (other than `self`); NULL keys never conflict. */
  private findUnique(ix: SecondaryIndex, prefix: string, self: SlotId, values: readonly Value[]): SlotId | undefined {
    for (const v of values) if (v === null) return undefined;
    const pair = ix.tree.getPairOrNextHigher(prefix, this.pairScratch as unknown as [string, SlotId]);
    if (pair === undefined || !pair[0].startsWith(prefix) || pair[1] === self) return undefined;
    return pair[1];
  }

  /** Index entries an update moves, checked for unique conflicts (unless uniqueChecked) before anything is written. */
  private planIndexMoves(slot: SlotId, chunk: Chunk, base: number, changes: Row, uniqueChecked: boolean): { ix: SecondaryIndex; from: string; to: string }[] {
    const moves: { ix: SecondaryIndex; from: string; to: string }[] = [];
    let suffix: string | undefined;
    for (const ix of this.secondaries) {
      if (!ix.columns.some((c) => columnValue(changes, c.name) !== undefined)) continue;
      const oldValues = this.indexValuesAt(ix, chunk, base);
      const newValues = ix.columns.map((c, i) => {
        const v = columnValue(changes, c.name);
        return v !== undefined ? v : oldValues[i];
      });
      const oldPrefix = ix.codec.encodeStringKey(oldValues);
      const newPrefix = ix.codec.encodeStringKey(newValues);
      if (oldPrefix === newPrefix) continue;
      if (!uniqueChecked && ix.info.unique && this.findUnique(ix, newPrefix, slot, newValues) !== undefined) {
        throw Errors.uniqueViolation(this.name, ix.info.name, formatKeyValues(ix.columnNames, newValues));
      }
      suffix ??= this.primarySuffixAt(chunk, base);
      moves.push({ ix, from: oldPrefix + suffix, to: newPrefix + suffix });
    }
    return moves;
  }

  private primaryKeyAt(chunk: Chunk, base: number): KeyPrimitive {
    const cols = this.pkColumns;
    if (cols.length === 1) return this.pk.fromValues([readColumnAt(chunk.buf, chunk.view, base, this.layout, cols[0].index)]);
    let out = '';
    for (const c of cols) out += encodeComponent(c.typeCode, readColumnAt(chunk.buf, chunk.view, base, this.layout, c.index) as Exclude<Value, null>);
    return out;
  }

  /** The primary key as a string component list: the suffix that makes secondary entries unique. */
  private primarySuffixAt(chunk: Chunk, base: number): string {
    let out = '';
    for (const c of this.pkColumns) out += encodeComponent(c.typeCode, readColumnAt(chunk.buf, chunk.view, base, this.layout, c.index) as Exclude<Value, null>);
    return out;
  }

  private indexValuesAt(ix: SecondaryIndex, chunk: Chunk, base: number): Value[] {
    return ix.columns.map((c) => readColumnAt(chunk.buf, chunk.view, base, this.layout, c.index));
  }

  private entryPrefixAt(ix: SecondaryIndex, chunk: Chunk, base: number): string {
    return ix.codec.encodeStringKey(this.indexValuesAt(ix, chunk, base));
  }

  private sameKeyValue(col: ColumnInfo, a: Value, b: Value): boolean {
    if (a === null || b === null) return a === b;
    return encodeComponent(col.typeCode, a) === encodeComponent(col.typeCode, b);
  }

  private scanUp(lo: KeyPrimitive | undefined, hi: KeyPrimitive | undefined, hiInclusive: boolean, limit: number): Generator<SlotId> {
    const cmp = this.pk.compare;
    const pair = [] as unknown as (KeyPrimitive | SlotId)[];
    return this.scanInBatches(lo, false, limit, (cursor, skipCursor, keys, slots) => {
      for (const [k, s] of this.primary.entries(cursor, pair)) {
        if (skipCursor && cmp(k, cursor!) === 0) continue;
        if (hi !== undefined) {
          const c = cmp(k, hi);
          if (c > 0 || (c === 0 && !hiInclusive)) return true;
        }
        keys.push(k);
        slots.push(s);
        if (keys.length === SCAN_BATCH_ROWS) return false;
      }
      return true;
    });
  }

  private scanDown(lo: KeyPrimitive | undefined, hi: KeyPrimitive | undefined, hiInclusive: boolean, limit: number): Generator<SlotId> {
    const cmp = this.pk.compare;
    const pair = [] as unknown as (KeyPrimitive | SlotId)[];
    return this.scanInBatches(hi, hi !== undefined && !hiInclusive, limit, (cursor, skipCursor, keys, slots) => {
      if (this.primary.size === 0) return true;
      for (const [k, s] of this.primary.entriesReversed(cursor, pair, skipCursor)) {
        if (lo !== undefined && cmp(k, lo) < 0) return true;
        keys.push(k);
        slots.push(s);
        if (keys.length === SCAN_BATCH_ROWS) return false;
      }
      return true;
    });
  }

  /**
   * The scan loop shared by both directions: `fill` collects up to SCAN_BATCH_ROWS (key, slot) pairs
   * from `cursor` on and says whether it reached the end of the range. Between batches, and whenever
   * the table changed while a batch was being consumed, the scan re-seeks from the last key yielded.
   */
  private *scanInBatches(
    start: KeyPrimitive | undefined,
    skipStart: boolean,
    limit: number,
    fill: (cursor: KeyPrimitive | undefined, skipCursor: boolean, keys: KeyPrimitive[], slots: SlotId[]) => boolean,
  ): Generator<SlotId> {
    const keys: KeyPrimitive[] = [];
    const slots: SlotId[] = [];
    let cursor = start;
    let skipCursor = skipStart;
    let yielded = 0;
    while (yielded < limit) {
      keys.length = 0;
      slots.length = 0;
      const atEnd = fill(cursor, skipCursor, keys, slots);
      const mod = this.modCount;
      let i = 0;
      for (; i < keys.length; i++) {
        if (this.modCount !== mod) break;
        yield slots[i];
        if (++yielded >= limit) return;
      }
      // Past the batch, or at the end of the range: re-seek if the table changed meanwhile (rows may
      // have appeared after the last key yielded), else stop at the end.
      if (atEnd && this.modCount === mod) return;
      if (i === 0) return;
      cursor = keys[i - 1];
      skipCursor = true;
    }
  }
}

function sameIndex(a: IndexInfo, b: IndexInfo): boolean {
  return a.unique === b.unique && a.columns.length === b.columns.length && a.columns.every((c, i) => c === b.columns[i]);
}

function normalizeKeyValue(col: ColumnInfo, v: Value | undefined): Value {
  if (v === undefined) return null;
  if (col.type === 'int64' && typeof v === 'number') return BigInt(v);
  return v;
}
