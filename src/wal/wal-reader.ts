// Reads the WAL back for recovery and decides where it ends, telling a torn tail (the writer died
// mid-append: truncate it) from corruption (damage inside the durable log: throw, never skip). A byte
// that failed its CRC is never returned. Depends on the format only, never on the writer.
//
// Rules at the first position X (an LSN) where no valid frame starts (docs/file-formats.md, "WAL"):
//   1. all-zero header: end candidate;
//   2. impossible length or CRC mismatch: torn if the file ends inside the frame or the frame's part
//      of some 512-byte sector is all zeros (that sector never reached the disk), else corruption;
//   3. valid CRC but lsn field != X: stale data from an older incarnation, torn;
//   4. from X on, a frame that validates and whose syncedLsn > X proves the log was durable past X:
//      the hole is damage, corruption at X. Otherwise the end stands ('clean' if only zeros follow).

import type { Disk } from '../io/disk.js';
import { joinPath, writeFileAtomic } from '../io/disk.js';
import { Errors } from '../errors.js';
import {
  FRAME_ALIGN_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_VERSION,
  FrameOffset,
  FrameType,
  SECTOR_BYTES,
  frameBytes,
  frameCrc,
  isValidSegmentBytes,
  parseSegmentFileName,
  segmentFileName,
  tornCopyFileName,
} from './wal-format.js';

export interface WalFrame {
  readonly lsn: number;
  /** REDO or CHECKPOINT_MARK; SEGMENT_END frames are consumed by the reader. */
  readonly type: FrameType;
  /** A view (not a copy) into the segment buffer read from disk, made on access: do not mutate. */
  readonly payload: Uint8Array;
  readonly syncedLsn: number;
  /** Name (not path) of the segment file holding the frame. */
  readonly segment: string;
}

export type WalEnd =
  /** Only zeros from a frame boundary on, or the exact end of the last segment. */
  | { kind: 'clean'; endLsn: number }
  /** The writer died mid-append: recovery truncates here (truncateTornTail). */
  | { kind: 'torn'; endLsn: number; tornBytes: number; reason: string };

export interface WalScan {
  /**
   * Every valid frame from fromLsn to the end, in LSN order. An array, not an iterator: the whole
   * log after the checkpoint is validated (rule 4 included) before the caller replays anything, so
   * corruption is reported before a single record is applied. Memory: the segments read.
   */
  frames: WalFrame[];
  end: WalEnd;
  /** Names of the segment files from fromLsn's segment to the last one present, in LSN order. */
  segments: string[];
}

export interface ReadWalOptions {
  segmentBytes: number;
  /** Start here (a frame boundary, e.g. a checkpoint's LSN); segments wholly before it are not read. */
  fromLsn?: number;
  /**
   * Segments are preallocated (the directory says so): each is created full size, atomically, so a
   * segment file shorter than segmentBytes was cut: corruption.
   */
  preallocated?: boolean;
  /**
   * An LSN the log is known to have been durable up to (the control file's lastReplayLsn, the WAL
   * witness file), and where that knowledge comes from: a log ending before it lost durable bytes,
   * which is corruption, not a torn tail.
   */
  durableAtLeast?: { lsn: number; source: string };
}

/**
 * A frame whose payload view is made when asked for: a typed-array view costs far more than this
 * object, and recovery holds every frame of the log until it has been validated to the end.
 */
class LazyFrame implements WalFrame {
  constructor(
    readonly lsn: number,
    readonly type: FrameType,
    readonly syncedLsn: number,
    readonly segment: string,
    private readonly bytes: Uint8Array,
    private readonly payloadOffset: number,
    private readonly payloadLength: number,
  ) {}

  get payload(): Uint8Array {
    return this.bytes.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }
}

interface Segment {
  name: string;
  path: string;
  index: number;
  firstLsn: number;
}

/** A segment's bytes as read; bytes past the end of a short file read as zeros. */
interface LoadedSegment extends Segment {
  bytes: Uint8Array;
  view: DataView;
}

type Step = { kind: 'next'; lsn: number } | { kind: 'end'; lsn: number; torn: boolean; reason: string };

