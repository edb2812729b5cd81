// The in-memory row store: slot layout round trips, MOT's limits as typed errors, key order, unique
// constraints, a model-based run of insert/update/remove/scan/vacuum, and chunk-pool accounting.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MotError } from '../src/errors.js';
import { CHUNK_BYTES, ChunkPools } from '../src/store/chunk-pool.js';
import { KeyCodec, compareFloat } from '../src/store/key.js';
import { readColumnAt, writeColumnAt } from '../src/store/row-layout.js';
import { MotLimits, TableSchema, type ColumnDef, type Row, type TableDef, type Value } from '../src/store/schema.js';
import { Table, type SlotId } from '../src/store/table.js';

const MiB = 1024 * 1024;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function pools(opts: Partial<{ sockets: number; globalBytesMax: number; localBytesMax: number; cachedFreeChunksMax: number }> = {}): ChunkPools {
  return new ChunkPools({ sockets: 2, globalBytesMax: 1024 * MiB, localBytesMax: 64 * MiB, ...opts });
}

function table(def: TableDef, p: ChunkPools = pools()): Table {
  return new Table(1, TableSchema.create(def), p);
}

function catchMot(fn: () => unknown): MotError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MotError) return e;
    throw e;
  }
  throw new Error('expected a MotError');
}

function expectMot(fn: () => unknown, rc: string, sqlstate: string, ...mentions: string[]): MotError {
  const e = catchMot(fn);
  expect({ rc: e.rc, sqlstate: e.sqlstate }).toEqual({ rc, sqlstate });
  const text = `${e.message} ${e.detail ?? ''}`;
  for (const m of mentions) expect(text).toContain(m);
  return e;
}

// ---- arbitraries ----

const int32Arb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64Arb = fc.oneof(
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  fc.constantFrom(INT64_MIN, INT64_MAX, 0n, -1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n),
);
const doubleArb = fc.oneof(fc.double(), fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE));
function varcharArb(sizeBytes: number): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: sizeBytes }),
      fc.string({ unit: 'binary-ascii', minLength: sizeBytes, maxLength: sizeBytes }),
      fc.constantFrom('', '\x00', '\x01', 'é'.repeat(Math.floor(sizeBytes / 2)), '😀'.repeat(Math.floor(sizeBytes / 4))),
    )
    .filter((s) => Buffer.byteLength(s, 'utf8') <= sizeBytes);
}
function bytesArb(sizeBytes: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(fc.uint8Array({ maxLength: sizeBytes }), fc.constant(new Uint8Array(sizeBytes).fill(255)), fc.constant(new Uint8Array(0)));
}

const ALL_TYPES: TableDef = {
  name: 'all_types',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'i32', type: 'int32' },
    { name: 'i64', type: 'int64' },
    { name: 'f64', type: 'float64' },
    { name: 'b', type: 'bool' },
    { name: 'vc', type: 'varchar', size: 40 },
    { name: 'by', type: 'bytes', size: 12 },
    { name: 'vc_max', type: 'varchar', size: MotLimits.varcharBytesMax },
  ],
  primaryKey: ['id'],
};

const allTypesRowArb: fc.Arbitrary<Row> = fc.record({
  i32: fc.option(int32Arb),
  i64: fc.option(int64Arb),
  f64: fc.option(doubleArb),
  b: fc.option(fc.boolean()),
  vc: fc.option(varcharArb(40)),
  by: fc.option(bytesArb(12)),
  vc_max: fc.option(fc.oneof(varcharArb(MotLimits.varcharBytesMax), fc.constant('€'.repeat(341) + 'x'))),
});

// ---- layout ----

