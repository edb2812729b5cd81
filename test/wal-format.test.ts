// Pins the WAL frame layout (docs/file-formats.md, "WAL"): field offsets, CRC coverage, alignment,
// padding, segment naming. The reader's torn-vs-corruption rules are in wal-reader.test.ts.

import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FRAME_ALIGN_BYTES,
  FRAME_HEADER_BYTES,
  FrameType,
  SECTOR_BYTES,
  crc32Range,
  decodeFrameHeader,
  encodeFrame,
  encodeFrameInto,
  frameBytes,
  isValidSegmentBytes,
  parseSegmentFileName,
  segmentFileName,
  tornCopyFileName,
} from '../src/wal/wal-format.js';

const frameTypeArb = fc.constantFrom(FrameType.REDO, FrameType.SEGMENT_END, FrameType.CHECKPOINT_MARK);
const lsnArb = fc.maxSafeNat().map((n) => Math.floor(n / 8) * 8);

describe('wal-format constants', () => {
  it('has a 32-byte header, 8-byte alignment and 512-byte sectors', () => {
    expect(FRAME_HEADER_BYTES).toBe(32);
    expect(FRAME_ALIGN_BYTES).toBe(8);
    expect(SECTOR_BYTES).toBe(512);
    expect(FrameType).toEqual({ REDO: 1, SEGMENT_END: 2, CHECKPOINT_MARK: 3 });
  });

  it('frameBytes aligns header + payload up to 8, also for payloads near 4 GiB', () => {
    expect(frameBytes(0)).toBe(32);
    expect(frameBytes(1)).toBe(40);
    expect(frameBytes(8)).toBe(40);
    expect(frameBytes(9)).toBe(48);
    expect(frameBytes(0xffff_ffff - 32)).toBe(0x1_0000_0000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (n) => {
        const t = frameBytes(n);
        return t % 8 === 0 && t >= 32 + n && t < 32 + n + 8;
      }),
    );
  });

  it('accepts only whole-sector segment sizes', () => {
    expect(isValidSegmentBytes(512)).toBe(true);
    expect(isValidSegmentBytes(16 * 1024 * 1024)).toBe(true);
    expect(isValidSegmentBytes(1000)).toBe(false);
    expect(isValidSegmentBytes(256)).toBe(false);
    expect(isValidSegmentBytes(0)).toBe(false);
  });
});

describe('frame encoding', () => {
  it('round-trips type, lsn, syncedLsn and payload', () => {
    fc.assert(
      fc.property(frameTypeArb, lsnArb, fc.nat(), fc.uint8Array({ maxLength: 200 }), (type, lsn, syncedSeed, payload) => {
        const syncedLsn = lsn === 0 ? 0 : syncedSeed % (lsn + 1);
        const bytes = encodeFrame(type, lsn, syncedLsn, payload);
        expect(bytes.length).toBe(frameBytes(payload.length));
        const h = decodeFrameHeader(bytes, 0);
        expect(h).toEqual({ crc: h.crc, payloadLength: payload.length, type, version: 1, lsn, syncedLsn });
        expect(bytes.subarray(32, 32 + payload.length)).toEqual(payload);
        expect(h.crc).toBe(crc32(bytes.subarray(4, 32 + payload.length)));
      }),
    );
  });

  it('lays fields out little endian at the documented offsets', () => {
    const lsn = 0x0012_3456_789a_bcd8;
    const bytes = encodeFrame(FrameType.REDO, lsn, 0x10_0000_0008, new Uint8Array([0xaa, 0xbb, 0xcc]));
    const view = new DataView(bytes.buffer);
    expect(bytes.length).toBe(40);
    expect(view.getUint32(4, true)).toBe(3);
    expect(bytes[8]).toBe(1);
    expect(bytes[9]).toBe(1);
    expect(view.getUint16(10, true)).toBe(0);
    expect(view.getUint32(12, true)).toBe(0);
    expect(view.getUint32(16, true)).toBe(lsn % 2 ** 32);
    expect(view.getUint32(20, true)).toBe(Math.floor(lsn / 2 ** 32));
    expect(view.getUint32(24, true)).toBe(8);
    expect(view.getUint32(28, true)).toBe(0x10);
    expect([...bytes.subarray(32)]).toEqual([0xaa, 0xbb, 0xcc, 0, 0, 0, 0, 0]);
    expect(view.getUint32(0, true)).toBe(crc32(bytes.subarray(4, 35)));
  });

  it('encodeFrameInto writes at an offset, zeroes stale padding and touches nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat({ max: 64 }), (payload, pad) => {
        const offset = pad * 8;
        const total = frameBytes(payload.length);
        const target = new Uint8Array(offset + total + 16).fill(0xee);
        const written = encodeFrameInto(target, offset, FrameType.REDO, 64, 8, payload);
        expect(written).toBe(total);
        expect(target.subarray(offset, offset + total)).toEqual(encodeFrame(FrameType.REDO, 64, 8, payload));
        expect(target.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
        expect(target.subarray(offset + total).every((b) => b === 0xee)).toBe(true);
      }),
    );
  });

  it('a CRC covers the header from byte 4 and the payload, so any changed byte there changes it', () => {
    const frame = encodeFrame(FrameType.REDO, 4096, 4000, new Uint8Array([1, 2, 3, 4, 5]));
    const crc = decodeFrameHeader(frame, 0).crc;
    for (let i = 4; i < 32 + 5; i++) {
      const copy = frame.slice();
      copy[i]! ^= 0x40;
      expect(crc32(copy.subarray(4, 37))).not.toBe(crc);
    }
  });

  it('crc32Range computes zlib.crc32 for every length, short (JS) and long (native)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        return crc32Range(bytes, start, end) === crc32(bytes.subarray(start, end));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects programmer errors: unaligned LSN, syncedLsn past the frame, too small a buffer', () => {
    const p = new Uint8Array(4);
    expect(() => encodeFrame(FrameType.REDO, 12, 0, p)).toThrow(/aligned/);
    expect(() => encodeFrame(FrameType.REDO, 16, 24, p)).toThrow(/syncedLsn/);
    expect(() => encodeFrameInto(new Uint8Array(32), 0, FrameType.REDO, 0, 0, p)).toThrow(/fits/);
    expect(() => encodeFrame(7 as FrameType, 0, 0, p)).toThrow(/type/);
  });
});

describe('segment naming', () => {
  it('names a segment by its first LSN in 16 hex digits', () => {
    expect(segmentFileName(0x100_0000)).toBe('0000000001000000.wal');
    expect(segmentFileName(0)).toBe('0000000000000000.wal');
    expect(parseSegmentFileName('0000000001000000.wal')).toBe(0x100_0000);
  });

  it('round-trips every safe LSN', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (lsn) => parseSegmentFileName(segmentFileName(lsn)) === lsn));
  });

  it('returns undefined for foreign names', () => {
    for (const name of [
      'torn-0000000000001000.bin',
      '0000000001000000.wal.tmp',
      '000000001000000.wal',
      '0000000001000000.WAL',
      '000000000100000G.wal',
      'ffffffffffffffff.wal',
      '.0000000001000000.wal',
    ]) {
      expect(parseSegmentFileName(name), name).toBeUndefined();
    }
  });

  it('names torn-tail copies so they are never taken for segments', () => {
    expect(tornCopyFileName(0x2000)).toBe('torn-0000000000002000.bin');
    expect(tornCopyFileName(0x2000, 2)).toBe('torn-0000000000002000-2.bin');
    expect(parseSegmentFileName(tornCopyFileName(0x2000))).toBeUndefined();
  });
});