const TWO_POW_32 = 0x1_0000_0000;
/** Read size for a segment file (a whole segment is one read unless the device returns less). */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** Bound on `torn-<lsn>-<n>.bin` copies kept for one LSN. */
const TORN_COPIES_PER_LSN_MAX = 1000;

/**
 * Read and validate the log in `walDir` from `fromLsn` on. Throws `Errors.corruption(file, offset,
 * reason)` for damage inside the durable log; I/O errors from the Disk propagate unchanged.
 */
export async function readWal(disk: Disk, walDir: string, options: ReadWalOptions): Promise<WalScan> {
  const { segmentBytes } = options;
  const fromLsn = options.fromLsn ?? 0;
  checkOptions(segmentBytes, fromLsn);
  const segments = await listSegments(disk, walDir, segmentBytes, fromLsn);
  const names = segments.map((s) => s.name);
  const frames: WalFrame[] = [];
  const preallocated = options.preallocated === true;
  let lsn = fromLsn;
  for (let i = 0; i < segments.length; i++) {
    const segment = await loadSegment(disk, segments[i]!, segmentBytes, preallocated);
    const step = parseSegment(segment, lsn, segmentBytes, frames);
    if (step.kind === 'next') {
      lsn = step.lsn;
      continue;
    }
    const end = await decideEnd(disk, segments, i, segment, step, segmentBytes, preallocated);
    return checkDurableEnd({ frames, end, segments: names }, walDir, options);
  }
  return checkDurableEnd({ frames, end: { kind: 'clean', endLsn: lsn }, segments: names }, walDir, options);
}

/**
 * A log that ends before an LSN known to have been durable lost durable bytes: its last segment was
 * deleted, zeroed or cut, whatever the bytes at the end look like. Corruption naming the segment file
 * (missing or not) and the offset where the log now ends.
 */
function checkDurableEnd(scan: WalScan, walDir: string, options: ReadWalOptions): WalScan {
  const known = options.durableAtLeast;
  const endLsn = scan.end.endLsn;
  if (known === undefined || endLsn >= known.lsn) return scan;
  const seg = options.segmentBytes;
  const index = Math.floor(endLsn / seg);
  const name = segmentFileName(index * seg);
  const present = scan.segments.includes(name);
  const how = scan.end.kind === 'torn' ? `a torn-looking end (${scan.end.reason})` : 'a clean-looking end';
  throw Errors.corruption(
    joinPath(walDir, name),
    endLsn - index * seg,
    `the log ends at LSN ${endLsn} with ${how}${present ? '' : ' (this segment file is missing)'}, but it was durable up to LSN ${known.lsn} at least ` +
      `(${known.source}): the end of the WAL was lost or cut (a deleted, zeroed or shortened segment), not torn by a crash`,
  );
}

/**
 * Repair a torn tail: keep a copy of the bytes cut (endLsn up to the last non-zero byte) in
 * `torn-<16 hex endLsn>.bin`, zero-fill from endLsn to the end of its segment, remove the later
 * segment files (last first, so a crash never leaves a gap). Returns the number of bytes cut.
 */
export async function truncateTornTail(disk: Disk, walDir: string, end: WalEnd, segmentBytes: number): Promise<number> {
  if (end.kind !== 'torn' || end.tornBytes === 0) return 0;
  checkOptions(segmentBytes, end.endLsn);
  const cutStartLsn = end.endLsn;
  const cut = await readLogRange(disk, walDir, cutStartLsn, cutStartLsn + end.tornBytes, segmentBytes);
  await writeFileAtomic(disk, await freeTornCopyPath(disk, walDir, cutStartLsn), cut);
  const index = Math.floor(cutStartLsn / segmentBytes);
  const path = joinPath(walDir, segmentFileName(index * segmentBytes));
  if (await disk.exists(path)) await zeroFill(disk, path, cutStartLsn - index * segmentBytes, segmentBytes);
  await removeSegmentsAfter(disk, walDir, index, segmentBytes);
  return end.tornBytes;
}