describe('row layout', () => {
  it('round-trips every column type through a slot, including NULL, empty, max-length, extremes, -0 and NaN', () => {
    const t = table(ALL_TYPES);
    let id = 0;
    fc.assert(
      fc.property(allTypesRowArb, (values) => {
        const row = { id: id++, ...values };
        const slot = t.insert(row, id % 2, 7);
        expect(t.readRow(slot)).toEqual(row);
        for (let c = 0; c < t.schema.columns.length; c++) expect(t.readColumn(slot, c)).toEqual((row as Record<string, unknown>)[t.schema.columns[c].name]);
        expect(t.version(slot)).toBe(7);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps one byte image per row state: updating columns equals encoding the final row afresh', () => {
    const schema = TableSchema.create(ALL_TYPES);
    fc.assert(
      fc.property(allTypesRowArb, allTypesRowArb, (a, b) => {
        const bufA = Buffer.alloc(schema.rowBytes);
        const bufB = Buffer.alloc(schema.rowBytes);
        const viewA = new DataView(bufA.buffer, bufA.byteOffset, bufA.byteLength);
        const viewB = new DataView(bufB.buffer, bufB.byteOffset, bufB.byteLength);
        schema.codec.encode(bufA, viewA, 0, { id: 1, ...a });
        for (const col of schema.columns) {
          if (col.name === 'id') continue;
          writeColumnAt(bufA, viewA, 0, schema.layout, col.index, b[col.name] ?? null);
        }
        schema.codec.encode(bufB, viewB, 0, { id: 1, ...b });
        expect(bufA.equals(bufB)).toBe(true);
        expect(readColumnAt(bufA, viewA, 0, schema.layout, schema.columnIndex('vc'))).toEqual(b.vc ?? null);
      }),
      { numRuns: 200 },
    );
  });

  it('lays out header, null bitmap and packed columns with the slot rounded to 8 bytes', () => {
    const s = TableSchema.create({
      name: 't',
      columns: [
        { name: 'id', type: 'int64' },
        { name: 'name', type: 'varchar', size: 80 },
        { name: 'bal', type: 'int64' },
        { name: 'n', type: 'int32' },
      ],
      primaryKey: ['id'],
    });
    // 12 header + 1 bitmap + 8 + 82 + 8 + 4 = 115 -> 120
    expect(s.dataBytes).toBe(103);
    expect(s.rowBytes).toBe(120);
    expect(s.columns.map((c) => c.offset)).toEqual([13, 21, 103, 111]);
  });
});

// ---- limits ----

function col(name: string, type: ColumnDef['type'], size?: number): ColumnDef {
  return size === undefined ? { name, type } : { name, type, size };
}

describe('MOT limits are typed errors naming the table and column', () => {
  it('refuses an unsupported column type (RC_UNSUPPORTED_COL_TYPE, 42611)', () => {
    expectMot(
      () => TableSchema.create({ name: 'tt', columns: [col('id', 'int32'), { name: 'd', type: 'decimal' as never }], primaryKey: ['id'] }),
      'RC_UNSUPPORTED_COL_TYPE', '42611', 'tt', 'd',
    );
  });

  it('accepts varchar(1024) and refuses varchar(1025) or a size on a fixed type (RC_COL_SIZE_INVLALID, 42611)', () => {
    TableSchema.create({ name: 'tt', columns: [col('id', 'int32'), col('v', 'varchar', 1024)], primaryKey: ['id'] });
    expectMot(
      () => TableSchema.create({ name: 'tt', columns: [col('id', 'int32'), col('v', 'varchar', 1025)], primaryKey: ['id'] }),
      'RC_COL_SIZE_INVLALID', '42611', 'tt', '"v"', '1024',
    );
    expectMot(() => TableSchema.create({ name: 'tt', columns: [col('id', 'int32'), col('v', 'bytes')], primaryKey: ['id'] }), 'RC_COL_SIZE_INVLALID', '42611', 'tt', 'v');
    expectMot(() => TableSchema.create({ name: 'tt', columns: [col('id', 'int32', 4)], primaryKey: ['id'] }), 'RC_COL_SIZE_INVLALID', '42611', 'id');
  });

  it('accepts an 83-byte column name and refuses 84 bytes (RC_COL_NAME_EXCEEDS_MAX_SIZE, 42611)', () => {
    TableSchema.create({ name: 'tt', columns: [col('id', 'int32'), col('n'.repeat(83), 'int32')], primaryKey: ['id'] });
    expectMot(
      () => TableSchema.create({ name: 'tt', columns: [col('id', 'int32'), col('n'.repeat(84), 'int32')], primaryKey: ['id'] }),
      'RC_COL_NAME_EXCEEDS_MAX_SIZE', '42611', 'tt', 'n'.repeat(84),
    );
  });

  it('refuses a row over MAX_TUPLE_SIZE 16384 (RC_EXCEEDS_MAX_ROW_SIZE, 0A000)', () => {
    const columns = [col('id', 'int32'), ...Array.from({ length: 16 }, (_, i) => col(`v${i}`, 'varchar', 1024))];
    expectMot(() => TableSchema.create({ name: 'wide', columns, primaryKey: ['id'] }), 'RC_EXCEEDS_MAX_ROW_SIZE', '0A000', 'wide', '16384');
    TableSchema.create({ name: 'wide', columns: columns.slice(0, 15), primaryKey: ['id'] });
  });

  it('refuses more than 1600 declared columns (RC_TABLE_EXCEEDS_MAX_DECLARED_COLS, 0A000)', () => {
    const columns = [col('id', 'int32'), ...Array.from({ length: 1600 }, (_, i) => col(`c${i}`, 'bool'))];
    expectMot(() => TableSchema.create({ name: 'many', columns, primaryKey: ['id'] }), 'RC_TABLE_EXCEEDS_MAX_DECLARED_COLS', '0A000', 'many', 'c1599');
  });

  it('refuses an index key over MAX_KEY_SIZE 256 bytes or over 10 columns (RC_INDEX_EXCEEDS_MAX_SIZE, HV030)', () => {
    expectMot(() => TableSchema.create({ name: 'k', columns: [col('id', 'varchar', 257)], primaryKey: ['id'] }), 'RC_INDEX_EXCEEDS_MAX_SIZE', 'HV030', 'k_pkey', '256');
    TableSchema.create({ name: 'k', columns: [col('id', 'varchar', 256)], primaryKey: ['id'] });
    expectMot(
      () =>
        TableSchema.create({
          name: 'k',
          columns: [col('id', 'int32'), col('a', 'varchar', 200), col('b', 'int64'), col('c', 'varchar', 50)],
          primaryKey: ['id'],
          indexes: [{ name: 'k_abc', columns: ['a', 'b', 'c'] }],
        }),
      'RC_INDEX_EXCEEDS_MAX_SIZE', 'HV030', 'k_abc', '258',
    );
    const cols11 = Array.from({ length: 11 }, (_, i) => col(`c${i}`, 'int32'));
    expectMot(() => TableSchema.create({ name: 'k', columns: cols11, primaryKey: cols11.map((c) => c.name) }), 'RC_INDEX_EXCEEDS_MAX_SIZE', 'HV030', 'k', '11');
  });

  it('allows 10 indexes with the primary key and refuses 11 (RC_TABLE_EXCEEDS_MAX_INDEXES, HV029)', () => {
    const columns = [col('id', 'int32'), col('x', 'int32')];
    const ix = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `ix${i}`, columns: ['x'] }));
    TableSchema.create({ name: 'ixs', columns, primaryKey: ['id'], indexes: ix(9) });
    expectMot(() => TableSchema.create({ name: 'ixs', columns, primaryKey: ['id'], indexes: ix(10) }), 'RC_TABLE_EXCEEDS_MAX_INDEXES', 'HV029', 'ixs', '10');
  });

  it('names table and column for unknown columns, NULLs, wrong types, ranges and lengths', () => {
    const t = table({ name: 'vals', columns: [col('id', 'int32'), col('s', 'varchar', 4), col('n', 'int32'), col('big', 'int64')], primaryKey: ['id'] });
    expectMot(() => t.schema.columnIndex('nope'), 'RC_ERROR', '42703', 'vals', 'nope');
    expectMot(() => t.insert({ id: 1, nope: 1 }, 0, 1), 'RC_ERROR', '42703', 'vals', 'nope');
    expectMot(() => t.insert({ s: 'x' }, 0, 1), 'RC_NULL_VIOLATION', 'HV000', 'vals', 'id');
    expectMot(() => t.insert({ id: null, s: 'x' }, 0, 1), 'RC_NULL_VIOLATION', 'HV000', 'vals', 'id');
    expectMot(() => t.insert({ id: 1, s: 'héllo' }, 0, 1), 'RC_ERROR', '22001', 'vals', '"s"', 'character varying(4)');
    expectMot(() => t.insert({ id: 1, n: 2 ** 31 }, 0, 1), 'RC_ERROR', '22003', 'vals', '"n"');
    expectMot(() => t.insert({ id: 1, n: 1.5 }, 0, 1), 'RC_ERROR', '42804', 'vals', '"n"');
    expectMot(() => t.insert({ id: 1, big: 2n ** 63n }, 0, 1), 'RC_ERROR', '22003', 'vals', '"big"');
    expectMot(() => t.insert({ id: 1, s: '\uD800' }, 0, 1), 'RC_ERROR', '42804', 'vals', '"s"');
    expect(t.rowCount()).toBe(0);
    expect(t.memoryBytes().chunks).toBe(0);
    t.insert({ id: 1, s: 'héé'.slice(0, 2) + 'x', big: 5 }, 0, 1); // 4 bytes; int64 as a safe number
    expect(t.readRow(t.lookup(1)!)).toEqual({ id: 1, s: 'héx', n: null, big: 5n });
  });
});

