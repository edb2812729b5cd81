// The settings a data directory's files depend on, kept in the directory itself (`directory.json`):
// written when the directory is created, read at every open, and used instead of the configuration
// (with a ConfigWarning when the configuration differs), so a directory opened without its mot.conf
// is never rewritten under another layout. Layout (UTF-8 JSON, one object; docs/file-formats.md):
//
//   { "format": "motsim-directory", "version": 1,
//     "wal_segment_size": <bytes>,   WAL segment k covers LSNs [k x size, (k+1) x size) and is named by it
//     "wal_preallocate": <bool>,     segments are created full size, atomically: a short one is damage
//     "createdWallMs": <ms since the epoch> }
//
// Written whole and atomically (writeFileAtomic). A missing file is a new directory, or one made before
// the file existed (then the configuration in force is recorded once recovery has read the directory).
// Anything unreadable is corruption (XX001) naming the file.

import type { Disk } from '../io/disk.js';
import { joinPath, writeFileAtomic } from '../io/disk.js';
import { Errors } from '../errors.js';
import type { ConfigWarning, EngineConfig } from './config.js';
import { findParameter, formatValue } from './parameters.js';

export const DIRECTORY_FILE_NAME = 'directory.json';
export const DIRECTORY_FILE_FORMAT = 'motsim-directory';
export const DIRECTORY_FILE_VERSION = 1;

/** The settings the on-disk files depend on, by their mot.conf names. */
export interface DirectorySettings {
  wal_segment_size: number;
  wal_preallocate: boolean;
}

/** Which EngineConfig field each recorded setting is. */
const FIELDS: { readonly [K in keyof DirectorySettings]: 'walSegmentBytes' | 'walPreallocate' } = {
  wal_segment_size: 'walSegmentBytes',
  wal_preallocate: 'walPreallocate',
};

export function directoryFilePath(dir: string): string {
  return joinPath(dir, DIRECTORY_FILE_NAME);
}

/** The directory's recorded settings, or undefined when it has no directory.json. */
export async function readDirectorySettings(disk: Disk, dir: string): Promise<DirectorySettings | undefined> {
  const path = directoryFilePath(dir);
  // A `dir` that is a file has no settings either; opening it reports that it is not a directory.
  const present = await disk.exists(path).catch((e: unknown) => {
    if ((e as { code?: string }).code === 'ENOTDIR') return false;
    throw e;
  });
  if (!present) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await disk.readFile(path)));
  } catch (e) {
    throw Errors.corruption(path, 0, `not a valid data directory settings file: ${(e as Error).message}`);
  }
  const o = parsed as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || o.format !== DIRECTORY_FILE_FORMAT) throw Errors.corruption(path, 0, `"format" is not "${DIRECTORY_FILE_FORMAT}"`);
  if (o.version !== DIRECTORY_FILE_VERSION) throw Errors.corruption(path, 0, `version ${String(o.version)} is not supported (expected ${DIRECTORY_FILE_VERSION})`);
  const size = o.wal_segment_size;
  const spec = findParameter('wal_segment_size')!;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || spec.kind !== 'size' || size < spec.min || size > spec.max) {
    throw Errors.corruption(path, 0, `"wal_segment_size" ${JSON.stringify(size)} is not a segment size motsim writes`);
  }
  if (typeof o.wal_preallocate !== 'boolean') throw Errors.corruption(path, 0, `"wal_preallocate" ${JSON.stringify(o.wal_preallocate)} is not a boolean`);
  return { wal_segment_size: size, wal_preallocate: o.wal_preallocate };
}

export async function writeDirectorySettings(disk: Disk, dir: string, settings: DirectorySettings, wallMs: number): Promise<void> {
  const text = JSON.stringify({ format: DIRECTORY_FILE_FORMAT, version: DIRECTORY_FILE_VERSION, ...settings, createdWallMs: wallMs }, null, 1);
  await writeFileAtomic(disk, directoryFilePath(dir), new TextEncoder().encode(text + '\n'));
}

/** The recorded settings of a configuration. */
export function settingsOf(config: EngineConfig): DirectorySettings {
  return { wal_segment_size: config.walSegmentBytes, wal_preallocate: config.walPreallocate };
}

/**
 * `config` with the directory's recorded settings in place of its own, and a warning for each one the
 * configuration gave differently (the directory's value wins: its files were laid out with it).
 */
export function applyDirectorySettings(config: EngineConfig, settings: DirectorySettings, dir: string): { config: EngineConfig; warnings: ConfigWarning[] } {
  const out: EngineConfig = { ...config };
  const warnings: ConfigWarning[] = [];
  for (const name of Object.keys(FIELDS) as (keyof DirectorySettings)[]) {
    const field = FIELDS[name];
    const recorded = settings[name];
    if (out[field] === recorded) continue;
    const spec = findParameter(name)!;
    warnings.push({
      parameter: name,
      message: `data directory "${dir}" was created with ${name} = ${formatValue(spec, recorded)} (recorded in ${DIRECTORY_FILE_NAME}); using it instead of the configured ${formatValue(spec, out[field])}`,
    });
    (out as unknown as Record<string, unknown>)[field] = recorded;
  }
  // A redo buffer must fit a segment: with the directory's smaller segments, the configured (or
  // default) buffer may not; it is a runtime setting no file depends on, so it gives way.
  if (out.redoBufferBytes + REDO_FRAME_OVERHEAD_BYTES > out.walSegmentBytes) {
    const spec = findParameter('redo_buffer_size')!;
    const fitted = out.walSegmentBytes / 2;
    warnings.push({
      parameter: 'redo_buffer_size',
      message: `redo_buffer_size = ${formatValue(spec, out.redoBufferBytes)} does not fit the ${formatValue(findParameter('wal_segment_size')!, out.walSegmentBytes)} WAL segments of data directory "${dir}"; using ${formatValue(spec, fitted)}`,
    });
    out.redoBufferBytes = fitted;
  }
  return { config: out, warnings };
}

/** Room a frame needs beyond its redo buffer (the engine's check: buffer + 64 <= wal_segment_size). */
const REDO_FRAME_OVERHEAD_BYTES = 64;