// ---- Listing and loading segments ----

function checkOptions(segmentBytes: number, fromLsn: number): void {
  if (!isValidSegmentBytes(segmentBytes)) {
    throw Errors.invalidArgument('WAL segment size', `${segmentBytes} bytes is not a multiple of ${SECTOR_BYTES} between the format's limits`);
  }
  if (!Number.isSafeInteger(fromLsn) || fromLsn < 0 || fromLsn % FRAME_ALIGN_BYTES !== 0) {
    throw Errors.invalidArgument('WAL start LSN', `${fromLsn} is not a frame boundary (a non-negative multiple of ${FRAME_ALIGN_BYTES})`);
  }
}

/** Segment files from fromLsn's segment on, in order; a gap in their numbering is corruption. */
async function listSegments(disk: Disk, walDir: string, segmentBytes: number, fromLsn: number): Promise<Segment[]> {
  let names: string[];
  try {
    names = await disk.list(walDir);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return [];
    throw e;
  }
  const firstIndex = Math.floor(fromLsn / segmentBytes);
  const segments: Segment[] = [];
  for (const name of names) {
    const firstLsn = parseSegmentFileName(name);
    if (firstLsn === undefined) continue;
    const path = joinPath(walDir, name);
    if (firstLsn % segmentBytes !== 0) {
      throw Errors.corruption(path, 0, `segment name is not a multiple of the segment size ${segmentBytes}: was the log written with another segment size?`);
    }
    if (firstLsn / segmentBytes >= firstIndex) segments.push({ name, path, index: firstLsn / segmentBytes, firstLsn });
  }
  segments.sort((a, b) => a.index - b.index);
  segments.forEach((s, k) => {
    if (s.index !== firstIndex + k) {
      const missing = segmentFileName((firstIndex + k) * segmentBytes);
      throw Errors.corruption(joinPath(walDir, missing), 0, `segment file is missing while the later segment ${s.name} exists`);
    }
  });
  return segments;
}