// ---- keys ----

type KeyTuple = Value[];

function compareValue(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return compareFloat(a, b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  throw new Error('incomparable');
}

function compareTuple(a: KeyTuple, b: KeyTuple): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValue(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

describe('index keys', () => {
  const keyDef: TableDef = {
    name: 'keys',
    columns: [col('i', 'int32'), col('l', 'int64'), col('f', 'float64'), col('b', 'bool'), col('s', 'varchar', 12), col('y', 'bytes', 6)],
    primaryKey: ['i', 'l', 'f', 'b', 's', 'y'],
  };
  const schema = TableSchema.create(keyDef);
  const tupleArb = fc.tuple(
    fc.oneof(int32Arb, fc.constantFrom(-1, 0, 1)),
    int64Arb,
    doubleArb,
    fc.boolean(),
    varcharArb(12),
    bytesArb(6),
  ) as fc.Arbitrary<KeyTuple>;

  it('orders composite encodings exactly as the values (negatives, int64 extremes, -0, NaN, escapes, prefixes)', () => {
    const codec = new KeyCodec('keys', schema.primaryKey.map((i) => schema.columns[i]), false);
    fc.assert(
      fc.property(tupleArb, tupleArb, fc.nat(5), (a, b, cut) => {
        const ea = codec.encode(a) as string;
        const eb = codec.encode(b) as string;
        const byValue = sign(compareTuple(a, b));
        expect(sign(ea < eb ? -1 : ea > eb ? 1 : 0)).toBe(byValue);
        // A prefix of components bounds exactly the keys that start with those values.
        const prefix = codec.encode(a.slice(0, cut + 1), true) as string;
        expect(eb.startsWith(prefix)).toBe(compareTuple(a.slice(0, cut + 1), b.slice(0, cut + 1)) === 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('orders single-column keys by value for every type', () => {
    const cases: [ColumnDef, fc.Arbitrary<Value>][] = [
      [col('k', 'int32'), int32Arb],
      [col('k', 'int64'), int64Arb],
      [col('k', 'float64'), doubleArb],
      [col('k', 'bool'), fc.boolean()],
      [col('k', 'varchar', 12), varcharArb(12)],
      [col('k', 'bytes', 6), bytesArb(6)],
    ];
    for (const [c, arb] of cases) {
      const s = TableSchema.create({ name: 'one', columns: [c], primaryKey: ['k'] });
      const codec = new KeyCodec('one', [s.columns[0]], false);
      fc.assert(
        fc.property(arb, arb, (a, b) => {
          expect(sign(codec.compare(codec.encode(a), codec.encode(b)))).toBe(sign(compareValue(a, b)));
        }),
        { numRuns: 500 },
      );
    }
  });

  it('gives one primitive per key: int64 safe integers as numbers, bigger ones as bigints, -0 as 0', () => {
    const t = table({ name: 'ik', columns: [col('id', 'int64')], primaryKey: ['id'] });
    expect(t.encodeKey(42n)).toBe(42);
    expect(t.encodeKey(42)).toBe(42);
    expect(t.encodeKey(2n ** 53n)).toBe(2n ** 53n);
    expect(t.encodeKey(-(2n ** 53n) + 1n)).toBe(-(2 ** 53) + 1);
    const f = table({ name: 'fk', columns: [col('id', 'float64')], primaryKey: ['id'] });
    expect(Object.is(f.encodeKey(-0), 0)).toBe(true);
    f.insert({ id: -0 }, 0, 1);
    expectMot(() => f.insert({ id: 0 }, 0, 1), 'RC_UNIQUE_VIOLATION', '23505', '(id)=(0)');
    const c = table({ name: 'ck', columns: [col('a', 'int32'), col('b', 'varchar', 4)], primaryKey: ['a', 'b'] });
    expect(typeof c.encodeKey([1, 'x'])).toBe('string');
    expect(c.formatKey([1, 'x'])).toBe('(a, b)=(1, x)');
    expectMot(() => c.lookup([1]), 'RC_ERROR', '22023', 'ck');
    expectMot(() => c.lookup(['x', 1]), 'RC_ERROR', '42804', 'ck', '"a"');
  });
});

// ---- unique constraints and updates ----

describe('unique constraints and updates', () => {
  const def: TableDef = {
    name: 'users',
    columns: [col('id', 'int64'), col('email', 'varchar', 32), col('grp', 'int32'), col('note', 'varchar', 16)],
    primaryKey: ['id'],
    indexes: [
      { name: 'users_email', columns: ['email'], unique: true },
      { name: 'users_grp', columns: ['grp'] },
    ],
  };

  it('names the duplicate primary key and leaves the table unchanged', () => {
    const p = pools();
    const t = table(def, p);
    t.insert({ id: 42n, email: 'a@x', grp: 1 }, 0, 1);
    expectMot(() => t.insert({ id: 42n, email: 'b@x', grp: 2 }, 1, 2), 'RC_UNIQUE_VIOLATION', '23505', 'users_pkey', '(id)=(42)', 'users');
    expect(t.rowCount()).toBe(1);
    expect(t.lookupIndex('users_email', 'b@x')).toEqual([]);
    expect(t.lookupIndex('users_grp', 2)).toEqual([]);
    expect(t.memoryBytes().liveRowBytes).toBe(t.schema.rowBytes);
    // The slot went back to node 1's free list: the next insert there takes it.
    const s = t.insert({ id: 43n, email: 'b@x', grp: 2 }, 1, 3);
    expect(t.readRow(s)).toEqual({ id: 43n, email: 'b@x', grp: 2, note: null });
    expect(p.detail()[2].usedBytes).toBe(CHUNK_BYTES);
  });

  it('names the duplicate secondary key, and unwinds the primary entry and the slot', () => {
    const t = table(def);
    t.insert({ id: 1n, email: 'a@x', grp: 1 }, 0, 1);
    expectMot(() => t.insert({ id: 2n, email: 'a@x', grp: 1 }, 0, 2), 'RC_UNIQUE_VIOLATION', '23505', 'users_email', '(email)=(a@x)');
    expect(t.lookup(2n)).toBeUndefined();
    expect(t.lookupIndex('users_grp', 1)).toHaveLength(1);
    // NULLs never conflict in a unique index.
    t.insert({ id: 3n, email: null, grp: 1 }, 0, 3);
    t.insert({ id: 4n, email: null, grp: 1 }, 0, 4);
    expect(t.lookupIndex('users_email', null)).toHaveLength(2);
    expect(t.lookupIndex('users_grp', 1).map((s) => t.keyOfSlot(s))).toEqual([1n, 3n, 4n]);
  });

  it('updates only the given columns, keeps secondary indexes in step and refuses a taken unique key', () => {
    const t = table(def);
    const a = t.insert({ id: 1n, email: 'a@x', grp: 1, note: 'hello' }, 0, 1);
    t.insert({ id: 2n, email: 'b@x', grp: 1 }, 1, 1);
    t.update(a, { grp: 7, note: 'hi' }, 5);
    expect(t.readRow(a)).toEqual({ id: 1n, email: 'a@x', grp: 7, note: 'hi' });
    expect(t.version(a)).toBe(5);
    expect(t.lookupIndex('users_grp', 7)).toEqual([a]);
    expect(t.lookupIndex('users_grp', 1).map((s) => t.keyOfSlot(s))).toEqual([2n]);
    expectMot(() => t.update(a, { email: 'b@x', note: 'zz' }, 6), 'RC_UNIQUE_VIOLATION', '23505', 'users_email', '(email)=(b@x)');
    expect(t.readRow(a)).toEqual({ id: 1n, email: 'a@x', grp: 7, note: 'hi' });
    expect(t.version(a)).toBe(5);
    t.update(a, { email: 'c@x' }, 7);
    expect(t.lookupIndex('users_email', 'c@x')).toEqual([a]);
    expect(t.lookupIndex('users_email', 'a@x')).toEqual([]);
  });

  it('refuses changing a primary key column (0A000) but accepts setting it to its own value', () => {
    const t = table(def);
    const a = t.insert({ id: 1n, email: 'a@x' }, 0, 1);
    expectMot(() => t.update(a, { id: 2n }, 2), 'RC_ERROR', '0A000', '"id"', 'users');
    t.update(a, { id: 1, note: 'same' }, 3);
    expect(t.readRow(a).note).toBe('same');
    expectMot(() => t.update(a, { nope: 1 }, 4), 'RC_ERROR', '42703', 'nope');
    expectMot(() => t.lookupIndex('missing', 1), 'RC_INDEX_NOT_FOUND', '42P01', 'missing', 'users');
  });
});

// ---- model-based ----

const MODEL_DEF: TableDef = {
  name: 'm',
  columns: [
    col('k1', 'int32'),
    col('k2', 'varchar', 8),
    { name: 'email', type: 'varchar', size: 16 },
    { name: 'grp', type: 'int64' },
    { name: 'score', type: 'float64' },
    { name: 'flag', type: 'bool' },
    { name: 'blob', type: 'bytes', size: 4 },
  ],
  primaryKey: ['k1', 'k2'],
  indexes: [
    { name: 'm_email', columns: ['email'], unique: true },
    { name: 'm_grp', columns: ['grp'] },
  ],
};

interface Model {
  rows: Map<string, Row>;
}
interface Real {
  table: Table;
  pools: ChunkPools;
}

const k1Arb = fc.integer({ min: -3, max: 3 });
const k2Arb = fc.constantFrom('', 'a', 'b', 'ab', '\x00', 'a\x01', 'é', '\uFFFF');
const emailArb = fc.option(fc.constantFrom('x', 'y', 'z', 'w'), { freq: 3 });
const grpArb = fc.option(fc.constantFrom(-1n, 0n, 5n, 2n ** 60n));
const payloadArb = fc.record({
  email: emailArb,
  grp: grpArb,
  score: fc.option(doubleArb),
  flag: fc.option(fc.boolean()),
  blob: fc.option(fc.uint8Array({ maxLength: 4 })),
});

const mkey = (k1: Value, k2: Value): string => JSON.stringify([k1, k2]);
const rowKey = (r: Row): KeyTuple => [r.k1, r.k2];
const sortedRows = (m: Model): Row[] => [...m.rows.values()].sort((a, b) => compareTuple(rowKey(a), rowKey(b)));
const nthKey = (m: Model, n: number): Row => sortedRows(m)[n % m.rows.size];
const emailTaken = (m: Model, email: Value, except?: string): boolean =>
  email !== null && [...m.rows.entries()].some(([k, r]) => k !== except && r.email === email);

class InsertCmd implements fc.Command<Model, Real> {
  constructor(readonly row: Row, readonly socket: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const key = mkey(this.row.k1, this.row.k2);
    if (m.rows.has(key)) {
      expectMot(() => r.table.insert(this.row, this.socket, 1), 'RC_UNIQUE_VIOLATION', '23505', 'm_pkey');
    } else if (emailTaken(m, this.row.email)) {
      expectMot(() => r.table.insert(this.row, this.socket, 1), 'RC_UNIQUE_VIOLATION', '23505', 'm_email');
    } else {
      const slot = r.table.insert(this.row, this.socket, 1);
      expect(r.table.socketOf(slot)).toBe(this.socket);
      m.rows.set(key, { ...this.row });
    }
    expect(r.table.rowCount()).toBe(m.rows.size);
  }
  toString = (): string => `insert(${fc.stringify(this.row)}, socket ${this.socket})`;
}

class UpdateCmd implements fc.Command<Model, Real> {
  constructor(readonly pick: number, readonly changes: Row) {}
  check = (m: Readonly<Model>): boolean => m.rows.size > 0;
  run(m: Model, r: Real): void {
    const target = nthKey(m, this.pick);
    const key = mkey(target.k1, target.k2);
    const slot = r.table.lookup([target.k1, target.k2]);
    expect(slot).toBeDefined();
    if (this.changes.email !== undefined && emailTaken(m, this.changes.email, key)) {
      expectMot(() => r.table.update(slot!, this.changes, 2), 'RC_UNIQUE_VIOLATION', '23505', 'm_email');
    } else {
      r.table.update(slot!, this.changes, 2);
      const merged = { ...target };
      for (const [c, v] of Object.entries(this.changes)) if (v !== undefined) merged[c] = v;
      m.rows.set(key, merged);
    }
    expect(r.table.readRow(slot!)).toEqual(m.rows.get(key));
  }
  toString = (): string => `update(#${this.pick}, ${fc.stringify(this.changes)})`;
}

class RemoveCmd implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.rows.size > 0;
  run(m: Model, r: Real): void {
    const target = nthKey(m, this.pick);
    const slot = r.table.lookup([target.k1, target.k2]);
    r.table.remove(slot!);
    m.rows.delete(mkey(target.k1, target.k2));
    expect(r.table.lookup([target.k1, target.k2])).toBeUndefined();
    expect(r.table.rowCount()).toBe(m.rows.size);
  }
  toString = (): string => `remove(#${this.pick})`;
}

type Bound = [number] | [number, string] | undefined;
/** A literal bound, or one taken from an existing row (n-th key, whole or its first column). */
type BoundSpec = { bound: Bound } | { pick: number; prefix: boolean };
function resolveBound(m: Model, spec: BoundSpec | undefined): Bound {
  if (spec === undefined) return undefined;
  if ('bound' in spec) return spec.bound;
  if (m.rows.size === 0) return undefined;
  const row = nthKey(m, spec.pick);
  return spec.prefix ? [row.k1 as number] : [row.k1 as number, row.k2 as string];
}

class ScanCmd implements fc.Command<Model, Real> {
  constructor(
    readonly fromSpec: BoundSpec | undefined,
    readonly toSpec: BoundSpec | undefined,
    readonly reverse: boolean,
    readonly toInclusive: boolean,
    readonly limit: number | undefined,
  ) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const from = resolveBound(m, this.fromSpec);
    const to = resolveBound(m, this.toSpec);
    const inRange = (k: KeyTuple): boolean => {
      if (from !== undefined && compareTuple(k.slice(0, from.length), from) < 0) return false;
      if (to !== undefined) {
        const c = compareTuple(k.slice(0, to.length), to);
        // A full-key bound compares whole keys; a prefix bound compares that many components.
        if (c > 0 || (c === 0 && !this.toInclusive)) return false;
      }
      return true;
    };
    let expected = sortedRows(m).filter((row) => inRange(rowKey(row)));
    if (this.reverse) expected.reverse();
    if (this.limit !== undefined) expected = expected.slice(0, this.limit);
    const got = [...r.table.scan(from, to, { reverse: this.reverse, toInclusive: this.toInclusive, limit: this.limit })].map((s) =>
      r.table.readRow(s),
    );
    expect(got).toEqual(expected);
  }
  toString = (): string =>
    `scan(${fc.stringify(this.fromSpec)}, ${fc.stringify(this.toSpec)}, reverse ${this.reverse}, incl ${this.toInclusive}, limit ${this.limit})`;
}

class IndexLookupCmd implements fc.Command<Model, Real> {
  constructor(readonly email: Value, readonly grp: Value) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const keysOf = (slots: SlotId[]): string[] => slots.map((s) => JSON.stringify(r.table.keyOfSlot(s))).sort();
    const expectKeys = (pred: (row: Row) => boolean): string[] => sortedRows(m).filter(pred).map((row) => JSON.stringify(rowKey(row))).sort();
    expect(keysOf(r.table.lookupIndex('m_email', this.email))).toEqual(expectKeys((row) => row.email === this.email));
    expect(keysOf(r.table.lookupIndex('m_grp', this.grp))).toEqual(expectKeys((row) => row.grp === this.grp));
  }
  toString = (): string => `lookupIndex(${fc.stringify(this.email)}, ${fc.stringify(this.grp)})`;
}

class VacuumCmd implements fc.Command<Model, Real> {
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const before = r.table.memoryBytes().chunks;
    const res = r.table.vacuum();
    expect(res.chunksBefore).toBe(before);
    expect(res.rowsMoved).toBe(m.rows.size);
    expect(res.chunksAfter).toBeLessThanOrEqual(Math.max(before, 2));
    for (const row of m.rows.values()) expect(r.table.readRow(r.table.lookup([row.k1, row.k2])!)).toEqual(row);
  }
  toString = (): string => 'vacuum()';
}

const boundSpecArb: fc.Arbitrary<BoundSpec> = fc.oneof(
  fc.oneof(fc.tuple(k1Arb), fc.tuple(k1Arb, k2Arb)).map((b) => ({ bound: b as Bound })),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, prefix]) => ({ pick, prefix })),
);

// Works with JSON.stringify for model keys (bigint is not JSON): grp is compared by ===, keys are int/string.
describe('model-based: the table behaves like a sorted map', () => {
  it('matches a Map model over random insert/update/remove/scan/lookupIndex/vacuum sequences', () => {
    const commands = [
      fc.tuple(k1Arb, k2Arb, payloadArb, fc.nat(1)).map(([k1, k2, p, s]) => new InsertCmd({ k1, k2, ...p }, s)),
      fc.tuple(k1Arb, k2Arb, payloadArb, fc.nat(1)).map(([k1, k2, p, s]) => new InsertCmd({ k1, k2, ...p }, s)),
      fc.tuple(fc.nat(), fc.record({ email: emailArb, grp: grpArb, flag: fc.option(fc.boolean()) }, { requiredKeys: [] })).map(
        ([n, c]) => new UpdateCmd(n, c as Row),
      ),
      fc.nat().map((n) => new RemoveCmd(n)),
      fc
        .tuple(
          fc.option(boundSpecArb, { nil: undefined }),
          fc.option(boundSpecArb, { nil: undefined }),
          fc.boolean(),
          fc.boolean(),
          fc.option(fc.nat(6), { nil: undefined }),
        )
        .map(([f, t, rev, inc, lim]) => new ScanCmd(f, t, rev, inc, lim)),
      fc.tuple(emailArb, grpArb).map(([e, g]) => new IndexLookupCmd(e, g)),
      fc.constant(new VacuumCmd()),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 120 }), (cmds) => {
        const p = pools({ cachedFreeChunksMax: 1 });
        const setup = () => ({ model: { rows: new Map<string, Row>() }, real: { table: table(MODEL_DEF, p), pools: p } });
        fc.modelRun(setup, cmds);
      }),
      { numRuns: 150 },
    );
  });
});

