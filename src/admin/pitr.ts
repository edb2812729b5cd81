// Point-in-time recovery windows (MatrixOne's PITR): named, at cluster, account, database or table
// level, each keeping its object restorable to any moment of the last `range` (1..100 h, d, mo, y).
// Privileges (SPEC.md section 7): cluster level needs `sys`; account level is the account's own
// administrator, another account's only `sys`; database and table level an account administrator of
// the owning account (or `sys`). Invariant: the in-memory list changes only after pitrs.json was
// written durably; the window of a PITR is [max(now - range, created), now] on the injected clock.
//
// Names are per account, as in MatrixOne (one namespace per account owning the covered object; a
// cluster PITR belongs to `sys`): a tenant sees only its own account's PITRs, and every answer about
// a name it cannot see (SHOW, ALTER, DROP [IF EXISTS], RESTORE, CREATE) is the answer for a name that
// does not exist, so no answer reveals another account's PITR. `sys` sees all: an unqualified name is
// its own first, else the one PITR of that name; `account.name` picks one.

import type { Disk } from '../io/disk.js';
import type { Clock } from '../io/clock.js';
import { Errors } from '../errors.js';
import { NAME_BYTES_MAX, checkName, describeName } from '../names.js';
import { Reservations, holding } from '../reservations.js';
import { AccountCatalog, SYS_ACCOUNT, type Login } from './accounts.js';
import { readPitrFile, writePitrFile, type PitrLevel, type PitrRecord, type PitrUnit } from './pitr-file.js';

export type { PitrLevel, PitrRecord, PitrUnit } from './pitr-file.js';

export const PITR_RANGE_VALUE_MIN = 1;
export const PITR_RANGE_VALUE_MAX = 100;
/** Bound on the catalog (each change rewrites the whole file). */
export const PITRS_MAX = 10_000;
/** Bytes of UTF-8 in a PITR name (NAMEDATALEN - 1, as every name). */
export const PITR_NAME_BYTES_MAX = NAME_BYTES_MAX;

const HOUR_MS = 3_600_000;
/** Length of one unit: a month is 30 days and a year 365 days (documented in docs/architecture.md). */
export const PITR_UNIT_MS: Record<PitrUnit, number> = { h: HOUR_MS, d: 24 * HOUR_MS, mo: 30 * 24 * HOUR_MS, y: 365 * 24 * HOUR_MS };

/** What a PITR covers (also the object a RESTORE names). */
export interface PitrTarget {
  level: PitrLevel;
  /** Account level: the account (undefined: the caller's own). */
  account?: string;
  database?: string;
  table?: string;
}

/** SHOW PITR filters, each optional. */
export interface PitrFilter {
  level?: string;
  account?: string;
  database?: string;
  table?: string;
  name?: string;
}

/** Parse and check a range: value 1..100, unit h, d (default), mo, y; 22023 naming the value otherwise. */
export function checkRange(name: string, value: number, unit: string | undefined): { rangeValue: number; rangeUnit: PitrUnit } {
  if (!Number.isInteger(value) || value < PITR_RANGE_VALUE_MIN || value > PITR_RANGE_VALUE_MAX) {
    throw Errors.invalidArgument(`range value ${value} of PITR "${name}"`, `must be an integer from ${PITR_RANGE_VALUE_MIN} to ${PITR_RANGE_VALUE_MAX}`);
  }
  const u = unit ?? 'd';
  if (!Object.hasOwn(PITR_UNIT_MS, u)) throw Errors.invalidArgument(`range unit '${u}' of PITR "${name}"`, "must be one of 'h', 'd', 'mo', 'y'");
  return { rangeValue: value, rangeUnit: u as PitrUnit };
}

/** The moments a PITR can restore to now: [max(now - range, created), now]. */
export function pitrWindow(p: PitrRecord, nowMs: number): { fromMs: number; toMs: number } {
  return { fromMs: Math.max(nowMs - p.rangeValue * PITR_UNIT_MS[p.rangeUnit], p.createdWallMs), toMs: nowMs };
}

/** The map key of a PITR: its account's namespace and its name. */
function keyOf(account: string, name: string): string {
  return JSON.stringify([account, name]);
}

export class PitrCatalog {
  /** By keyOf(account, name). */
  private pitrs = new Map<string, PitrRecord>();
  private writing: Promise<unknown> = Promise.resolve();
  /** Names of PITRs with a CREATE in flight (src/reservations.ts). */
  private readonly claims = new Reservations();
  /** Moments restores in progress read from (their checkpoint and WAL must stay). */
  private readonly pinnedMs = new Map<number, number>();
  private pinSeq = 0;

