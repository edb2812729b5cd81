// The accounts catalog file: accounts, their users and the databases each owns. Written whole and
// atomically (writeFileAtomic: temp file, fdatasync, rename, directory fsync) on every change, read
// once when the engine opens. Layout (UTF-8 JSON, one object):
//
//   { "format": "motsim-accounts", "version": 1,
//     "accounts":  [ { "name": string, "admin": string, "users": [string...], "createdWallMs": number } ... ],
//     "databases": [ { "name": string, "account": string, "createdWallMs": number } ... ] }
//
// The `sys` account and the `postgres` database always exist and are not stored. A missing file is
// an empty catalog (a data directory from before accounts existed); anything unreadable is corruption.

import type { Disk } from '../io/disk.js';
import { joinPath, writeFileAtomic } from '../io/disk.js';
import { Errors } from '../errors.js';

export const ACCOUNT_FILE_NAME = 'accounts.json';
export const ACCOUNT_FILE_FORMAT = 'motsim-accounts';
export const ACCOUNT_FILE_VERSION = 1;

export interface AccountRecord {
  name: string;
  admin: string;
  users: string[];
  createdWallMs: number;
}

export interface DatabaseRecord {
  name: string;
  account: string;
  createdWallMs: number;
}

export interface AccountFileContent {
  accounts: AccountRecord[];
  databases: DatabaseRecord[];
}

export function accountFilePath(dir: string): string {
  return joinPath(dir, ACCOUNT_FILE_NAME);
}

export async function readAccountFile(disk: Disk, dir: string): Promise<AccountFileContent> {
  const path = accountFilePath(dir);
  if (!(await disk.exists(path))) return { accounts: [], databases: [] };
  const bytes = await disk.readFile(path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw Errors.corruption(path, 0, `not a valid accounts file: ${(e as Error).message}`);
  }
  return checkContent(path, parsed);
}

export async function writeAccountFile(disk: Disk, dir: string, content: AccountFileContent): Promise<void> {
  const text = JSON.stringify({ format: ACCOUNT_FILE_FORMAT, version: ACCOUNT_FILE_VERSION, ...content }, null, 1);
  await writeFileAtomic(disk, accountFilePath(dir), new TextEncoder().encode(text + '\n'));
}

function checkContent(path: string, v: unknown): AccountFileContent {
  const o = v as { format?: unknown; version?: unknown; accounts?: unknown; databases?: unknown };
  if (o === null || typeof o !== 'object' || o.format !== ACCOUNT_FILE_FORMAT) throw Errors.corruption(path, 0, `"format" is not "${ACCOUNT_FILE_FORMAT}"`);
  if (o.version !== ACCOUNT_FILE_VERSION) throw Errors.corruption(path, 0, `version ${String(o.version)} is not supported (expected ${ACCOUNT_FILE_VERSION})`);
  if (!Array.isArray(o.accounts) || !Array.isArray(o.databases)) throw Errors.corruption(path, 0, '"accounts" and "databases" must be arrays');
  for (const a of o.accounts as AccountRecord[]) {
    if (typeof a?.name !== 'string' || typeof a.admin !== 'string' || !Array.isArray(a.users) || a.users.some((u) => typeof u !== 'string')) {
      throw Errors.corruption(path, 0, `malformed account entry ${JSON.stringify(a)}`);
    }
  }
  for (const d of o.databases as DatabaseRecord[]) {
    if (typeof d?.name !== 'string' || typeof d.account !== 'string') throw Errors.corruption(path, 0, `malformed database entry ${JSON.stringify(d)}`);
  }
  return { accounts: o.accounts as AccountRecord[], databases: o.databases as DatabaseRecord[] };
}