async function loadSegment(disk: Disk, segment: Segment, segmentBytes: number, preallocated = false): Promise<LoadedSegment> {
  const file = await disk.open(segment.path);
  try {
    const size = await file.size();
    if (size > segmentBytes) {
      throw Errors.corruption(segment.path, segmentBytes, `the file is ${size} bytes, longer than the segment size ${segmentBytes}: was the log written with another segment size?`);
    }
    if (preallocated && size < segmentBytes) {
      throw Errors.corruption(
        segment.path,
        size,
        `the segment is ${size} bytes, shorter than the segment size ${segmentBytes}, in a log whose segments are preallocated (created full size, atomically): it was cut`,
      );
    }
    let bytes = size === 0 ? new Uint8Array(0) : await file.read(0, size);
    if (bytes.length < size) bytes = await readRest(file, bytes, size);
    return { ...segment, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  } finally {
    await file.close();
  }
}

/** Slow path for a device that returned less than asked: read the rest in chunks, stop at EOF. */
async function readRest(file: { read(o: number, l: number): Promise<Uint8Array> }, head: Uint8Array, size: number): Promise<Uint8Array> {
  const all = new Uint8Array(size);
  all.set(head);
  let got = head.length;
  while (got < size) {
    const piece = await file.read(got, Math.min(READ_CHUNK_BYTES, size - got));
    if (piece.length === 0) break;
    all.set(piece, got);
    got += piece.length;
  }
  return got === size ? all : all.subarray(0, got);
}

// ---- Parsing one segment (the hot loop: no allocation per frame but the payload view) ----

function parseSegment(seg: LoadedSegment, startLsn: number, segmentBytes: number, out: WalFrame[]): Step {
  const { bytes, view, firstLsn } = seg;
  const fileBytes = bytes.length;
  const segmentEndLsn = firstLsn + segmentBytes;
  // Bounded: every iteration either returns or advances `off` by at least FRAME_HEADER_BYTES.
  for (let off = startLsn - firstLsn; ; ) {
    const lsn = firstLsn + off;
    if (segmentBytes - off < FRAME_HEADER_BYTES) return { kind: 'next', lsn: segmentEndLsn };
    if (fileBytes - off < FRAME_HEADER_BYTES) return shortFileEnd(seg, off);
    if (isZeroHeader(view, off)) return { kind: 'end', lsn, torn: false, reason: `zero header at LSN ${lsn}` };
    const payloadLength = view.getUint32(off + FrameOffset.PAYLOAD_LENGTH, true);
    const total = frameBytes(payloadLength);
    if (total > segmentBytes - off) {
      return damagedFrame(seg, off, segmentBytes, `payload length ${payloadLength} runs past the segment end`, segmentBytes);
    }
    const dataEnd = off + FRAME_HEADER_BYTES + payloadLength;
    if (dataEnd > fileBytes) {
      if (lengthFieldDamaged(seg, off, segmentBytes)) throw damagedLength(seg, off, 'the file ends inside the frame');
      return { kind: 'end', lsn, torn: true, reason: `the file ends inside the frame at LSN ${lsn}` };
    }
    if (frameCrc(bytes, off, payloadLength) !== view.getUint32(off + FrameOffset.CRC, true)) {
      // Up to the end of its data, not its padding: a torn write ends at a sector boundary, which is
      // 8-byte aligned, so it never ends inside padding; a file cut there holds every byte the CRC
      // covers, and a mismatch with every sector holding data is damage (found by crash-test seed 104322).
      return damagedFrame(seg, off, dataEnd, 'CRC mismatch', segmentBytes);
    }
    const lsnField = readU64(view, off + FrameOffset.LSN);
    if (lsnField !== lsn) {
      return { kind: 'end', lsn, torn: true, reason: `stale frame at LSN ${lsn} (its lsn field says ${lsnField})` };
    }
    const type = checkTypeAndVersion(seg, off);
    if (type === FrameType.SEGMENT_END) return { kind: 'next', lsn: segmentEndLsn };
    out.push(new LazyFrame(lsn, type, readU64(view, off + FrameOffset.SYNCED_LSN), seg.name, bytes, off + FRAME_HEADER_BYTES, payloadLength));
    off += total;
  }
}

/** The file ends less than a header past `off`: missing bytes read as zeros (rule 1) unless some are not. */
function shortFileEnd(seg: LoadedSegment, off: number): Step {
  const lsn = seg.firstLsn + off;
  if (lastNonZeroEnd(seg.bytes, off) === off) return { kind: 'end', lsn, torn: false, reason: `the file ends at LSN ${lsn}` };
  return { kind: 'end', lsn, torn: true, reason: `the file ends inside the header of the frame at LSN ${lsn}` };
}

/**
 * Rule 2: a frame at `off` fails validation. Torn if the file ends inside [off, regionEnd) or the
 * frame's part of some sector is all zeros (that sector never reached the disk); else corruption.
 */
function damagedFrame(seg: LoadedSegment, off: number, regionEnd: number, what: string, segmentBytes: number): Step {
  const lsn = seg.firstLsn + off;
  // The verdicts below trust the length field; a damaged one can fake either sign of a torn write.
  if (lengthFieldDamaged(seg, off, segmentBytes)) throw damagedLength(seg, off, what);
  if (regionEnd > seg.bytes.length) {
    return { kind: 'end', lsn, torn: true, reason: `${what} at LSN ${lsn} and the file ends inside the frame` };
  }
  for (let sector = off - (off % SECTOR_BYTES); sector < regionEnd; sector += SECTOR_BYTES) {
    const pieceStart = Math.max(off, sector);
    const pieceEnd = Math.min(regionEnd, sector + SECTOR_BYTES);
    if (lastNonZeroEnd(seg.bytes, pieceStart, pieceEnd) === pieceStart) {
      return {
        kind: 'end',
        lsn,
        torn: true,
        reason: `${what} at LSN ${lsn} and its bytes ${pieceStart}..${pieceEnd} of sector ${sector / SECTOR_BYTES} are all zeros (torn write)`,
      };
    }
  }
  throw Errors.corruption(seg.path, off, `${what} in the frame at LSN ${lsn}, though every sector it covers holds data`);
}

/**
 * Whether the length field of the frame at `off` is damaged, so that a whole frame only looks cut off
 * (by the end of the file, the segment, or zeros past the log). Proof either way: a frame that
 * validates in place starts inside the extent the length claims (a torn write never moves later
 * frames), or the CRC validates with one bit of the length corrected (a single flipped bit).
 */
function lengthFieldDamaged(seg: LoadedSegment, off: number, segmentBytes: number): boolean {
  const { bytes, view } = seg;
  const claimed = view.getUint32(off + FrameOffset.PAYLOAD_LENGTH, true);
  const claimedEnd = Math.min(off + FRAME_HEADER_BYTES + claimed, bytes.length, segmentBytes);
  // Bounded by the claimed extent / 8 positions.
  for (let p = off + FRAME_ALIGN_BYTES; p + FRAME_HEADER_BYTES <= claimedEnd; p += FRAME_ALIGN_BYTES) {
    if (validatesInPlace(seg, p, segmentBytes)) return true;
  }
  const crc = view.getUint32(off + FrameOffset.CRC, true);
  let damaged = false;
  // 32 candidates, each one CRC of at most the rest of the segment; the field is restored after each.
  for (let bit = 0; bit < 32 && !damaged; bit++) {
    const length = (claimed ^ (1 << bit)) >>> 0;
    if (off + FRAME_HEADER_BYTES + length > bytes.length || frameBytes(length) > segmentBytes - off) continue;
    view.setUint32(off + FrameOffset.PAYLOAD_LENGTH, length, true);
    damaged = frameCrc(bytes, off, length) === crc;
    view.setUint32(off + FrameOffset.PAYLOAD_LENGTH, claimed, true);
  }
  return damaged;
}

/** A frame at `off` whose CRC and lsn field check out where it stands. */
function validatesInPlace(seg: LoadedSegment, off: number, segmentBytes: number): boolean {
  const { bytes, view, firstLsn } = seg;
  const at = firstLsn + off;
  if (view.getUint32(off + FrameOffset.LSN, true) !== at >>> 0 || readU64(view, off + FrameOffset.LSN) !== at) return false;
  const payloadLength = view.getUint32(off + FrameOffset.PAYLOAD_LENGTH, true);
  if (frameBytes(payloadLength) > segmentBytes - off || off + FRAME_HEADER_BYTES + payloadLength > bytes.length) return false;
  return frameCrc(bytes, off, payloadLength) === view.getUint32(off + FrameOffset.CRC, true);
}

function damagedLength(seg: LoadedSegment, off: number, what: string): Error {
  const lsn = seg.firstLsn + off;
  return Errors.corruption(seg.path, off, `${what} at LSN ${lsn}, but the frame's length field is damaged (the frame itself is whole or later frames follow it)`);
}

/** A frame whose CRC and LSN check out was written on purpose: an unknown type or version is not a torn write. */
function checkTypeAndVersion(seg: LoadedSegment, off: number): FrameType {
  const version = seg.view.getUint8(off + FrameOffset.VERSION);
  if (version !== FRAME_VERSION) {
    throw Errors.corruption(seg.path, off, `frame at LSN ${seg.firstLsn + off} has format version ${version}, expected ${FRAME_VERSION}`);
  }
  const type = seg.view.getUint8(off + FrameOffset.TYPE);
  if (type !== FrameType.REDO && type !== FrameType.SEGMENT_END && type !== FrameType.CHECKPOINT_MARK) {
    throw Errors.corruption(seg.path, off, `frame at LSN ${seg.firstLsn + off} has unknown type ${type}`);
  }
  return type;
}

// ---- Deciding the end (rule 4) ----

/**
 * Rule 4: scan everything after the end candidate X for frames that validate in place. One written
 * when the log was already durable past X makes the hole at X damage (corruption at X); otherwise
 * the end stands, torn if any non-zero byte follows X.
 */
async function decideEnd(
  disk: Disk,
  segments: Segment[],
  i: number,
  current: LoadedSegment,
  candidate: { lsn: number; torn: boolean; reason: string },
  segmentBytes: number,
  preallocated: boolean,
): Promise<WalEnd> {
  const endLsn = candidate.lsn;
  let nonZeroEndLsn = endLsn;
  for (let j = i; j < segments.length; j++) {
    const seg = j === i ? current : await loadSegment(disk, segments[j]!, segmentBytes, preallocated);
    const startOff = j === i ? endLsn - seg.firstLsn : 0;
    const scanOff = j === i ? startOff + FRAME_ALIGN_BYTES : 0;
    const witness = findFrameSyncedPast(seg, scanOff, segmentBytes, endLsn);
    if (witness) {
      throw Errors.corruption(
        current.path,
        endLsn - current.firstLsn,
        `${candidate.reason}, yet the frame at LSN ${witness.lsn} (${seg.path} offset ${witness.lsn - seg.firstLsn}) was written ` +
          `when the log was durable up to LSN ${witness.syncedLsn}: the durable log is damaged at LSN ${endLsn}`,
      );
    }
    const nonZeroEnd = lastNonZeroEnd(seg.bytes, Math.min(startOff, seg.bytes.length));
    if (nonZeroEnd > startOff) nonZeroEndLsn = seg.firstLsn + nonZeroEnd;
  }
  if (!candidate.torn && nonZeroEndLsn === endLsn) return { kind: 'clean', endLsn };
  const reason = candidate.torn ? candidate.reason : `${candidate.reason}, followed by non-zero bytes up to LSN ${nonZeroEndLsn}`;
  return { kind: 'torn', endLsn, tornBytes: nonZeroEndLsn - endLsn, reason };
}

/** The first frame at or after `fromOff` that validates in place (CRC and lsn field) with syncedLsn > `lsn`. */
function findFrameSyncedPast(
  seg: LoadedSegment,
  fromOff: number,
  segmentBytes: number,
  lsn: number,
): { lsn: number; syncedLsn: number } | undefined {
  const { bytes, view, firstLsn } = seg;
  const limit = Math.min(bytes.length, segmentBytes) - FRAME_HEADER_BYTES;
  // The rest of a preallocated segment is mostly zeros. A frame here holds its own (non-zero) LSN,
  // so positions whose LSN field is zero are skipped a 32-bit word at a time.
  const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : undefined;
  for (let off = fromOff; off <= limit; ) {
    const at = firstLsn + off;
    if (words !== undefined && words[(off + FrameOffset.LSN) >> 2] === 0 && words[(off + FrameOffset.LSN + 4) >> 2] === 0) {
      let w = (off + FrameOffset.LSN + 8) >> 2;
      const wordsEnd = Math.min(words.length, (limit + FrameOffset.LSN + 8) >> 2);
      while (w < wordsEnd && words[w] === 0) w++;
      // The next position whose LSN field covers word w (off + 16 or off + 20 = 4w), 8-aligned.
      const next = (4 * w - FrameOffset.LSN) % FRAME_ALIGN_BYTES === 0 ? 4 * w - FrameOffset.LSN : 4 * w - FrameOffset.LSN - 4;
      off = Math.max(off + FRAME_ALIGN_BYTES, next);
      continue;
    }
    // Cheap filter first: almost no position holds its own LSN.
    if (view.getUint32(off + FrameOffset.LSN, true) !== at >>> 0 || readU64(view, off + FrameOffset.LSN) !== at) {
      off += FRAME_ALIGN_BYTES;
      continue;
    }
    const payloadLength = view.getUint32(off + FrameOffset.PAYLOAD_LENGTH, true);
    const total = frameBytes(payloadLength);
    const dataEnd = off + FRAME_HEADER_BYTES + payloadLength;
    if (total > segmentBytes - off || dataEnd > bytes.length || frameCrc(bytes, off, payloadLength) !== view.getUint32(off, true)) {
      off += FRAME_ALIGN_BYTES;
      continue;
    }
    const syncedLsn = readU64(view, off + FrameOffset.SYNCED_LSN);
    if (syncedLsn > lsn) return { lsn: at, syncedLsn };
    off += total; // a valid frame: its payload holds no frames of this log
  }
  return undefined;
}

// ---- Repair helpers ----

/** The log's bytes in [startLsn, endLsn), missing files and bytes as zeros. */
async function readLogRange(disk: Disk, walDir: string, startLsn: number, endLsn: number, segmentBytes: number): Promise<Uint8Array> {
  const out = new Uint8Array(endLsn - startLsn);
  for (let index = Math.floor(startLsn / segmentBytes); index * segmentBytes < endLsn; index++) {
    const firstLsn = index * segmentBytes;
    const path = joinPath(walDir, segmentFileName(firstLsn));
    if (!(await disk.exists(path))) continue;
    const from = Math.max(startLsn, firstLsn);
    const to = Math.min(endLsn, firstLsn + segmentBytes);
    const file = await disk.open(path);
    try {
      for (let lsn = from; lsn < to; ) {
        const piece = await file.read(lsn - firstLsn, Math.min(READ_CHUNK_BYTES, to - lsn));
        if (piece.length === 0) break;
        out.set(piece, lsn - startLsn);
        lsn += piece.length;
      }
    } finally {
      await file.close();
    }
  }
  return out;
}

async function freeTornCopyPath(disk: Disk, walDir: string, endLsn: number): Promise<string> {
  for (let copy = 0; copy < TORN_COPIES_PER_LSN_MAX; copy++) {
    const path = joinPath(walDir, tornCopyFileName(endLsn, copy));
    if (!(await disk.exists(path))) return path;
  }
  throw Errors.recoveryFailed(`${TORN_COPIES_PER_LSN_MAX} copies of a torn WAL tail at LSN ${endLsn} already exist in "${walDir}"`);
}

async function zeroFill(disk: Disk, path: string, fromOffset: number, toOffset: number): Promise<void> {
  const zeros = new Uint8Array(Math.min(READ_CHUNK_BYTES, toOffset - fromOffset));
  const file = await disk.open(path);
  try {
    for (let off = fromOffset; off < toOffset; off += zeros.length) {
      await file.write(off, zeros.subarray(0, Math.min(zeros.length, toOffset - off)));
    }
    await file.sync();
  } finally {
    await file.close();
  }
}

async function removeSegmentsAfter(disk: Disk, walDir: string, index: number, segmentBytes: number): Promise<void> {
  const later = (await disk.list(walDir))
    .map((name) => ({ name, firstLsn: parseSegmentFileName(name) }))
    .filter((s): s is { name: string; firstLsn: number } => s.firstLsn !== undefined && s.firstLsn >= (index + 1) * segmentBytes)
    .sort((a, b) => b.firstLsn - a.firstLsn);
  for (const s of later) await disk.remove(joinPath(walDir, s.name));
  if (later.length > 0) await disk.syncDir(walDir);
}

// ---- Byte helpers ----

function readU64(view: DataView, off: number): number {
  return view.getUint32(off, true) + view.getUint32(off + 4, true) * TWO_POW_32;
}

function isZeroHeader(view: DataView, off: number): boolean {
  for (let i = 0; i < FRAME_HEADER_BYTES; i += 4) if (view.getUint32(off + i, true) !== 0) return false;
  return true;
}

/** Position just past the last non-zero byte in bytes[from, to), or `from` if all are zero. */
function lastNonZeroEnd(bytes: Uint8Array, from: number, to = bytes.length): number {
  let i = to;
  // Long zero runs (a preallocated segment's tail) are skipped a 32-bit word at a time.
  if (i - from >= 64) {
    for (; (bytes.byteOffset + i) % 4 !== 0; i--) if (bytes[i - 1] !== 0) return i;
    const wordsStart = from + ((4 - ((bytes.byteOffset + from) % 4)) % 4);
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + wordsStart, (i - wordsStart) / 4);
    let w = words.length;
    while (w > 0 && words[w - 1] === 0) w--;
    i = wordsStart + w * 4;
  }
  for (; i > from; i--) if (bytes[i - 1] !== 0) return i;
  return from;
}