// ---- scans, raw rows, vacuum, memory ----

describe('scans, raw rows, vacuum and memory accounting', () => {
  const def: TableDef = {
    name: 'acct',
    columns: [col('id', 'int64'), col('name', 'varchar', 80), col('bal', 'int64'), col('n', 'int32')],
    primaryKey: ['id'],
    indexes: [{ name: 'acct_n', columns: ['n'] }],
  };

  it('a scan sees every row once while the caller deletes the rows it is given', () => {
    const t = table(def);
    for (let i = 0; i < 1000; i++) t.insert({ id: BigInt(i * 3), name: `r${i}`, bal: 0n, n: i % 7 }, i % 2, 1);
    const seen: bigint[] = [];
    for (const slot of t.scan()) {
      seen.push(t.keyOfSlot(slot) as bigint);
      t.remove(slot);
      if (seen.length % 10 === 0) t.insert({ id: BigInt(seen.length * 3 + 1), name: 'new', bal: 0n, n: 0 }, 0, 2);
    }
    // Rows inserted ahead of the cursor are seen too, each once; everything behind it was deleted.
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((k) => k % 3n === 0n)).toHaveLength(1000);
    expect([...seen].sort((a, b) => (a < b ? -1 : 1))).toEqual(seen);
    expect(t.rowCount()).toBe(0);
  });

  it('a scan never yields a row removed ahead of its cursor, in either direction', () => {
    for (const reverse of [false, true]) {
      const t = table(def);
      for (let i = 0; i < 500; i++) t.insert({ id: BigInt(i), name: 'r', bal: 0n, n: 0 }, 0, 1);
      const seen: bigint[] = [];
      for (const slot of t.scan(undefined, undefined, { reverse })) {
        const k = t.keyOfSlot(slot) as bigint;
        seen.push(k);
        const next = t.lookup(reverse ? k - 1n : k + 1n);
        if (next !== undefined) t.remove(next); // the row right after the cursor
      }
      expect(seen).toEqual(Array.from({ length: 250 }, (_, j) => BigInt(reverse ? 499 - 2 * j : 2 * j)));
    }
  });

  it('copies rows through rowBytes()/insertRaw() and refuses malformed or duplicate images', () => {
    const p = pools();
    const a = table(def, p);
    const b = new Table(2, TableSchema.create(def), p);
    for (let i = 0; i < 300; i++) a.insert({ id: BigInt(i), name: i % 5 === 0 ? null : 'n'.repeat(i % 81), bal: BigInt(-i), n: i }, i % 2, i + 10);
    for (const s of a.scan()) b.insertRaw(Uint8Array.from(a.rowBytes(s)), a.socketOf(s), 99);
    expect([...b.scan()].map((s) => b.readRow(s))).toEqual([...a.scan()].map((s) => a.readRow(s)));
    expect(b.version(b.lookup(5n)!)).toBe(99);
    expect(b.lookupIndex('acct_n', 7).map((s) => b.keyOfSlot(s))).toEqual([7n]);
    const img = Uint8Array.from(a.rowBytes(a.lookup(1n)!));
    expectMot(() => b.insertRaw(img, 0, 1), 'RC_UNIQUE_VIOLATION', '23505', '(id)=(1)');
    const bad = Uint8Array.from(img);
    bad[a.schema.columns[1].offset] = 0xff; // name length 255 > 80
    bad[a.schema.columns[0].offset] = 0x77; // a fresh key
    expectMot(() => b.insertRaw(bad, 0, 1), 'RC_ERROR', '22023', 'acct', 'name');
    expectMot(() => b.insertRaw(img.subarray(1), 0, 1), 'RC_ERROR', '22023', 'acct');
    expect(b.rowCount()).toBe(300);
  });

  it('vacuum keeps every row and index entry and frees chunks after many deletes', () => {
    const p = pools({ cachedFreeChunksMax: 0 });
    const t = table(def, p);
    const N = 60_000;
    const socketOf = (i: number): number => Math.floor(i / 10) % 2; // survivors on both nodes
    for (let i = 0; i < N; i++) t.insert({ id: BigInt(i), name: `name-${i}`, bal: BigInt(i * 10), n: i % 100 }, socketOf(i), i);
    for (let i = 0; i < N; i++) if (i % 10 !== 0) t.remove(t.lookup(BigInt(i))!);
    const before = t.memoryBytes();
    const usedBefore = p.detail()[0].usedBytes;
    const res = t.vacuum();
    expect(res).toEqual({ chunksBefore: before.chunks, chunksAfter: 2, rowsMoved: N / 10 });
    expect(res.chunksAfter).toBeLessThan(res.chunksBefore);
    expect(p.detail()[0].usedBytes).toBe(usedBefore - (before.chunks - 2) * CHUNK_BYTES);
    expect(t.rowCount()).toBe(N / 10);
    for (let i = 0; i < N; i += 10) {
      const s = t.lookup(BigInt(i))!;
      expect(t.readRow(s)).toEqual({ id: BigInt(i), name: `name-${i}`, bal: BigInt(i * 10), n: i % 100 });
      expect(t.version(s)).toBe(i);
      expect(t.socketOf(s)).toBe(socketOf(i));
    }
    expect(t.lookupIndex('acct_n', 30).map((s) => t.keyOfSlot(s))).toEqual(Array.from({ length: N / 100 }, (_, j) => BigInt(j * 100 + 30)));
    const keys = [...t.scan()].map((s) => t.keyOfSlot(s));
    expect(keys).toEqual(Array.from({ length: N / 10 }, (_, j) => BigInt(j * 10)));
    // The table stays usable: freed slots and fresh inserts.
    t.insert({ id: 1n, name: 'back', bal: 0n, n: 30 }, 1, 5);
    expect(t.lookupIndex('acct_n', 30)).toHaveLength(N / 100 + 1);
  });

  it('vacuum is all or nothing when memory runs out', () => {
    const p = pools({ sockets: 1, globalBytesMax: 3 * CHUNK_BYTES, cachedFreeChunksMax: 0 });
    const t = table(def, p);
    let i = 0;
    for (; t.memoryBytes().chunks < 2; i++) t.insert({ id: BigInt(i), name: 'x'.repeat(80), bal: 0n, n: 1 }, 0, 1);
    expectMot(() => t.vacuum(), 'RC_MEMORY_ALLOCATION_ERROR', 'YY006', 'acct', 'NUMA node 0');
    expect(t.rowCount()).toBe(i);
    expect(t.memoryBytes().chunks).toBe(2);
    expect(p.detail()[0].usedBytes).toBe(2 * CHUNK_BYTES);
    expect(t.readRow(t.lookup(0n)!).n).toBe(1);
  });

  it('truncate and drop free every chunk; a dropped table refuses use', () => {
    const p = pools();
    const t = table(def, p);
    for (let i = 0; i < 100; i++) t.insert({ id: BigInt(i), name: 'a', bal: 0n, n: 1 }, i % 2, 1);
    t.truncate();
    expect(t.rowCount()).toBe(0);
    expect(p.detail()[0].usedBytes).toBe(0);
    expect([...t.scan()]).toEqual([]);
    t.insert({ id: 1n, name: 'a', bal: 0n, n: 1 }, 0, 1);
    t.drop();
    expect(t.dropped).toBe(true);
    expect(p.detail()[0].usedBytes).toBe(0);
    expectMot(() => t.insert({ id: 2n, name: 'a', bal: 0n, n: 1 }, 0, 1), 'RC_TABLE_NOT_FOUND', '42P01', 'acct');
  });

  it('reports table and index memory', () => {
    const t = table(def);
    for (let i = 0; i < 1000; i++) t.insert({ id: BigInt(i), name: 'a', bal: 0n, n: 1 }, 0, 1);
    const m = t.memoryBytes();
    expect(m.chunks).toBe(1);
    expect(m.dataBytes).toBe(CHUNK_BYTES);
    expect(m.liveRowBytes).toBe(1000 * t.schema.rowBytes);
    expect(m.indexBytesEstimate).toBeGreaterThan(1000 * 20);
  });
});

