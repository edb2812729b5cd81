// Pins the WAL reader's verdicts: every whole frame before a torn tail comes back, a torn tail
// (cut file, zero suffix, sector-torn write, stale data, a hole nobody built on) ends the log, and
// damage inside the durable log is corruption naming the file and offset. Logs are laid out here by
// a tiny model writer (not src/wal/wal-writer.ts: the reader must not depend on it) on a MemDisk.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MotError } from '../src/errors.js';
import { joinPath } from '../src/io/disk.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import {
  FRAME_HEADER_BYTES,
  FrameType,
  SECTOR_BYTES,
  encodeFrame,
  encodeFrameInto,
  frameBytes,
  segmentFileName,
  tornCopyFileName,
} from '../src/wal/wal-format.js';
import { readWal, truncateTornTail, type WalScan } from '../src/wal/wal-reader.js';

const WAL = 'wal';

// ---- The model writer ----

interface Placed {
  lsn: number;
  type: FrameType;
  payload: Uint8Array;
  syncedLsn: number;
}

interface Log {
  segmentBytes: number;
  frames: Placed[];
  /** Where the next frame would go. */
  endLsn: number;
  /** The logical bytes of every segment touched, zeros after the frames. */
  image: Uint8Array;
  /** Where the group (payloads from `groupFrom` on) starts; endLsn if there is none. */
  groupStartLsn: number;
}

/**
 * Lay out one REDO frame per payload the way the format requires (SEGMENT_END when a frame does not
 * fit and at least a header's room is left). Frames before `groupFrom` are each synced alone
 * (syncedLsn = own LSN); from `groupFrom` on they form one group written when the log was durable up
 * to the group's start (syncedLsn = that start), SEGMENT_END frames included.
 */
function layout(payloads: Uint8Array[], segmentBytes: number, groupFrom = Infinity, startLsn = 0): Log {
  const frames: Placed[] = [];
  let lsn = startLsn;
  let groupStart = -1;
  payloads.forEach((payload, i) => {
    if (i === groupFrom) groupStart = lsn;
    const synced = (at: number) => (groupStart >= 0 ? groupStart : at);
    const size = frameBytes(payload.length);
    const room = segmentBytes - (lsn % segmentBytes);
    if (size > room) {
      if (room >= FRAME_HEADER_BYTES) frames.push({ lsn, type: FrameType.SEGMENT_END, payload: new Uint8Array(0), syncedLsn: synced(lsn) });
      lsn += room;
    }
    frames.push({ lsn, type: FrameType.REDO, payload, syncedLsn: synced(lsn) });
    lsn += size;
  });
  const image = new Uint8Array(Math.max(1, Math.ceil(lsn / segmentBytes)) * segmentBytes);
  for (const f of frames) encodeFrameInto(image, f.lsn, f.type, f.lsn, f.syncedLsn, f.payload);
  return { segmentBytes, frames, endLsn: lsn, image, groupStartLsn: groupStart >= 0 ? groupStart : lsn };
}

/** Write the image as segment files, each preallocated to full size, the log cut at `cutLsn`. */
async function writeImage(disk: MemDisk, image: Uint8Array, segmentBytes: number, cutLsn = image.length, fromSegment = 0): Promise<void> {
  for (let first = fromSegment * segmentBytes; first < image.length && first <= cutLsn; first += segmentBytes) {
    const file = await disk.open(joinPath(WAL, segmentFileName(first)), { create: true });
    await file.truncate(0);
    await file.write(0, image.subarray(first, Math.min(first + segmentBytes, cutLsn)));
  }
}

async function diskWith(log: Log, image = log.image, cutLsn?: number): Promise<MemDisk> {
  const disk = new MemDisk();
  await writeImage(disk, image, log.segmentBytes, cutLsn);
  return disk;
}

/** What the reader must say when the log's bytes end (cut or zero-filled) at `cutLsn`. */
function expected(log: Log, image: Uint8Array, cutLsn: number) {
  const whole = (f: Placed) => f.lsn + FRAME_HEADER_BYTES + f.payload.length <= cutLsn;
  const firstBroken = log.frames.find((f) => !whole(f));
  const endLsn = firstBroken ? firstBroken.lsn : normalizedEnd(log);
  const torn = image.subarray(endLsn, Math.max(endLsn, cutLsn)).some((b) => b !== 0);
  return {
    frames: log.frames.filter((f) => f.type !== FrameType.SEGMENT_END && whole(f)),
    endLsn,
    kind: torn ? 'torn' : 'clean',
  };
}

