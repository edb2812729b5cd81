// Latency model of the simulated disk: distributions sampled with the injected Random, device presets.
// Invariants: samples are finite and >= 0; each sample draws a fixed number of random values.

import { assert, Errors } from '../errors.js';
import type { Random } from '../io/random.js';

/** A latency distribution, in µs. */
export type Distribution =
  | { kind: 'constant'; valueUs: number }
  | { kind: 'uniform'; minUs: number; maxUs: number }
  /** Normal, clamped to [minUs, maxUs]. */
  | { kind: 'normal'; meanUs: number; stddevUs: number; minUs: number; maxUs: number }
  /** Lognormal with the given median and shape sigma (a long right tail), clamped to maxUs. */
  | { kind: 'lognormal'; medianUs: number; sigma: number; maxUs: number };

export const constant = (valueUs: number): Distribution => ({ kind: 'constant', valueUs });
export const uniform = (minUs: number, maxUs: number): Distribution => ({ kind: 'uniform', minUs, maxUs });
export const normal = (meanUs: number, stddevUs: number, minUs: number, maxUs: number): Distribution => ({
  kind: 'normal',
  meanUs,
  stddevUs,
  minUs,
  maxUs,
});
export const lognormal = (medianUs: number, sigma: number, maxUs: number): Distribution => ({
  kind: 'lognormal',
  medianUs,
  sigma,
  maxUs,
});

/** One sample, µs. Draws 0 (constant), 1 (uniform) or 2 (normal, lognormal) values from `random`. */
export function sampleUs(d: Distribution, random: Random): number {
  switch (d.kind) {
    case 'constant':
      return d.valueUs;
    case 'uniform':
      return d.minUs + (d.maxUs - d.minUs) * random.next();
    case 'normal':
      return clamp(d.meanUs + d.stddevUs * standardNormal(random), d.minUs, d.maxUs);
    case 'lognormal':
      return clamp(d.medianUs * Math.exp(d.sigma * standardNormal(random)), 0, d.maxUs);
  }
}