describe('chunk pools', () => {
  it('accounts reserved and used bytes per NUMA node, node -1 (the total) first', () => {
    const p = new ChunkPools({ sockets: 2, globalBytesMax: 8 * CHUNK_BYTES, localBytesMax: 2 * CHUNK_BYTES, cachedFreeChunksMax: 1 });
    expect(p.detail()).toEqual([
      { numaNode: -1, reservedBytes: 0, usedBytes: 0 },
      { numaNode: 0, reservedBytes: 0, usedBytes: 0 },
      { numaNode: 1, reservedBytes: 0, usedBytes: 0 },
    ]);
    const a = p.allocate(0);
    const b = p.allocate(0);
    const c = p.allocate(1);
    expect(a.buf.length).toBe(CHUNK_BYTES);
    expect(p.detail()).toEqual([
      { numaNode: -1, reservedBytes: 3 * CHUNK_BYTES, usedBytes: 3 * CHUNK_BYTES },
      { numaNode: 0, reservedBytes: 2 * CHUNK_BYTES, usedBytes: 2 * CHUNK_BYTES },
      { numaNode: 1, reservedBytes: CHUNK_BYTES, usedBytes: CHUNK_BYTES },
    ]);
    a.buf[5] = 9;
    p.free(a); // cached: still reserved
    p.free(b); // over the cache bound: released
    expect(p.detail()[1]).toEqual({ numaNode: 0, reservedBytes: CHUNK_BYTES, usedBytes: 0 });
    const again = p.allocate(0);
    expect(again).toBe(a);
    expect(again.buf[5]).toBe(0); // handed out zeroed
    expect(() => p.free(b)).toThrow(/freed twice/);
    p.free(c);
    expect(p.localDetail()[0]).toEqual({ numaNode: -1, reservedBytes: 0, usedBytes: 0 });
    p.allocate(1, 'local');
    expect(p.localDetail()[2]).toEqual({ numaNode: 1, reservedBytes: CHUNK_BYTES, usedBytes: CHUNK_BYTES });
  });

  it('throws out_of_logical_memory naming the node and the limit when a node is full', () => {
    const p = new ChunkPools({ sockets: 2, globalBytesMax: 4 * CHUNK_BYTES, localBytesMax: 0 });
    p.allocate(1);
    p.allocate(1);
    const e = expectMot(() => p.allocate(1), 'RC_MEMORY_ALLOCATION_ERROR', 'YY006', 'NUMA node 1', String(2 * CHUNK_BYTES), 'max_mot_global_memory');
    expect(e.code).toBe('MOT_ERROR_OOM');
    p.allocate(0); // the other node still has room
    expectMot(() => p.allocate(0, 'local'), 'RC_MEMORY_ALLOCATION_ERROR', 'YY006', 'local', 'max_mot_local_memory');
    expectMot(() => p.allocate(2), 'RC_ERROR', '22023', 'NUMA node', '2');
    expectMot(() => new ChunkPools({ sockets: 0, globalBytesMax: 1, localBytesMax: 1 }), 'RC_ERROR', '22023', 'sockets');
  });

  it('a table insert that hits the limit fails cleanly and the table stays consistent', () => {
    const p = new ChunkPools({ sockets: 1, globalBytesMax: CHUNK_BYTES, localBytesMax: 0 });
    const t = table({ name: 'full', columns: [col('id', 'int32'), col('pad', 'bytes', 1000)], primaryKey: ['id'] }, p);
    const perChunk = Math.floor(CHUNK_BYTES / t.schema.rowBytes);
    for (let i = 0; i < perChunk; i++) t.insert({ id: i, pad: new Uint8Array(10) }, 0, 1);
    expectMot(() => t.insert({ id: perChunk, pad: null }, 0, 1), 'RC_MEMORY_ALLOCATION_ERROR', 'YY006', 'table "full"', 'NUMA node 0');
    expect(t.rowCount()).toBe(perChunk);
    expect(t.lookup(perChunk)).toBeUndefined();
    t.remove(t.lookup(3)!);
    t.insert({ id: perChunk, pad: null }, 0, 1); // reuses the freed slot
    expect(t.readRow(t.lookup(perChunk)!)).toEqual({ id: perChunk, pad: null });
  });
});