/** The writer's end as the reader sees it: a remainder too small for a header is skipped. */
function normalizedEnd(log: Log): number {
  const room = log.segmentBytes - (log.endLsn % log.segmentBytes);
  return room < FRAME_HEADER_BYTES ? log.endLsn + room : log.endLsn;
}

function expectFrames(scan: WalScan, frames: Placed[], segmentBytes: number): void {
  expect(scan.frames.map((f) => f.lsn)).toEqual(frames.map((f) => f.lsn));
  scan.frames.forEach((f, i) => {
    const want = frames[i]!;
    expect(f.type).toBe(want.type);
    expect(f.syncedLsn).toBe(want.syncedLsn);
    expect(f.segment).toBe(segmentFileName(Math.floor(want.lsn / segmentBytes) * segmentBytes));
    expect(Buffer.from(f.payload).equals(Buffer.from(want.payload))).toBe(true);
  });
}

async function corruptionOf(p: Promise<unknown>): Promise<MotError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MotError);
    const err = e as MotError;
    expect(err.rc).toBe('RC_PANIC');
    expect(err.sqlstate).toBe('XX001');
    return err;
  }
  throw new Error('expected a corruption error, the log was read without one');
}

function fileAndOffset(lsn: number, segmentBytes: number): { file: string; offset: number } {
  const first = Math.floor(lsn / segmentBytes) * segmentBytes;
  return { file: joinPath(WAL, segmentFileName(first)), offset: lsn - first };
}

const SEG = 1024;
const payloadsArb = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 24 });
const nonZeroPayloadsArb = fc.array(fc.uint8Array({ minLength: 1, maxLength: 300, min: 1 }), { minLength: 2, maxLength: 24 });

// ---- Tests ----

