// The accounts catalog file: accounts, their users, the databases each owns, and the databases
// dropped while a PITR may still need to know who owned them. Written whole and atomically
// (writeFileAtomic: temp file, fdatasync, rename, directory fsync) on every change, read once when
// the engine opens. Layout (UTF-8 JSON, one object):
//
//   { "format": "motsim-accounts", "version": 2, "nextId": number,
//     "accounts":  [ { "id": number, "name": string, "admin": string, "users": [string...], "createdWallMs": number } ... ],
//     "databases": [ { "id": number, "name": string, "account": string, "accountId": number, "createdWallMs": number } ... ],
//     "droppedDatabases": [ { ...a database entry..., "droppedWallMs": number } ... ] }
//
// Ids are never reused (`nextId` is the next one to give): an account or a database recreated under
// the same name is another object. `sys` (id 0) and its `postgres` database (id 0) always exist and
// are not stored. A dropped database stays in `droppedDatabases` while a PITR window may reach back
// to when it existed (ownership at a past moment decides what a RESTORE may bring back); older ones
// are forgotten. Version 1 (no ids, no dropped databases) is read and given ids in file order; it is
// written back as version 2 at the next change. A missing file is an empty catalog (a data directory
// from before accounts existed); anything unreadable is corruption.

import type { Disk } from '../io/disk.js';
import { joinPath, writeFileAtomic } from '../io/disk.js';
import { Errors } from '../errors.js';

export const ACCOUNT_FILE_NAME = 'accounts.json';
export const ACCOUNT_FILE_FORMAT = 'motsim-accounts';
export const ACCOUNT_FILE_VERSION = 2;
/** Versions this reader accepts. */
const READABLE_VERSIONS: readonly number[] = [1, 2];
/** Id of the `sys` account and of its `postgres` database. */
export const SYS_ID = 0;

export interface AccountRecord {
  id: number;
  name: string;
  admin: string;
  users: string[];
  createdWallMs: number;
}

export interface DatabaseRecord {
  id: number;
  name: string;
  account: string;
  accountId: number;
  createdWallMs: number;
}

export interface DroppedDatabaseRecord extends DatabaseRecord {
  droppedWallMs: number;
}

export interface AccountFileContent {
  nextId: number;
  accounts: AccountRecord[];
  databases: DatabaseRecord[];
  droppedDatabases: DroppedDatabaseRecord[];
}

export function accountFilePath(dir: string): string {
  return joinPath(dir, ACCOUNT_FILE_NAME);
}

export async function readAccountFile(disk: Disk, dir: string): Promise<AccountFileContent> {
  const path = accountFilePath(dir);
  if (!(await disk.exists(path))) return { nextId: SYS_ID + 1, accounts: [], databases: [], droppedDatabases: [] };
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

type Loose = Record<string, unknown>;

function checkContent(path: string, v: unknown): AccountFileContent {
  const o = v as { format?: unknown; version?: unknown; nextId?: unknown; accounts?: unknown; databases?: unknown; droppedDatabases?: unknown };
  if (o === null || typeof o !== 'object' || o.format !== ACCOUNT_FILE_FORMAT) throw Errors.corruption(path, 0, `"format" is not "${ACCOUNT_FILE_FORMAT}"`);
  if (!READABLE_VERSIONS.includes(o.version as number)) throw Errors.corruption(path, 0, `version ${String(o.version)} is not supported (expected ${READABLE_VERSIONS.join(' or ')})`);
  if (!Array.isArray(o.accounts) || !Array.isArray(o.databases)) throw Errors.corruption(path, 0, '"accounts" and "databases" must be arrays');
  for (const a of o.accounts as Loose[]) {
    if (typeof a?.name !== 'string' || typeof a.admin !== 'string' || !Array.isArray(a.users) || (a.users as unknown[]).some((u) => typeof u !== 'string')) {
      throw Errors.corruption(path, 0, `malformed account entry ${JSON.stringify(a)}`);
    }
  }
  for (const d of o.databases as Loose[]) {
    if (typeof d?.name !== 'string' || typeof d.account !== 'string') throw Errors.corruption(path, 0, `malformed database entry ${JSON.stringify(d)}`);
  }
  return o.version === 1 ? fromVersion1(o.accounts as Loose[], o.databases as Loose[]) : checkVersion2(path, o);
}

/** Version 1 had no ids: give them in file order (accounts first); nothing was remembered of dropped databases. */
function fromVersion1(accounts: Loose[], databases: Loose[]): AccountFileContent {
  let nextId = SYS_ID + 1;
  const ids = new Map<string, number>();
  const outAccounts = accounts.map((a) => {
    const id = nextId++;
    ids.set(a.name as string, id);
    return { id, name: a.name as string, admin: a.admin as string, users: [...(a.users as string[])], createdWallMs: wallOf(a.createdWallMs) };
  });
  const outDatabases = databases.map((d) => ({
    id: nextId++,
    name: d.name as string,
    account: d.account as string,
    // A database of an account the file does not know keeps an id no account has: nobody's.
    accountId: d.account === 'sys' ? SYS_ID : (ids.get(d.account as string) ?? nextId++),
    createdWallMs: wallOf(d.createdWallMs),
  }));
  return { nextId, accounts: outAccounts, databases: outDatabases, droppedDatabases: [] };
}

function checkVersion2(path: string, o: { nextId?: unknown; accounts?: unknown; databases?: unknown; droppedDatabases?: unknown }): AccountFileContent {
  const isId = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!isId(o.nextId) || !Array.isArray(o.droppedDatabases)) throw Errors.corruption(path, 0, '"nextId" must be a non-negative integer and "droppedDatabases" an array');
  const nextId = o.nextId;
  const seen = new Set<number>();
  const checkId = (id: unknown, what: unknown): void => {
    if (!isId(id) || id === SYS_ID || id >= nextId || seen.has(id)) throw Errors.corruption(path, 0, `bad or repeated id in ${JSON.stringify(what)} (ids are 1..nextId-1, each once)`);
    seen.add(id);
  };
  for (const a of o.accounts as Loose[]) {
    checkId(a.id, a);
    if (typeof a.createdWallMs !== 'number') throw Errors.corruption(path, 0, `malformed account entry ${JSON.stringify(a)}`);
  }
  const database = (d: Loose): void => {
    checkId(d.id, d);
    if (typeof d?.name !== 'string' || typeof d.account !== 'string' || !isId(d.accountId) || typeof d.createdWallMs !== 'number') {
      throw Errors.corruption(path, 0, `malformed database entry ${JSON.stringify(d)}`);
    }
  };
  for (const d of o.databases as Loose[]) database(d);
  for (const d of o.droppedDatabases as Loose[]) {
    database(d);
    if (typeof d.droppedWallMs !== 'number') throw Errors.corruption(path, 0, `malformed dropped database entry ${JSON.stringify(d)}`);
  }
  return {
    nextId,
    accounts: o.accounts as AccountRecord[],
    databases: o.databases as DatabaseRecord[],
    droppedDatabases: o.droppedDatabases as DroppedDatabaseRecord[],
  };
}

function wallOf(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