describe('bulk load (recovery)', () => {
  it('loads rows in any order and indexes them exactly like inserts, with a valid tree', async () => {
    const { TableSchema } = await import('../src/store/schema.js');
    const { Table } = await import('../src/store/table.js');
    const { ChunkPools } = await import('../src/store/chunk-pool.js');
    const def = {
      name: 'bulk',
      columns: [
        { name: 'id', type: 'int64' as const, nullable: false },
        { name: 's', type: 'varchar' as const, size: 16 },
      ],
      primaryKey: ['id'],
      indexes: [{ name: 'bulk_s', columns: ['s'] }],
    };
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: -5000, max: 5000 }), { maxLength: 600 }), fc.boolean(), (ids, sortFirst) => {
        const pools = new ChunkPools({ sockets: 1, globalBytesMax: 1 << 30, localBytesMax: 1 << 30 });
        const source = new Table(1, TableSchema.create(def), pools);
        const order = sortFirst ? [...ids].sort((a, b) => a - b) : ids;
        for (const id of order) source.insert({ id: BigInt(id), s: `v${id % 7}` }, 0, 5);
        const target = new Table(2, TableSchema.create(def), pools);
        target.beginLoad();
        const images = [...source.scan()].map((slot) => Uint8Array.from(source.rowBytes(slot)));
        // Out-of-order tail, as a checkpoint writes pre-images of rows removed during its scan.
        const shuffled = sortFirst ? images : [...images.slice(3), ...images.slice(0, 3)];
        const concat = new Uint8Array(shuffled.reduce((n, b) => n + b.length, 0));
        let at = 0;
        for (const b of shuffled) {
          concat.set(b, at);
          at += b.length;
        }
        for (let off = 0; off < concat.length; off += source.schema.rowBytes) target.loadRaw(concat, off, 0, 9);
        target.finishLoad();
        expect(target.rowCount()).toBe(ids.length);
        const keysOf = (t: InstanceType<typeof Table>) => [...t.scan()].map((slot) => t.readRow(slot).id);
        expect(keysOf(target)).toEqual(keysOf(source));
        for (const id of ids) expect(target.readRow(target.lookup(BigInt(id))!).s).toBe(`v${id % 7}`);
        expect(target.lookupIndex('bulk_s', 'v3').length).toBe(ids.filter((id) => id % 7 === 3).length);
        // Later inserts and removes work on the bulk-built tree.
        target.insert({ id: 100_000n, s: 'new' }, 0, 10);
        if (ids.length > 0) target.remove(target.lookup(BigInt(ids[0]!))!);
        expect(target.rowCount()).toBe(Math.max(1, ids.length));
        ((target as unknown as { primary: { checkValid(): void } }).primary).checkValid();
      }),
      { numRuns: 60 },
    );
  });
});