describe('readWal: whole logs', () => {
  it('reads back every frame across segments (SEGMENT_END and skipped remainders), ending clean', async () => {
    await fc.assert(
      fc.asyncProperty(payloadsArb, async (payloads) => {
        const log = layout(payloads, SEG);
        const scan = await readWal(await diskWith(log), WAL, { segmentBytes: SEG });
        expectFrames(scan, log.frames.filter((f) => f.type === FrameType.REDO), SEG);
        expect(scan.end).toEqual({ kind: 'clean', endLsn: normalizedEnd(log) });
        expect(scan.segments.length).toBe(log.image.length / SEG);
      }),
    );
  });

  it('an empty or missing WAL directory is a clean end at fromLsn', async () => {
    const disk = new MemDisk();
    expect((await readWal(disk, WAL, { segmentBytes: SEG })).end).toEqual({ kind: 'clean', endLsn: 0 });
    await disk.mkdirp(WAL);
    expect((await readWal(disk, WAL, { segmentBytes: SEG, fromLsn: 4096 })).end).toEqual({ kind: 'clean', endLsn: 4096 });
  });

  it('a short last segment (not preallocated) ends clean at its last frame', async () => {
    const log = layout([new Uint8Array(10), new Uint8Array(20)], SEG);
    const disk = await diskWith(log, log.image, log.endLsn);
    const scan = await readWal(disk, WAL, { segmentBytes: SEG });
    expect(scan.frames.length).toBe(2);
    expect(scan.end).toEqual({ kind: 'clean', endLsn: log.endLsn });
  });

  it('a SEGMENT_END whose next segment is missing is a clean end at the segment boundary', async () => {
    const disk = new MemDisk();
    const seg0 = new Uint8Array(SEG);
    encodeFrameInto(seg0, 0, FrameType.REDO, 0, 0, new Uint8Array(100));
    encodeFrameInto(seg0, 136, FrameType.SEGMENT_END, 136, 136, new Uint8Array(0));
    await writeImage(disk, seg0, SEG);
    const scan = await readWal(disk, WAL, { segmentBytes: SEG });
    expect(scan.frames.map((f) => f.lsn)).toEqual([0]);
    expect(scan.end).toEqual({ kind: 'clean', endLsn: SEG });
  });

  it('the exact end of the last segment is a clean end', async () => {
    const log = layout([new Uint8Array(SEG - FRAME_HEADER_BYTES)], SEG);
    const scan = await readWal(await diskWith(log), WAL, { segmentBytes: SEG });
    expect(scan.frames.length).toBe(1);
    expect(scan.end).toEqual({ kind: 'clean', endLsn: SEG });
  });

  it('returns CHECKPOINT_MARK frames and ignores foreign files in the WAL directory', async () => {
    const disk = new MemDisk();
    const seg0 = new Uint8Array(SEG);
    const n = encodeFrameInto(seg0, 0, FrameType.CHECKPOINT_MARK, 0, 0, new Uint8Array([7]));
    await writeImage(disk, seg0, SEG);
    await (await disk.open(joinPath(WAL, 'torn-0000000000000000.bin'), { create: true })).write(0, new Uint8Array([1]));
    await (await disk.open(joinPath(WAL, 'notes.txt'), { create: true })).write(0, new Uint8Array([1]));
    const scan = await readWal(disk, WAL, { segmentBytes: SEG });
    expect(scan.frames.map((f) => [f.lsn, f.type])).toEqual([[0, FrameType.CHECKPOINT_MARK]]);
    expect(scan.end).toEqual({ kind: 'clean', endLsn: n });
    expect(scan.segments).toEqual([segmentFileName(0)]);
  });

  it('fromLsn skips earlier frames and never reads segments wholly before it (even damaged ones)', async () => {
    await fc.assert(
      fc.asyncProperty(payloadsArb, fc.nat(), async (payloads, pick) => {
        const log = layout(payloads, SEG);
        const redo = log.frames.filter((f) => f.type === FrameType.REDO);
        const from = redo[pick % redo.length]!.lsn;
        const image = log.image.slice();
        const firstRead = Math.floor(from / SEG) * SEG;
        image.fill(0xab, 0, firstRead); // garbage in segments before fromLsn's
        const scan = await readWal(await diskWith(log, image), WAL, { segmentBytes: SEG, fromLsn: from });
        expectFrames(scan, redo.filter((f) => f.lsn >= from), SEG);
        expect(scan.end).toEqual({ kind: 'clean', endLsn: normalizedEnd(log) });
        expect(scan.segments[0]).toBe(segmentFileName(firstRead));
      }),
    );
  });

  it('rejects a misaligned fromLsn and a segment size that is not whole sectors', async () => {
    const disk = new MemDisk();
    await expect(readWal(disk, WAL, { segmentBytes: SEG, fromLsn: 12 })).rejects.toThrow(/start LSN/);
    await expect(readWal(disk, WAL, { segmentBytes: 1000 })).rejects.toThrow(/segment size/);
  });
});

