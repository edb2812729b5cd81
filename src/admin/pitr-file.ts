// The PITR catalog file: every point-in-time recovery window. Written whole and atomically
// (writeFileAtomic: temp file, fdatasync, rename, directory fsync) on every change, read once when the
// engine opens. A sibling of accounts.json, so neither format changes the other. Layout (UTF-8 JSON):
//
//   { "format": "motsim-pitr", "version": 1,
//     "pitrs": [ { "name": string, "level": "cluster" | "account" | "database" | "table",
//                  "account": string, "database": string | null, "table": string | null,
//                  "rangeValue": 1..100, "rangeUnit": "h" | "d" | "mo" | "y",
//                  "createdWallMs": number, "modifiedWallMs": number, "createdBy": string } ... ] }
//
// A PITR is named within its account (`account`): (account, name) is unique, a name is not.
// A missing file is an empty catalog; anything unreadable is corruption naming the file.

import type { Disk } from '../io/disk.js';
import { joinPath, writeFileAtomic } from '../io/disk.js';
import { Errors } from '../errors.js';

export const PITR_FILE_NAME = 'pitrs.json';
export const PITR_FILE_FORMAT = 'motsim-pitr';
export const PITR_FILE_VERSION = 1;

export type PitrLevel = 'cluster' | 'account' | 'database' | 'table';
export type PitrUnit = 'h' | 'd' | 'mo' | 'y';

export interface PitrRecord {
  name: string;
  level: PitrLevel;
  /** The account the covered object belongs to (`sys` for a cluster PITR). */
  account: string;
  database: string | null;
  table: string | null;
  rangeValue: number;
  rangeUnit: PitrUnit;
  createdWallMs: number;
  modifiedWallMs: number;
  /** The account that created it. */
  createdBy: string;
}

export function pitrFilePath(dir: string): string {
  return joinPath(dir, PITR_FILE_NAME);
}

export async function readPitrFile(disk: Disk, dir: string): Promise<PitrRecord[]> {
  const path = pitrFilePath(dir);
  if (!(await disk.exists(path))) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await disk.readFile(path)));
  } catch (e) {
    throw Errors.corruption(path, 0, `not a valid PITR catalog: ${(e as Error).message}`);
  }
  const o = parsed as { format?: unknown; version?: unknown; pitrs?: unknown };
  if (o === null || typeof o !== 'object' || o.format !== PITR_FILE_FORMAT) throw Errors.corruption(path, 0, `"format" is not "${PITR_FILE_FORMAT}"`);
  if (o.version !== PITR_FILE_VERSION) throw Errors.corruption(path, 0, `version ${String(o.version)} is not supported (expected ${PITR_FILE_VERSION})`);
  if (!Array.isArray(o.pitrs)) throw Errors.corruption(path, 0, '"pitrs" must be an array');
  const seen = new Set<string>();
  for (const p of o.pitrs as PitrRecord[]) {
    if (typeof p?.name !== 'string' || typeof p.account !== 'string' || typeof p.rangeValue !== 'number' || typeof p.createdWallMs !== 'number' || !['cluster', 'account', 'database', 'table'].includes(p.level)) {
      throw Errors.corruption(path, 0, `malformed PITR entry ${JSON.stringify(p)}`);
    }
    const key = JSON.stringify([p.account, p.name]);
    if (seen.has(key)) throw Errors.corruption(path, 0, `PITR "${p.name}" of account "${p.account}" appears twice`);
    seen.add(key);
  }
  return o.pitrs as PitrRecord[];
}

export async function writePitrFile(disk: Disk, dir: string, pitrs: readonly PitrRecord[]): Promise<void> {
  const text = JSON.stringify({ format: PITR_FILE_FORMAT, version: PITR_FILE_VERSION, pitrs }, null, 1);
  await writeFileAtomic(disk, pitrFilePath(dir), new TextEncoder().encode(text + '\n'));
}