/** Box-Muller; always two draws, no cached second value, so sampling is stateless. */
function standardNormal(random: Random): number {
  const u1 = 1 - random.next(); // (0, 1]
  const u2 = random.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Costs of the simulated device. write() only copies into the page cache (CPU, no device channel);
 * sync(), syncDir(), the flush half of writeAndSync() and reads are device requests, each holding one
 * of `channels` for its duration. Bandwidths are bytes per µs (1 GB/s = 1000 B/µs).
 */
export interface LatencyModel {
  readonly name: string;
  /** write() into the page cache: per-call part. */
  writeUs: Distribution;
  /** write() into the page cache: copy rate, bytes/µs. */
  writeBytesPerUs: number;
  /** fdatasync with dirty data: device round trip including the cache flush. */
  flushUs: Distribution;
  /** Extra when the flush must also journal a size change (an append, not a preallocated file). */
  flushExtendUs: Distribution;
  /** Device write rate for the dirty bytes a flush carries, bytes/µs. */
  flushBytesPerUs: number;
  /** fdatasync with nothing dirty. */
  flushCleanUs: Distribution;
  /** Extra for a device request that does not continue where the previous one ended (a head seek). */
  seekUs: Distribution;
  /** Device read: per-request part (reads are modelled cold, as after a restart). */
  readUs: Distribution;
  readBytesPerUs: number;
  /** fsync of a directory (a journal commit). */
  dirSyncUs: Distribution;
  /** open, rename, remove, list, mkdir, exists, size, truncate, close. */
  metadataUs: Distribution;
  /** Device requests served in parallel (NVMe queues; 1 for SATA and disks). */
  channels: number;
}

export type LatencyPresetName = 'nvme' | 'sata-ssd' | 'hdd' | 'this-machine' | 'instant';

const ZERO = constant(0);

/**
 * Device presets. Figures are typical published values, rounded; `this-machine` is measured.
 *
 * - nvme: a datacenter NVMe SSD with power-loss protection (e.g. Intel P4610, Samsung PM983 class):
 *   the flush is acknowledged from the protected cache, so fdatasync is 20-60 µs; ~2 GB/s
 *   sequential write; 4 parallel channels (submission queues actually used by a few threads).
 *   write() into the page cache ~10 µs + size / 2 GB/s (syscall + copy).
 * - sata-ssd: a consumer SATA SSD without power-loss protection: the flush empties the volatile
 *   write cache, 0.5-2 ms (lognormal, long tail); 500 MB/s; AHCI serves one request at a time.
 * - hdd: 7200 rpm disk: a flush waits for rotation and the write, 4-12 ms (8.33 ms per turn);
 *   a seek of 2-15 ms (average ~8.5 ms) when a request does not continue the previous one;
 *   ~150 MB/s sequential; one head.
 * - this-machine: measured on this VM with node:fs (100-byte writes, fdatasync): append + fdatasync
 *   ≈ 300 µs, into a preallocated file ≈ 200-250 µs (so ≈ 75 µs for journaling the size change);
 *   write() ≈ 5 µs + size / 1.5 GB/s. Re-measured while writing this model: 330-600 µs, noisy;
 *   8 files synced in parallel gave ~2.2x one file's rate, hence 2 channels.
 * - instant: everything takes 0 µs and the device is unbounded (logic tests, fastest runs).
 */
export const LATENCY_PRESETS: Readonly<Record<LatencyPresetName, LatencyModel>> = {
  nvme: {
    name: 'nvme',
    writeUs: normal(10, 2, 5, 30),
    writeBytesPerUs: 2000,
    flushUs: uniform(20, 60),
    flushExtendUs: uniform(5, 20),
    flushBytesPerUs: 2000,
    flushCleanUs: constant(2),
    seekUs: ZERO,
    readUs: normal(80, 10, 50, 200),
    readBytesPerUs: 3000,
    dirSyncUs: uniform(20, 60),
    metadataUs: constant(3),
    channels: 4,
  },
  'sata-ssd': {
    name: 'sata-ssd',
    writeUs: normal(10, 2, 5, 30),
    writeBytesPerUs: 2000,
    flushUs: lognormal(900, 0.4, 2000),
    flushExtendUs: uniform(50, 200),
    flushBytesPerUs: 500,
    flushCleanUs: constant(5),
    seekUs: ZERO,
    readUs: normal(120, 20, 80, 400),
    readBytesPerUs: 500,
    dirSyncUs: lognormal(900, 0.4, 2000),
    metadataUs: constant(5),
    channels: 1,
  },
  hdd: {
    name: 'hdd',
    writeUs: normal(10, 2, 5, 30),
    writeBytesPerUs: 2000,
    flushUs: uniform(4000, 12000),
    flushExtendUs: uniform(0, 8330),
    flushBytesPerUs: 150,
    flushCleanUs: constant(10),
    seekUs: normal(8500, 3000, 2000, 15000),
    readUs: uniform(0, 8330),
    readBytesPerUs: 150,
    dirSyncUs: uniform(4000, 12000),
    metadataUs: constant(10),
    channels: 1,
  },
  'this-machine': {
    name: 'this-machine',
    writeUs: normal(5, 1, 2, 20),
    writeBytesPerUs: 1500,
    flushUs: lognormal(225, 0.15, 2000),
    flushExtendUs: normal(75, 20, 20, 300),
    flushBytesPerUs: 1500,
    flushCleanUs: constant(5),
    seekUs: ZERO,
    readUs: normal(20, 5, 5, 100),
    readBytesPerUs: 1500,
    dirSyncUs: lognormal(300, 0.2, 3000),
    metadataUs: constant(5),
    channels: 2,
  },
  instant: {
    name: 'instant',
    writeUs: ZERO,
    writeBytesPerUs: Number.POSITIVE_INFINITY,
    flushUs: ZERO,
    flushExtendUs: ZERO,
    flushBytesPerUs: Number.POSITIVE_INFINITY,
    flushCleanUs: ZERO,
    seekUs: ZERO,
    readUs: ZERO,
    readBytesPerUs: Number.POSITIVE_INFINITY,
    dirSyncUs: ZERO,
    metadataUs: ZERO,
    channels: 1024,
  },
};

/** A custom model: a preset (`base`, default 'nvme') with some fields replaced. */
export type LatencySpec = LatencyPresetName | LatencyModel | (Partial<LatencyModel> & { base?: LatencyPresetName });

export function latencyModel(spec: LatencySpec): LatencyModel {
  if (typeof spec === 'string') {
    const preset = LATENCY_PRESETS[spec];
    if (preset === undefined) throw Errors.invalidConfig('latency', `unknown preset "${spec}"`);
    return { ...preset };
  }
  const base = 'base' in spec && spec.base !== undefined ? LATENCY_PRESETS[spec.base] : LATENCY_PRESETS.nvme;
  if (base === undefined) throw Errors.invalidConfig('latency.base', `unknown preset "${String((spec as { base?: unknown }).base)}"`);
  const { base: _ignored, ...fields } = spec as Partial<LatencyModel> & { base?: LatencyPresetName };
  void _ignored;
  const model: LatencyModel = { ...base, name: fields.name ?? `custom(${base.name})`, ...fields };
  validate(model);
  return model;
}

function validate(model: LatencyModel): void {
  if (!(Number.isInteger(model.channels) && model.channels >= 1)) {
    throw Errors.invalidConfig('latency.channels', `must be an integer >= 1, got ${model.channels}`);
  }
  for (const key of ['writeBytesPerUs', 'flushBytesPerUs', 'readBytesPerUs'] as const) {
    if (!(model[key] > 0)) throw Errors.invalidConfig(`latency.${key}`, `must be > 0, got ${model[key]}`);
  }
}

/** Time to move `bytes` at `bytesPerUs` (0 for an infinite rate). */
export function transferUs(bytes: number, bytesPerUs: number): number {
  assert(bytes >= 0, `transferUs: negative byte count ${bytes}`);
  return bytes === 0 || bytesPerUs === Number.POSITIVE_INFINITY ? 0 : bytes / bytesPerUs;
}