describe('readWal: torn tails', () => {
  it('a log cut at any byte returns exactly the whole frames before the cut, torn or clean, never corruption', async () => {
    await fc.assert(
      fc.asyncProperty(payloadsArb, fc.double({ min: 0, max: 1, noNaN: true }), async (payloads, where) => {
        const log = layout(payloads, SEG);
        const cut = Math.floor(where * log.endLsn);
        const scan = await readWal(await diskWith(log, log.image, cut), WAL, { segmentBytes: SEG });
        const want = expected(log, log.image, cut);
        expectFrames(scan, want.frames, SEG);
        expect(scan.end.kind).toBe(want.kind);
        expect(scan.end.endLsn).toBe(want.endLsn);
        const lastNonZero = log.image.subarray(0, cut).findLastIndex((b) => b !== 0) + 1;
        if (scan.end.kind === 'torn') expect(scan.end.tornBytes).toBe(lastNonZero - want.endLsn);
      }),
    );
  });

  it('a zero-filled suffix (from a sector or frame boundary) returns the frames before it, torn or clean', async () => {
    await fc.assert(
      fc.asyncProperty(payloadsArb, fc.nat(), fc.boolean(), async (payloads, pick, atFrame) => {
        const log = layout(payloads, SEG);
        const z = atFrame
          ? log.frames[pick % log.frames.length]!.lsn
          : (pick % Math.ceil(log.endLsn / SECTOR_BYTES + 1)) * SECTOR_BYTES;
        const image = log.image.slice();
        image.fill(0, z);
        const scan = await readWal(await diskWith(log, image), WAL, { segmentBytes: SEG });
        const want = expected(log, log.image, z);
        expectFrames(scan, want.frames, SEG);
        expect(scan.end.kind).toBe(want.kind);
        expect(scan.end.endLsn).toBe(want.endLsn);
      }),
    );
  });

  it('a sector-torn write (only the first k sectors of the last frame, or any proper subset) is torn', async () => {
    const segmentBytes = 8192;
    await fc.assert(
      fc.asyncProperty(
        nonZeroPayloadsArb,
        fc.uint8Array({ minLength: 600, maxLength: 3000, min: 1 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.boolean(),
        async (payloads, big, keepMask, prefixOnly) => {
          const full = layout([...payloads, big], segmentBytes);
          const last = full.frames[full.frames.length - 1]!;
          const dataEnd = last.lsn + FRAME_HEADER_BYTES + big.length;
          const image = full.image.slice();
          image.fill(0, last.lsn, dataEnd); // the last frame's write, before any of its sectors landed
          const sectors: number[] = [];
          for (let s = last.lsn - (last.lsn % SECTOR_BYTES); s < dataEnd; s += SECTOR_BYTES) sectors.push(s);
          const k = keepMask.filter(Boolean).length % sectors.length; // k < number of sectors
          const kept = prefixOnly ? sectors.slice(0, k) : sectors.filter((_, i) => keepMask[i % 8] && i !== k);
          for (const s of kept) image.set(full.image.subarray(s, s + SECTOR_BYTES), s);
          const scan = await readWal(await diskWith(full, image), WAL, { segmentBytes });
          expectFrames(scan, full.frames.filter((f) => f.type === FrameType.REDO && f !== last), segmentBytes);
          const nonZero = image.subarray(last.lsn).some((b) => b !== 0);
          expect(scan.end.kind).toBe(nonZero ? 'torn' : 'clean');
          expect(scan.end.endLsn).toBe(last.lsn);
        },
      ),
    );
  });

  it('a hole followed only by frames whose syncedLsn is at or before it is torn (nothing was built on it)', async () => {
    await fc.assert(
      fc.asyncProperty(payloadsArb, fc.nat(), fc.nat(), async (payloads, groupPick, holePick) => {
        const groupFrom = groupPick % payloads.length;
        const log = layout(payloads, SEG, groupFrom);
        const inGroup = log.frames.filter((f) => f.lsn >= log.groupStartLsn);
        const hole = inGroup[holePick % inGroup.length]!;
        const image = log.image.slice();
        image.fill(0, hole.lsn, hole.lsn + frameBytes(hole.payload.length));
        const scan = await readWal(await diskWith(log, image), WAL, { segmentBytes: SEG });
        expectFrames(scan, log.frames.filter((f) => f.type === FrameType.REDO && f.lsn < hole.lsn), SEG);
        const lastNonZero = image.findLastIndex((b) => b !== 0) + 1;
        if (lastNonZero > hole.lsn) {
          expect(scan.end).toMatchObject({ kind: 'torn', endLsn: hole.lsn, tornBytes: lastNonZero - hole.lsn });
        } else {
          expect(scan.end.kind).toBe('clean');
        }
      }),
    );
  });

  it('a stale frame (valid CRC, wrong LSN) after the last frame is a torn end', async () => {
    const log = layout([new Uint8Array([1, 2, 3])], SEG);
    const image = log.image.slice();
    image.set(encodeFrame(FrameType.REDO, 7 * SEG, 7 * SEG, new Uint8Array([9, 9])), log.endLsn);
    const scan = await readWal(await diskWith(log, image), WAL, { segmentBytes: SEG });
    expect(scan.frames.length).toBe(1);
    expect(scan.end).toMatchObject({ kind: 'torn', endLsn: log.endLsn, reason: expect.stringMatching(/stale/) });
  });

  it('a frame whose length runs past the segment end, over zero sectors, is torn', async () => {
    const log = layout([new Uint8Array([1, 2, 3])], SEG);
    const image = log.image.slice();
    const bogus = encodeFrame(FrameType.REDO, log.endLsn, 0, new Uint8Array(8).fill(1));
    new DataView(bogus.buffer).setUint32(4, 5000, true);
    image.set(bogus, log.endLsn);
    const scan = await readWal(await diskWith(log, image), WAL, { segmentBytes: SEG });
    expect(scan.end).toMatchObject({ kind: 'torn', endLsn: log.endLsn, tornBytes: bogus.length });
  });
});

describe('readWal: corruption', () => {
  it('a flipped byte in an earlier complete frame, with later frames synced past it, is corruption naming file and offset', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 2, maxLength: 24 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (payloads, framePick, bytePick, mask) => {
          const log = layout(payloads, SEG);
          const victim = log.frames[framePick % (log.frames.length - 1)]!; // not the last frame
          const covered = FRAME_HEADER_BYTES + victim.payload.length;
          const image = log.image.slice();
          image[victim.lsn + (bytePick % covered)]! ^= mask;
          const err = await corruptionOf(readWal(await diskWith(log, image), WAL, { segmentBytes: SEG }));
          const { file, offset } = fileAndOffset(victim.lsn, SEG);
          expect(err.message).toContain(`"${file}" at offset ${offset}:`);
        },
      ),
    );
  });

  it('a flipped byte anywhere is never returned as different data', async () => {
    await fc.assert(
      fc.asyncProperty(payloadsArb, fc.nat(), fc.integer({ min: 1, max: 255 }), async (payloads, pos, mask) => {
        const log = layout(payloads, SEG);
        const image = log.image.slice();
        image[pos % image.length]! ^= mask;
        let scan: WalScan;
        try {
          scan = await readWal(await diskWith(log, image), WAL, { segmentBytes: SEG });
        } catch (e) {
          expect((e as MotError).rc).toBe('RC_PANIC');
          return;
        }
        const redo = log.frames.filter((f) => f.type === FrameType.REDO);
        expectFrames(scan, redo.slice(0, scan.frames.length), SEG);
      }),
    );
  });

  it('a damaged frame whose every sector holds data is corruption even at the tail (sectors are atomic)', async () => {
    const log = layout([new Uint8Array(40).fill(5), new Uint8Array(40).fill(6)], SEG);
    const image = log.image.slice();
    const last = log.frames[1]!;
    image.fill(0, last.lsn + 50); // zeros from the middle of a sector: no whole piece of the frame is zero
    const err = await corruptionOf(readWal(await diskWith(log, image), WAL, { segmentBytes: SEG }));
    expect(err.message).toContain(`offset ${last.lsn}:`);
    expect(err.message).toMatch(/CRC mismatch/);
  });

  it('a damaged last frame of a file cut inside its padding is corruption; an intact one is read (crash-test seed 104322)', async () => {
    // 37 payload bytes: 32 + 37 = 69 bytes of data, padded to 72. A torn write ends at a sector
    // boundary (8-byte aligned), never inside padding; a file system or copy cutting there keeps
    // every byte the CRC covers, so a CRC mismatch is damage (before the fix: taken for a torn tail).
    const log = layout([new Uint8Array(40).fill(5), new Uint8Array(37).fill(6)], SEG);
    const last = log.frames[1]!;
    const dataEnd = last.lsn + FRAME_HEADER_BYTES + last.payload.length;
    expect(frameBytes(last.payload.length)).toBeGreaterThan(FRAME_HEADER_BYTES + last.payload.length);
    const intact = await readWal(await diskWith(log, log.image, dataEnd), WAL, { segmentBytes: SEG });
    expectFrames(intact, log.frames, SEG);
    const image = log.image.slice();
    image[last.lsn + FRAME_HEADER_BYTES + 3]! ^= 0x04;
    const err = await corruptionOf(readWal(await diskWith(log, image, dataEnd), WAL, { segmentBytes: SEG }));
    expect(err.message).toContain(`offset ${last.lsn}:`);
    expect(err.message).toMatch(/CRC mismatch/);
  });

  it('a hole followed by a frame written after the hole was durable is corruption at the hole', async () => {
    const log = layout([new Uint8Array(30), new Uint8Array(700), new Uint8Array(30), new Uint8Array(30)], SEG);
    const hole = log.frames[1]!;
    const image = log.image.slice();
    image.fill(0, hole.lsn, hole.lsn + frameBytes(hole.payload.length)); // a lost sector run, like a zeroed block
    const err = await corruptionOf(readWal(await diskWith(log, image), WAL, { segmentBytes: SEG }));
    const { file, offset } = fileAndOffset(hole.lsn, SEG);
    expect(err.message).toContain(`"${file}" at offset ${offset}:`);
    expect(err.message).toMatch(/durable/);
  });

  it('a stale frame in the middle, with later frames synced past it, is corruption', async () => {
    const log = layout([new Uint8Array(30), new Uint8Array(30), new Uint8Array(30)], SEG);
    const image = log.image.slice();
    const victim = log.frames[1]!;
    encodeFrameInto(image, victim.lsn, FrameType.REDO, victim.lsn + 8 * SEG, 0, victim.payload);
    await corruptionOf(readWal(await diskWith(log, image), WAL, { segmentBytes: SEG }));
  });

  it('a gap in segment numbering is corruption naming the missing file', async () => {
    const log = layout(Array.from({ length: 12 }, () => new Uint8Array(200)), SEG);
    expect(log.image.length).toBeGreaterThanOrEqual(3 * SEG);
    const disk = await diskWith(log);
    await disk.remove(joinPath(WAL, segmentFileName(SEG)));
    const err = await corruptionOf(readWal(disk, WAL, { segmentBytes: SEG }));
    expect(err.message).toContain(`"${joinPath(WAL, segmentFileName(SEG))}"`);
    expect(err.message).toMatch(/missing/);
  });

  it('a frame with a valid CRC but an unknown version or type is corruption, not a torn tail', async () => {
    for (const [at, value] of [
      [9, 2],
      [8, 9],
    ] as const) {
      const image = new Uint8Array(SEG);
      const frame = encodeFrame(FrameType.REDO, 0, 0, new Uint8Array([1]));
      frame[at] = value;
      const { crc32 } = await import('node:zlib');
      new DataView(frame.buffer).setUint32(0, crc32(frame.subarray(4, 33)), true);
      image.set(frame, 0);
      const disk = new MemDisk();
      await writeImage(disk, image, SEG);
      const err = await corruptionOf(readWal(disk, WAL, { segmentBytes: SEG }));
      expect(err.message).toMatch(at === 9 ? /version 2/ : /unknown type 9/);
    }
  });

  it('a segment file longer than the segment size is reported (written with another segment size?)', async () => {
    const disk = new MemDisk();
    await writeImage(disk, layout([new Uint8Array(10)], 2 * SEG).image, 2 * SEG);
    const err = await corruptionOf(readWal(disk, WAL, { segmentBytes: SEG }));
    expect(err.message).toMatch(/another segment size/);
  });
});

