// Redo buffers round-trip for every record kind and column type; transactions bigger than the redo
// buffer become PARTIAL buffers then a COMMIT; an entry bigger than an empty buffer is an error.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ColumnDef, Row } from '../src/store/schema.js';
import { RedoEncoder } from '../src/redo/redo-encoder.js';
import { decodeDdlBody, decodeRedoBuffer, RedoFormatError } from '../src/redo/redo-decoder.js';
import { readColumnSet } from '../src/redo/column-set.js';
import { RedoEndOp, RedoOp } from '../src/redo/redo-format.js';

const COLUMNS: ColumnDef[] = [
  { name: 'id', type: 'int64', nullable: false },
  { name: 'i', type: 'int32' },
  { name: 'f', type: 'float64' },
  { name: 'b', type: 'bool' },
  { name: 's', type: 'varchar', size: 200 },
  { name: 'y', type: 'bytes', size: 64 },
];

const rowArb = fc.record({
  id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  i: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null }),
  f: fc.option(fc.double({ noNaN: true }), { nil: null }),
  b: fc.option(fc.boolean(), { nil: null }),
  s: fc.option(fc.string({ maxLength: 60 }), { nil: null }),
  y: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
});

function normalize(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Uint8Array ? Uint8Array.from(v) : v;
  return out;
}

describe('redo codec', () => {
  it('round-trips CREATE_ROW, UPDATE_ROW (delta only) and REMOVE_ROW for every column type', () => {
    fc.assert(
      fc.property(rowArb, fc.subarray(['i', 'f', 'b', 's', 'y']), fc.nat(), (row, changed, txId) => {
        const enc = new RedoEncoder(1 << 20);
        enc.addRow(RedoOp.CREATE_ROW, 7, COLUMNS, row, null);
        const delta: Row = { id: row.id };
        for (const c of changed) delta[c] = row[c as keyof typeof row] as Row[string];
        enc.addRow(RedoOp.UPDATE_ROW, 7, COLUMNS, delta, null);
        enc.addRow(RedoOp.REMOVE_ROW, 7, COLUMNS, { ...row }, (i) => i === 0);
        const [buf, ...more] = enc.finish(txId, 99, 1234.5);
        expect(more).toHaveLength(0);
        const d = decodeRedoBuffer(buf!);
        expect(d).toMatchObject({ endOp: RedoEndOp.COMMIT, csn: 99, txId, commitWallMs: 1234.5 });
        expect(d.entries.map((e) => e.op)).toEqual([RedoOp.CREATE_ROW, RedoOp.UPDATE_ROW, RedoOp.REMOVE_ROW]);
        expect(normalize(readColumnSet(d.entries[0]!.body, COLUMNS).row)).toEqual(normalize(row));
        const upd = readColumnSet(d.entries[1]!.body, COLUMNS);
        expect(normalize(upd.row)).toEqual(normalize(delta));
        expect(upd.present).toEqual([0, ...changed.map((c) => COLUMNS.findIndex((x) => x.name === c))].sort((a, b) => a - b));
        expect(readColumnSet(d.entries[2]!.body, COLUMNS).row).toEqual({ id: row.id });
      }),
    );
  });

  it('round-trips DDL bodies through msgpack', () => {
    const enc = new RedoEncoder(1 << 20);
    const def = { name: 't', columns: COLUMNS, primaryKey: ['id'] };
    enc.addDdl(RedoOp.CREATE_TABLE, 3, def);
    enc.addDdl(RedoOp.DROP_TABLE, 3, undefined);
    const d = decodeRedoBuffer(enc.finish(1, 1, 0)[0]!);
    expect(decodeDdlBody(d.entries[0]!.body)).toEqual(def);
    expect(d.entries[1]!.body.length).toBe(0);
  });

  it('splits a transaction bigger than the redo buffer into PARTIAL buffers followed by COMMIT', () => {
    const enc = new RedoEncoder(4096);
    for (let i = 0; i < 200; i++) enc.addRow(RedoOp.CREATE_ROW, 1, COLUMNS, { id: BigInt(i), s: 'x'.repeat(100) }, null);
    const bufs = enc.finish(42, 7, 0);
    expect(bufs.length).toBeGreaterThan(5);
    const decoded = bufs.map((b) => decodeRedoBuffer(b));
    for (const b of bufs) expect(b.length).toBeLessThanOrEqual(4096);
    expect(decoded.slice(0, -1).every((d) => d.endOp === RedoEndOp.PARTIAL && d.csn === 0 && d.txId === 42)).toBe(true);
    expect(decoded.at(-1)).toMatchObject({ endOp: RedoEndOp.COMMIT, csn: 7, txId: 42 });
    const ids = decoded.flatMap((d) => d.entries.map((e) => readColumnSet(e.body, COLUMNS).row.id));
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i)));
  });

  it('rejects one entry bigger than an empty redo buffer, naming redo_buffer_size', () => {
    const enc = new RedoEncoder(256);
    expect(() => enc.addRow(RedoOp.CREATE_ROW, 1, COLUMNS, { id: 1n, s: 'x'.repeat(300) }, null)).toThrowError(/redo_buffer_size/);
    // The encoder is still usable afterwards.
    enc.addRow(RedoOp.CREATE_ROW, 1, COLUMNS, { id: 1n }, null);
    expect(enc.finish(1, 1, 0)).toHaveLength(1);
  });

  it('reports malformed buffers with an offset instead of returning wrong data', () => {
    const enc = new RedoEncoder(1 << 20);
    enc.addRow(RedoOp.CREATE_ROW, 1, COLUMNS, { id: 5n, s: 'hello' }, null);
    const buf = enc.finish(1, 1, 0)[0]!;
    const shorter = Uint8Array.from(buf).subarray(0, buf.length - 1);
    expect(() => decodeRedoBuffer(shorter)).toThrow(RedoFormatError);
    const wrongCount = Uint8Array.from(buf);
    new DataView(wrongCount.buffer).setUint32(wrongCount.length - 32 + 4, 5, true);
    expect(() => decodeRedoBuffer(wrongCount)).toThrow(RedoFormatError);
  });
});

describe('compiled column-set codec', () => {
  it('produces exactly the bytes of the column-by-column codec, and decodes them back the same', async () => {
    const { ByteWriter, writeColumnSetGeneric, readColumnSetGeneric, compileColumnSetCodec } = await import('../src/redo/column-set.js');
    const codec = compileColumnSetCodec(COLUMNS);
    fc.assert(
      fc.property(rowArb, fc.subarray(['i', 'f', 'b', 's', 'y']), (full, keep) => {
        const row: Row = { id: full.id };
        for (const k of keep) row[k] = full[k as keyof typeof full] as Row[string];
        const a = new ByteWriter(16);
        const b = new ByteWriter(16);
        codec.encode(a, row);
        writeColumnSetGeneric(b, COLUMNS, row, null);
        const bytesA = a.buf.subarray(0, a.pos);
        expect(Buffer.compare(bytesA, b.buf.subarray(0, b.pos))).toBe(0);
        expect(normalize(codec.decode(Uint8Array.from(bytesA)).row)).toEqual(normalize(readColumnSetGeneric(Uint8Array.from(bytesA), COLUMNS).row));
        expect(codec.decode(Uint8Array.from(bytesA)).present).toEqual(readColumnSetGeneric(Uint8Array.from(bytesA), COLUMNS).present);
      }),
    );
  });
});