describe('primary index: appending the greatest key', () => {
  it('keeps the tree valid and equal to a sorted model under ascending, random and mixed inserts and removes', async () => {
    const { newTree, appendGreatest, compareInt } = await import('../src/store/key.js');
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant(-1)), { maxLength: 800 }), (ops) => {
        const tree = newTree<number>(compareInt);
        const model = new Map<number, number>();
        let next = 0;
        for (const op of ops) {
          if (op === -1) {
            const k = next++ + 10_000; // ascending, greater than everything
            if (!appendGreatest(tree, k, k)) tree.set(k, k);
            model.set(k, k);
          } else if (model.has(op) && op % 3 === 0) {
            tree.delete(op);
            model.delete(op);
          } else if (!model.has(op)) {
            if (!appendGreatest(tree, op, op)) tree.setIfNotPresent(op, op);
            model.set(op, op);
          }
        }
        (tree as unknown as { checkValid(): void }).checkValid();
        expect([...tree.keys()]).toEqual([...model.keys()].sort((a, b) => a - b));
        expect(tree.size).toBe(model.size);
      }),
      { numRuns: 200 },
    );
  });

  it('declines keys that are not the greatest', async () => {
    const { newTree, appendGreatest, compareInt } = await import('../src/store/key.js');
    const tree = newTree<number>(compareInt);
    for (let i = 0; i < 200; i++) tree.set(i * 2, i);
    expect(appendGreatest(tree, 5, 0)).toBe(false);
    expect(appendGreatest(tree, 398, 0)).toBe(false);
    expect(tree.size).toBe(200);
  });
});