describe('defect 9: a log that ends before a position known durable is damage, not a torn tail', () => {
  // Three segments' worth of frames, each synced alone; a witness says the log was durable to its end.
  const payloads = Array.from({ length: 12 }, (_, i) => new Uint8Array(200).fill(i + 1));

  it('defect 9: a deleted last segment, a zeroed last segment and a cut inside the written log are corruption naming file and offset once a witness covers them', async () => {
    const log = layout(payloads, SEG);
    const lastFirst = Math.floor((log.endLsn - 1) / SEG) * SEG;
    const known = { lsn: log.endLsn, source: 'a test witness' };
    const damages: [string, (disk: MemDisk) => Promise<void>, number][] = [
      ['deleted', (disk) => disk.remove(joinPath(WAL, segmentFileName(lastFirst))), lastFirst],
      ['zeroed', async (disk) => {
        const f = await disk.open(joinPath(WAL, segmentFileName(lastFirst)));
        await f.write(0, new Uint8Array(SEG));
      }, lastFirst],
      ['cut', async (disk) => {
        const f = await disk.open(joinPath(WAL, segmentFileName(lastFirst)));
        await f.truncate(100);
      }, log.frames.filter((f) => f.lsn >= lastFirst)[0]!.lsn],
    ];
    for (const [what, damage, endLsn] of damages) {
      const disk = await diskWith(log);
      await damage(disk);
      // Without knowledge, it reads as a shorter log (a torn or clean end): nothing tells it apart.
      const blind = await readWal(disk, WAL, { segmentBytes: SEG });
      expect(blind.end.endLsn, what).toBe(endLsn);
      const err = await corruptionOf(readWal(disk, WAL, { segmentBytes: SEG, durableAtLeast: known }));
      const at = fileAndOffset(endLsn, SEG);
      expect(err.message, what).toContain(`corrupt data in "${at.file}" at offset ${at.offset}`);
      expect(err.message, what).toMatch(/durable up to LSN \d+ at least \(a test witness\)/);
      if (what === 'deleted') expect(err.message).toContain('this segment file is missing');
      // A witness at or below the end accepts it.
      expect((await readWal(disk, WAL, { segmentBytes: SEG, durableAtLeast: { lsn: endLsn, source: 'w' } })).end.endLsn).toBe(endLsn);
    }
  });

  it('defect 9: a preallocated segment shorter than the segment size is corruption, whatever its bytes', async () => {
    const log = layout(payloads.slice(0, 3), SEG); // one segment, its tail zeros
    const disk = await diskWith(log);
    const f = await disk.open(joinPath(WAL, segmentFileName(0)));
    await f.truncate(SEG - 256); // only zeros are cut: the bytes cannot tell
    expect((await readWal(disk, WAL, { segmentBytes: SEG })).end).toEqual({ kind: 'clean', endLsn: log.endLsn });
    const err = await corruptionOf(readWal(disk, WAL, { segmentBytes: SEG, preallocated: true }));
    expect(err.message).toContain(`corrupt data in "${joinPath(WAL, segmentFileName(0))}" at offset ${SEG - 256}`);
    expect(err.message).toMatch(/shorter than the segment size .* preallocated/);
  });
});