  private constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    private readonly clock: Pick<Clock, 'wallMs'>,
  ) {}

  static async load(disk: Disk, dir: string, clock: Pick<Clock, 'wallMs'>): Promise<PitrCatalog> {
    const c = new PitrCatalog(disk, dir, clock);
    for (const p of await readPitrFile(disk, dir)) c.pitrs.set(keyOf(p.account, p.name), p);
    return c;
  }

  /**
   * The oldest moment any PITR (or restore in progress) may need, or undefined when there is none:
   * checkpoints and WAL needed to rebuild the state at that moment are kept.
   */
  retainFromWallMs(nowMs: number): number | undefined {
    let min: number | undefined;
    for (const p of this.pitrs.values()) {
      const from = pitrWindow(p, nowMs).fromMs;
      if (min === undefined || from < min) min = from;
    }
    for (const ms of this.pinnedMs.values()) if (min === undefined || ms < min) min = ms;
    return min;
  }

  /** Keep what a restore to `wallMs` reads until the returned function is called. */
  pin(wallMs: number): () => void {
    const id = ++this.pinSeq;
    this.pinnedMs.set(id, wallMs);
    return () => this.pinnedMs.delete(id);
  }

  // ---- queries ----

  /**
   * The PITR `name` (of `account`, when qualified) as the caller sees it: a tenant only in its own
   * account; `sys` in its own, else the only one of that name (22023 when several accounts have one).
   * A PITR the caller cannot see is answered exactly like a missing one (42704).
   */
  get(caller: Login, name: string, account?: string): PitrRecord {
    const p = this.find(caller, name, account);
    if (p === undefined) throw Errors.undefinedObject('PITR', account === undefined ? name : `${account}.${name}`);
    return { ...p };
  }

  private find(caller: Login, name: string, account: string | undefined): PitrRecord | undefined {
    if (caller.account !== SYS_ACCOUNT) return account === undefined || account === caller.account ? this.pitrs.get(keyOf(caller.account, name)) : undefined;
    if (account !== undefined) return this.pitrs.get(keyOf(account, name));
    const own = this.pitrs.get(keyOf(SYS_ACCOUNT, name));
    if (own !== undefined) return own;
    const all = [...this.pitrs.values()].filter((p) => p.name === name);
    if (all.length > 1) {
      const accounts = all.map((p) => p.account).sort();
      throw Errors.invalidArgument(`PITR name ${describeName(name)}`, `accounts ${accounts.join(', ')} each have one: write account.name (e.g. ${accounts[0]}.${name})`);
    }
    return all[0];
  }

  /** PITRs the caller may see, matching every given filter, by name. */
  show(caller: Login, f: PitrFilter = {}): PitrRecord[] {
    return [...this.pitrs.values()]
      .filter((p) => caller.account === SYS_ACCOUNT || p.account === caller.account)
      .filter((p) => (f.level === undefined || p.level === f.level) && (f.account === undefined || p.account === f.account))
      .filter((p) => (f.database === undefined || p.database === f.database) && (f.table === undefined || p.table === f.table))
      .filter((p) => f.name === undefined || p.name === f.name)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.account < b.account ? -1 : a.account > b.account ? 1 : 0))
      .map((p) => ({ ...p }));
  }

  // ---- changes (each persisted before it takes effect) ----

  async create(caller: Login, accounts: AccountCatalog, tableExists: (db: string, t: string) => boolean, name: string, target: PitrTarget, rangeValue: number, rangeUnit: string | undefined): Promise<PitrRecord> {
    checkPitrName(name);
    const range = checkRange(name, rangeValue, rangeUnit);
    // The namespace is the covered object's account: known once the caller is authorized for it.
    const account = this.authorize(caller, accounts, `CREATE PITR "${name}"`, target);
    const key = keyOf(account, name);
    if (this.pitrs.has(key)) throw Errors.duplicateObject('PITR', name);
    if (this.pitrs.size + this.claims.countExclusive('pitr:') >= PITRS_MAX) throw Errors.invalidArgument('PITR', `more than ${PITRS_MAX} PITRs`);
    if (target.level === 'table' && !tableExists(target.database!, target.table!)) throw Errors.tableNotFound(`${target.database}.${target.table}`);
    // Checked free and claimed in one synchronous step: a second CREATE of the name meanwhile gets 42710.
    const release = this.claims.tryExclusive(`pitr:${key}`);
    if (release === undefined) throw Errors.duplicateObject('PITR', name);
    const now = this.clock.wallMs();
    const rec: PitrRecord = {
      name,
      level: target.level,
      account,
      database: target.database ?? null,
      table: target.table ?? null,
      ...range,
      createdWallMs: now,
      modifiedWallMs: now,
      createdBy: caller.account,
    };
    await holding(release, () => this.change((m) => m.set(key, rec)));
    return { ...rec };
  }

  // ALTER and DROP check, in the serialized change itself, that the PITR still is the one they
  // authorized: a DROP (or a DROP and a CREATE) that ran meanwhile is never undone or overwritten.

  async alter(caller: Login, accounts: AccountCatalog, name: string, rangeValue: number, rangeUnit: string | undefined, account?: string): Promise<void> {
    const p = this.get(caller, name, account);
    const range = checkRange(name, rangeValue, rangeUnit);
    this.authorize(caller, accounts, `ALTER PITR "${name}"`, targetOf(p));
    const key = keyOf(p.account, p.name);
    await this.change((m) => {
      const cur = m.get(key);
      if (cur === undefined || cur.createdWallMs !== p.createdWallMs) throw Errors.undefinedObject('PITR', name);
      m.set(key, { ...cur, ...range, modifiedWallMs: this.clock.wallMs() });
    });
  }

  /** DROP PITR [IF EXISTS]: a PITR the caller cannot see is answered as a missing one (false, or 42704). */
  async drop(caller: Login, accounts: AccountCatalog, name: string, ifExists: boolean, account?: string): Promise<boolean> {
    if (ifExists && this.find(caller, name, account) === undefined) return false;
    const p = this.get(caller, name, account);
    this.authorize(caller, accounts, `DROP PITR "${name}"`, targetOf(p));
    const key = keyOf(p.account, p.name);
    let dropped = false;
    await this.change((m) => {
      const cur = m.get(key);
      if (cur !== undefined && cur.createdWallMs === p.createdWallMs) {
        m.delete(key);
        dropped = true;
      } else if (!ifExists) {
        throw Errors.undefinedObject('PITR', name); // dropped meanwhile by a concurrent DROP
      }
    });
    return dropped;
  }

  /** Drop every PITR of an account (DROP ACCOUNT, before the account goes: its names must not pass to a new account of that name). */
  async dropAccount(account: string): Promise<void> {
    if (![...this.pitrs.values()].some((p) => p.account === account)) return;
    await this.change((m) => {
      for (const [k, p] of m) if (p.account === account) m.delete(k);
    });
  }

  /**
   * Check the caller may manage a PITR on `target` (SPEC.md section 7); returns the owning account.
   * Throws 42501 naming the caller's account, 3D000 / 42704 for a missing database or account.
   */
  authorize(caller: Login, accounts: AccountCatalog, what: string, target: PitrTarget): string {
    const isSys = caller.account === SYS_ACCOUNT;
    if (!caller.isAdmin) throw Errors.permissionDenied(caller.account, `${what} needs the account's administrator (user "${caller.user}" is not)`);
    switch (target.level) {
      case 'cluster':
        accounts.requireSys(caller, `${what} FOR CLUSTER`);
        return SYS_ACCOUNT;
      case 'account': {
        const acc = target.account ?? caller.account;
        if (acc !== caller.account && !isSys) throw Errors.permissionDenied(caller.account, `${what} FOR ACCOUNT "${acc}": another account's PITR needs the "${SYS_ACCOUNT}" account`);
        if (acc !== SYS_ACCOUNT && !accounts.accountNames({ account: SYS_ACCOUNT, user: 'root', isAdmin: true }).includes(acc)) throw Errors.undefinedObject('account', acc);
        return acc;
      }
      case 'database':
      case 'table': {
        const db = target.database!;
        accounts.checkDatabaseAccess(caller, db);
        return accounts.ownerOf(db)!;
      }
    }
  }

  private async change(mutate: (m: Map<string, PitrRecord>) => void): Promise<void> {
    const run = this.writing.then(async () => {
      const copy = new Map([...this.pitrs].map(([k, v]) => [k, { ...v }]));
      mutate(copy);
      await writePitrFile(this.disk, this.dir, [...copy.values()]);
      this.pitrs = copy;
    });
    this.writing = run.catch(() => undefined);
    await run;
  }
}

