// WAL replay's fast path writes a CREATE_ROW redo entry straight into a slot; the slot image must be
// byte for byte what inserting the decoded row produces, and malformed bodies must be refused.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TableSchema, type Row } from '../src/store/schema.js';
import { Table } from '../src/store/table.js';
import { ChunkPools } from '../src/store/chunk-pool.js';
import { ByteWriter, writeColumnSet } from '../src/redo/column-set.js';
import { compileRowTranscoder } from '../src/recovery/row-transcoder.js';

const def = {
  name: 't',
  columns: [
    { name: 'id', type: 'int64' as const, nullable: false },
    { name: 'i', type: 'int32' as const },
    { name: 'f', type: 'float64' as const },
    { name: 'b', type: 'bool' as const },
    { name: 's', type: 'varchar' as const, size: 40 },
    { name: 'y', type: 'bytes' as const, size: 16 },
  ],
  primaryKey: ['id'],
};

const rowArb = fc.record({
  id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  i: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null }),
  f: fc.option(fc.double(), { nil: null }),
  b: fc.option(fc.boolean(), { nil: null }),
  s: fc.option(fc.string({ maxLength: 13 }), { nil: null }),
  y: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
});

function tables() {
  const pools = new ChunkPools({ sockets: 1, globalBytesMax: 1 << 30, localBytesMax: 1 << 30 });
  return { a: new Table(1, TableSchema.create(def), pools), b: new Table(2, TableSchema.create(def), pools) };
}

function encode(row: Row): Uint8Array {
  const w = new ByteWriter(64);
  writeColumnSet(w, def.columns, row, null);
  return Uint8Array.from(w.buf.subarray(0, w.pos));
}

describe('row transcoder (WAL replay fast path)', () => {
  it('writes exactly the slot image that inserting the decoded row writes', () => {
    const { a, b } = tables();
    const transcode = compileRowTranscoder(def.columns, a.schema.layout);
    fc.assert(
      fc.property(rowArb, (row) => {
        const existing = a.lookup(row.id);
        if (existing !== undefined) {
          a.remove(existing);
          b.remove(b.lookup(row.id)!);
        }
        const sa = a.insert(row as Row, 0, 7);
        const body = encode(row as Row);
        const sb = b.insertFilled(0, 7, (buf, _v, base) => transcode(body, buf, base));
        expect(Buffer.compare(a.rowBytes(sa), b.rowBytes(sb))).toBe(0);
      }),
    );
  });

  it('refuses truncated bodies, missing columns and oversized values without leaving a row', () => {
    const { b } = tables();
    const transcode = compileRowTranscoder(def.columns, b.schema.layout);
    const body = encode({ id: 1n, i: 2, f: 3, b: true, s: 'hello', y: new Uint8Array([1]) });
    expect(() => b.insertFilled(0, 1, (buf, _v, base) => transcode(body.subarray(0, body.length - 1), buf, base))).toThrow(RangeError);
    const partial = encode({ id: 1n });
    expect(() => b.insertFilled(0, 1, (buf, _v, base) => transcode(partial, buf, base))).toThrow(/missing/);
    const long = Uint8Array.from(body);
    // The varchar's length prefix follows the 2 bitmap bytes, id (8), i (4), f (8), b (1).
    long[2 + 8 + 4 + 8 + 1] = 200;
    expect(() => b.insertFilled(0, 1, (buf, _v, base) => transcode(long, buf, base))).toThrow(RangeError);
    expect(b.rowCount()).toBe(0);
    b.insertFilled(0, 1, (buf, _v, base) => transcode(body, buf, base));
    expect(b.readRow(b.lookup(1n)!)).toMatchObject({ id: 1n, i: 2, s: 'hello' });
  });
});