describe('truncateTornTail', () => {
  it('keeps a copy of the bytes cut, zero-fills the segment, removes later segments; the log then reads clean', async () => {
    await fc.assert(
      fc.asyncProperty(payloadsArb, fc.nat(), async (payloads, holePick) => {
        const log = layout(payloads, SEG, 0); // one group: a hole anywhere is a torn tail
        const hole = log.frames[holePick % log.frames.length]!;
        const image = log.image.slice();
        image.fill(0, hole.lsn, hole.lsn + FRAME_HEADER_BYTES);
        const disk = await diskWith(log, image);
        const scan = await readWal(disk, WAL, { segmentBytes: SEG });
        if (scan.end.kind !== 'torn') {
          expect(await truncateTornTail(disk, WAL, scan.end, SEG)).toBe(0);
          return;
        }
        const cut = await truncateTornTail(disk, WAL, scan.end, SEG);
        expect(cut).toBe(scan.end.tornBytes);
        const copy = await disk.readFile(joinPath(WAL, tornCopyFileName(hole.lsn)));
        expect(Buffer.from(copy).equals(Buffer.from(image.subarray(hole.lsn, hole.lsn + cut)))).toBe(true);
        const again = await readWal(disk, WAL, { segmentBytes: SEG });
        expect(again.end).toEqual({ kind: 'clean', endLsn: hole.lsn });
        expect(again.frames.map((f) => f.lsn)).toEqual(scan.frames.map((f) => f.lsn));
        const lastSegment = Math.floor(hole.lsn / SEG) * SEG;
        expect(again.segments.at(-1)).toBe(segmentFileName(lastSegment));
        expect((await disk.readFile(joinPath(WAL, segmentFileName(lastSegment)))).length).toBe(SEG);
      }),
    );
  });

  it('never overwrites an earlier copy at the same LSN', async () => {
    const log = layout([new Uint8Array(10).fill(1), new Uint8Array(10).fill(2)], SEG, 0);
    const second = log.frames[1]!;
    const tear = async () => {
      const image = log.image.slice();
      image.fill(0, second.lsn, second.lsn + FRAME_HEADER_BYTES);
      return diskImage(image);
    };
    const diskImage = async (image: Uint8Array) => {
      await writeImage(disk, image, SEG);
      return readWal(disk, WAL, { segmentBytes: SEG });
    };
    const disk = new MemDisk();
    const first = await tear();
    expect(await truncateTornTail(disk, WAL, first.end, SEG)).toBeGreaterThan(0);
    const again = await tear();
    expect(await truncateTornTail(disk, WAL, again.end, SEG)).toBeGreaterThan(0);
    expect(disk.paths()).toContain(joinPath(WAL, tornCopyFileName(second.lsn)));
    expect(disk.paths()).toContain(joinPath(WAL, tornCopyFileName(second.lsn, 1)));
  });

  it('does nothing for a clean end', async () => {
    const log = layout([new Uint8Array(10)], SEG);
    const disk = await diskWith(log);
    const before = disk.paths();
    expect(await truncateTornTail(disk, WAL, { kind: 'clean', endLsn: log.endLsn }, SEG)).toBe(0);
    expect(disk.paths()).toEqual(before);
  });
});