export function targetOf(p: PitrRecord): PitrTarget {
  return { level: p.level, account: p.account, ...(p.database !== null ? { database: p.database } : {}), ...(p.table !== null ? { table: p.table } : {}) };
}

/** Whether a PITR covers an object (a RESTORE's target): the same object or one inside it. */
export function pitrCovers(p: PitrRecord, t: PitrTarget, ownerOf: (db: string) => string | undefined): boolean {
  switch (p.level) {
    case 'cluster':
      return true;
    case 'account':
      return t.level === 'account' ? t.account === p.account : t.level === 'database' || t.level === 'table' ? ownerOf(t.database!) === p.account : false;
    // A database or table PITR covers the database of that name only while its account owns it.
    case 'database':
      return (t.level === 'database' || t.level === 'table') && t.database === p.database && ownerOf(t.database) === p.account;
    case 'table':
      return t.level === 'table' && t.database === p.database && t.table === p.table && ownerOf(t.database) === p.account;
  }
}

/** NAMEDATALEN's rule (src/names.ts), and no "/". */
function checkPitrName(name: string): void {
  checkName('PITR', name, PITR_NAME_BYTES_MAX);
  if (name.includes('/')) throw Errors.invalidArgument(`PITR name ${describeName(name)}`, 'must not contain "/"');
}

/** Internal table names (AccountCatalog.internalTableName) a target covers, among `names`. */
export function tablesOf(t: PitrTarget, names: Iterable<string>, ownerOf: (db: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const n of names) {
    const { database, table } = AccountCatalog.splitInternalName(n);
    const inside =
      t.level === 'cluster' ||
      (t.level === 'account' && ownerOf(database) === t.account) ||
      (t.level === 'database' && database === t.database) ||
      (t.level === 'table' && database === t.database && table === t.table);
    if (inside) out.push(n);
  }
  return out.sort();
}