describe('readWal: speed', () => {
  it('reads 500,000 small frames back exactly (speed: bench/recovery)', async () => {
    const segmentBytes = 16 * 1024 * 1024;
    const frameCount = 500_000;
    const payload = new Uint8Array(40).fill(3);
    const disk = new MemDisk();
    const seg = new Uint8Array(segmentBytes);
    const flush = async (first: number) => {
      const file = await disk.open(joinPath(WAL, segmentFileName(first)), { create: true });
      await file.write(0, seg);
      seg.fill(0);
    };
    let lsn = 0;
    for (let i = 0; i < frameCount; i++) {
      if (lsn % segmentBytes > segmentBytes - 128) {
        const first = lsn - (lsn % segmentBytes);
        encodeFrameInto(seg, lsn - first, FrameType.SEGMENT_END, lsn, lsn, new Uint8Array(0));
        await flush(first);
        lsn = first + segmentBytes;
      }
      lsn += encodeFrameInto(seg, lsn % segmentBytes, FrameType.REDO, lsn, lsn, payload);
    }
    await flush(lsn - (lsn % segmentBytes));
    // CPU time, best of three: other processes share the machine; the bound is on our work.
    let bestPerSecond = 0;
    for (let run = 0; run < 3; run++) {
      const cpu0 = process.cpuUsage();
      const scan = await readWal(disk, WAL, { segmentBytes });
      let checksum = 0;
      for (const f of scan.frames) checksum += f.payload[0]!;
      const cpu = process.cpuUsage(cpu0);
      expect(scan.frames.length).toBe(frameCount);
      expect(checksum).toBe(3 * frameCount);
      expect(scan.end).toEqual({ kind: 'clean', endLsn: lsn });
      bestPerSecond = Math.max(bestPerSecond, frameCount / ((cpu.user + cpu.system) / 1e6));
    }
    console.log(`readWal: ${Math.round(bestPerSecond).toLocaleString('en')} frames/s of CPU time (40-byte payloads, payload read)`);
  });
});

describe('MemDisk', () => {
  it('lists sorted child names of implicit directories and reports ENOENT for missing ones', async () => {
    const disk = new MemDisk();
    await (await disk.open('a/b/2', { create: true })).write(0, new Uint8Array([1]));
    await (await disk.open('a/b/1', { create: true })).write(4, new Uint8Array([2]));
    await (await disk.open('a/c', { create: true })).write(0, new Uint8Array(0));
    expect(await disk.list('a')).toEqual(['b', 'c']);
    expect(await disk.list('a/b')).toEqual(['1', '2']);
    expect([...(await disk.readFile('a/b/1'))]).toEqual([0, 0, 0, 0, 2]);
    await expect(disk.list('nope')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(disk.open('a/zz')).rejects.toMatchObject({ code: 'ENOENT' });
    await disk.remove('a/b');
    expect(await disk.list('a')).toEqual(['c']);
    const f = await disk.open('a/c');
    await f.write(0, new Uint8Array([1, 2, 3]));
    await f.truncate(1);
    await f.truncate(3);
    expect([...(await f.read(0, 10))]).toEqual([1, 0, 0]);
  });
});
