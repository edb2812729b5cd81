// Accounts, users and databases, and the privilege rules between them. `sys` is the cluster
// administrator's account (user `root`) and owns the `postgres` database; each tenant account has an
// administrator user and owns its databases. A tenant sees and touches only its own databases; `sys`
// sees everything. Tables of `postgres` keep their bare names in the table catalog; a table `t` of
// any other database `db` is stored as `db.t` (so `engine.table('t')` keeps working).
// Invariant: the in-memory catalog changes only after accounts.json was written durably.
//
// Accounts and databases have ids that are never reused, and dropped databases are remembered with
// the moment they were dropped for as long as a PITR window may reach back to them
// (`historyRetainFromMs`): who owned a database name at a past moment is what a RESTORE asks
// (databaseAt), so a tenant never gets back rows of a database another account owned then.

import type { Disk } from '../io/disk.js';
import type { Clock } from '../io/clock.js';
import { Errors, MotError } from '../errors.js';
import { NAME_BYTES_MAX, checkName as checkObjectName, describeName } from '../names.js';
import { Reservations, holding, type Release } from '../reservations.js';
import { SYS_ID, readAccountFile, writeAccountFile, type AccountFileContent, type AccountRecord, type DatabaseRecord, type DroppedDatabaseRecord } from './account-file.js';

export const SYS_ACCOUNT = 'sys';
export const SYS_ADMIN_USER = 'root';
export const DEFAULT_DATABASE = 'postgres';
/** Bounds on the catalog (each change rewrites the whole file). */
export const ACCOUNTS_MAX = 1000;
export const USERS_PER_ACCOUNT_MAX = 1000;
export const DATABASES_MAX = 10_000;
/** Dropped databases remembered at most (the oldest are forgotten first; a RESTORE then skips their tables). */
export const DROPPED_DATABASES_MAX = 100_000;
/** Names of accounts, users and databases: at most this many bytes of UTF-8, without '.' or '/'. */
export const OBJECT_NAME_BYTES_MAX = NAME_BYTES_MAX;

/** Who a session is: the account and user it logged in as. */
export interface Login {
  readonly account: string;
  readonly user: string;
  /** The account's administrator (for `sys`: the cluster administrator). */
  readonly isAdmin: boolean;
  /**
   * The account's id when the session logged in. A session of an account dropped since (and perhaps
   * recreated by another tenant under the same name) is refused (28000). Absent: not checked.
   */
  readonly accountId?: number;
}

export const SYS_LOGIN: Login = { account: SYS_ACCOUNT, user: SYS_ADMIN_USER, isAdmin: true, accountId: SYS_ID };

/** A database as one incarnation of its name: ids tell a recreated database from the old one. */
export interface DatabaseIdentity {
  id: number;
  name: string;
  account: string;
  accountId: number;
}

const POSTGRES: DatabaseIdentity = { id: SYS_ID, name: DEFAULT_DATABASE, account: SYS_ACCOUNT, accountId: SYS_ID };

/** The catalog's state; each change edits a copy and makes it the state once it is on disk. */
interface Draft {
  nextId: number;
  accounts: Map<string, AccountRecord>;
  databases: Map<string, DatabaseRecord>;
  dropped: DroppedDatabaseRecord[];
}

export class AccountCatalog {
  private accounts = new Map<string, AccountRecord>();
  private databases = new Map<string, DatabaseRecord>();
  private dropped: DroppedDatabaseRecord[] = [];
  private nextId = SYS_ID + 1;
  /**
   * The oldest moment a RESTORE may still ask about (the PITRs' oldest window start, set by the
   * engine); dropped databases older than it are forgotten. Undefined: no PITR, none is kept.
   */
  historyRetainFromMs: () => number | undefined = () => undefined;
  /** Names with a create or drop in flight, and accounts and databases in use by one. */
  private readonly claims = new Reservations();
  /** Serializes changes, so two writers never race on the file. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    private readonly clock: Pick<Clock, 'wallMs'>,
  ) {}

  static async load(disk: Disk, dir: string, clock: Pick<Clock, 'wallMs'>): Promise<AccountCatalog> {
    const c = new AccountCatalog(disk, dir, clock);
    c.adopt(await readAccountFile(disk, dir));
    return c;
  }

  /** Check a login; no account means `sys`, no user means the account's administrator. */
  login(account: string | undefined, user: string | undefined): Login {
    const acc = account ?? SYS_ACCOUNT;
    if (acc === SYS_ACCOUNT) {
      const u = user ?? SYS_ADMIN_USER;
      if (u !== SYS_ADMIN_USER) throw Errors.invalidLogin(acc, u);
      return SYS_LOGIN;
    }
    const rec = this.accounts.get(acc);
    if (!rec) throw Errors.invalidLogin(acc, user ?? '(administrator)');
    const u = user ?? rec.admin;
    if (u !== rec.admin && !rec.users.includes(u)) throw Errors.invalidLogin(acc, u);
    return { account: acc, user: u, isAdmin: u === rec.admin, accountId: rec.id };
  }

  /** The database a new session of this account starts in (undefined: none; USE or qualify). */
  defaultDatabase(login: Login): string | undefined {
    if (login.account === SYS_ACCOUNT) return DEFAULT_DATABASE;
    return this.databasesOf(login.account)[0];
  }

  // ---- queries ----

  accountNames(caller: Login): string[] {
    if (caller.account !== SYS_ACCOUNT) return [caller.account];
    return [SYS_ACCOUNT, ...[...this.accounts.keys()].sort()];
  }

  usersOf(caller: Login): string[] {
    if (caller.account === SYS_ACCOUNT) return [SYS_ADMIN_USER];
    const rec = this.accounts.get(caller.account)!;
    return [rec.admin, ...rec.users];
  }

  /** Databases the caller may see, sorted. */
  visibleDatabases(caller: Login): string[] {
    if (caller.account === SYS_ACCOUNT) return [DEFAULT_DATABASE, ...[...this.databases.keys()].sort()];
    return this.databasesOf(caller.account);
  }

  ownerOf(database: string): string | undefined {
    if (database === DEFAULT_DATABASE) return SYS_ACCOUNT;
    return this.databases.get(database)?.account;
  }

  /** The database of that name now, or undefined. */
  databaseNow(name: string): DatabaseIdentity | undefined {
    if (name === DEFAULT_DATABASE) return POSTGRES;
    const d = this.databases.get(name);
    return d === undefined ? undefined : identity(d);
  }

  /**
   * The database that had this name at `wallMs` (created at or before it, not dropped at or before it),
   * or undefined: none did, or it was dropped so long ago that it is forgotten (then nobody may have
   * its tables back). A name has one database at a time, so there is at most one.
   */
  databaseAt(name: string, wallMs: number): DatabaseIdentity | undefined {
    if (name === DEFAULT_DATABASE) return POSTGRES;
    const live = this.databases.get(name);
    const found: DatabaseIdentity[] = live !== undefined && live.createdWallMs <= wallMs ? [identity(live)] : [];
    for (const d of this.dropped) if (d.name === name && d.createdWallMs <= wallMs && wallMs < d.droppedWallMs) found.push(identity(d));
    return found.length === 1 ? found[0] : undefined;
  }

  /** Throws 3D000 if the database does not exist, 42501 if the caller's account may not use it. */
  checkDatabaseAccess(caller: Login, database: string): void {
    this.checkSessionAccount(caller);
    const owner = this.ownerOf(database);
    if (owner === undefined) throw Errors.undefinedDatabase(database);
    if (caller.account !== SYS_ACCOUNT && owner !== caller.account) {
      throw Errors.permissionDenied(caller.account, `database "${database}" belongs to another account`);
    }
  }

  /** 28000 for a session whose account was dropped since it logged in (even if recreated since). */
  checkSessionAccount(caller: Login): void {
    if (caller.account === SYS_ACCOUNT || caller.accountId === undefined) return;
    if (this.accounts.get(caller.account)?.id !== caller.accountId) throw Errors.invalidLogin(caller.account, caller.user);
  }

  /** Throws 42501 unless the caller is the `sys` account. */
  requireSys(caller: Login, what: string): void {
    if (caller.account !== SYS_ACCOUNT) throw Errors.permissionDenied(caller.account, `${what} needs the "${SYS_ACCOUNT}" account`);
  }

  // ---- changes (each persisted before it takes effect) ----
  //
  // Each change checks and claims what it creates or drops in one synchronous step (src/reservations.ts)
  // and holds the claim until its file write is done: keys `account:<name>`, `user:<account>/<name>`,
  // `database:<name>`. Creating a user or a database also holds its account (shared), so DROP ACCOUNT
  // cannot run beside it; CREATE TABLE and RESTORE hold their database (holdDatabase) against DROP.

  async createAccount(caller: Login, name: string, admin: string): Promise<void> {
    this.requireSys(caller, `CREATE ACCOUNT "${name}"`);
    checkName('account', name);
    checkName('user', admin);
    if (name === SYS_ACCOUNT || this.accounts.has(name)) throw Errors.duplicateObject('account', name);
    if (this.accounts.size + this.claims.countExclusive('account:') >= ACCOUNTS_MAX) throw Errors.invalidArgument('account', `more than ${ACCOUNTS_MAX} accounts`);
    const release = this.claims.tryExclusive(`account:${name}`);
    if (release === undefined) throw Errors.duplicateObject('account', name); // a CREATE ACCOUNT of the name is in flight
    await holding(release, () => this.change((d) => d.accounts.set(name, { id: d.nextId++, name, admin, users: [], createdWallMs: this.clock.wallMs() })));
  }

  /**
   * Drops the account: each of its databases (see dropDatabase), then `beforeDrop` (its PITRs), then
   * the account itself.
   */
  async dropAccount(caller: Login, name: string, dropTables: (database: string) => Promise<void>, beforeDrop: () => Promise<void> = async () => undefined): Promise<void> {
    this.requireSys(caller, `DROP ACCOUNT "${name}"`);
    if (name === SYS_ACCOUNT) throw Errors.permissionDenied(caller.account, `the "${SYS_ACCOUNT}" account cannot be dropped`);
    if (!this.accounts.has(name)) throw Errors.undefinedObject('account', name);
    const release = this.claims.tryExclusive(`account:${name}`);
    if (release === undefined) {
      if (this.claims.isExclusive(`account:${name}`)) throw Errors.undefinedObject('account', name); // its DROP is in flight
      throw Errors.objectInUse(`account "${name}"`, 'a CREATE DATABASE or CREATE USER in progress');
    }
    await holding(release, async () => {
      for (const db of this.databasesOf(name)) await this.dropDatabase(caller, db, dropTables);
      await beforeDrop();
      await this.change((d) => d.accounts.delete(name));
    });
  }

  async createUser(caller: Login, name: string): Promise<void> {
    if (caller.account === SYS_ACCOUNT) throw Errors.notSupported(`CREATE USER in the "${SYS_ACCOUNT}" account (create an account instead)`);
    this.requireAdmin(caller, `CREATE USER "${name}"`);
    checkName('user', name);
    const rec = this.liveAccount(caller);
    if (rec.admin === name || rec.users.includes(name)) throw Errors.duplicateObject('user', name);
    if (rec.users.length + this.claims.countExclusive(`user:${caller.account}/`) >= USERS_PER_ACCOUNT_MAX) {
      throw Errors.invalidArgument('user', `more than ${USERS_PER_ACCOUNT_MAX} users in account "${rec.name}"`);
    }
    const release = this.claimBoth(`user:${caller.account}/${name}`, `account:${caller.account}`, () => Errors.duplicateObject('user', name), () => Errors.invalidLogin(caller.account, caller.user));
    await holding(release, () => this.change((d) => d.accounts.get(caller.account)!.users.push(name)));
  }

  async dropUser(caller: Login, name: string): Promise<void> {
    this.requireAdmin(caller, `DROP USER "${name}"`);
    const rec = this.accounts.get(caller.account);
    if (!rec || !rec.users.includes(name)) throw Errors.undefinedObject('user', name);
    const release = this.claims.tryExclusive(`user:${caller.account}/${name}`);
    if (release === undefined) throw Errors.undefinedObject('user', name); // its DROP is in flight
    await holding(release, () =>
      this.change((d) => {
        const users = d.accounts.get(caller.account)?.users;
        const at = users?.indexOf(name) ?? -1;
        if (at < 0) throw Errors.undefinedObject('user', name);
        users!.splice(at, 1);
      }),
    );
  }

  /**
   * Creates a database owned by the caller's account. `beforeCreate` runs while the name is claimed,
   * before the database exists (the SQL face drops tables a crash or the library API left under that
   * name, so a new database never starts with another owner's tables).
   */
  async createDatabase(caller: Login, name: string, ifNotExists: boolean, beforeCreate: () => Promise<void> = async () => undefined): Promise<boolean> {
    this.requireAdmin(caller, `CREATE DATABASE "${name}"`);
    checkName('database', name);
    const accountId = caller.account === SYS_ACCOUNT ? SYS_ID : this.liveAccount(caller).id;
    const taken = (): boolean => name === DEFAULT_DATABASE || this.databases.has(name);
    if (taken()) {
      if (ifNotExists) return false;
      throw Errors.duplicateDatabase(name);
    }
    if (this.databases.size + this.claims.countExclusive('database:') >= DATABASES_MAX) throw Errors.invalidArgument('database', `more than ${DATABASES_MAX} databases`);
    // A CREATE DATABASE of the name in flight: answered as if it had happened (it exists).
    const claim = this.claims.tryExclusive(`database:${name}`);
    if (claim === undefined) {
      if (ifNotExists) return false;
      throw Errors.duplicateDatabase(name);
    }
    const account = caller.account === SYS_ACCOUNT ? undefined : this.claims.tryShared(`account:${caller.account}`);
    if (caller.account !== SYS_ACCOUNT && account === undefined) {
      claim();
      throw Errors.invalidLogin(caller.account, caller.user); // its account is being dropped
    }
    await holding(() => (claim(), account?.()), async () => {
      await beforeCreate();
      await this.change((d) => d.databases.set(name, { id: d.nextId++, name, account: caller.account, accountId, createdWallMs: this.clock.wallMs() }));
    });
    return true;
  }

  /**
   * Drops every table of the database (through `dropTables`, which logs each drop and makes it
   * durable), then the database. Refused with 55006 while a CREATE TABLE or RESTORE writes into it.
   */
  async dropDatabase(caller: Login, name: string, dropTables: (database: string) => Promise<void>): Promise<void> {
    this.requireAdmin(caller, `DROP DATABASE "${name}"`);
    if (name === DEFAULT_DATABASE) throw Errors.permissionDenied(caller.account, `the "${DEFAULT_DATABASE}" database cannot be dropped`);
    this.checkDatabaseAccess(caller, name);
    const release = this.claims.tryExclusive(`database:${name}`);
    if (release === undefined) {
      if (this.claims.isExclusive(`database:${name}`)) throw Errors.undefinedDatabase(name); // its DROP is in flight
      throw Errors.objectInUse(`database "${name}"`, 'a CREATE TABLE or RESTORE in progress');
    }
    await holding(release, async () => {
      await dropTables(name);
      await this.change((d) => {
        const rec = d.databases.get(name);
        if (rec === undefined) return;
        d.databases.delete(name);
        // Remembered for RESTORE: from now on the name is nobody's until it is created again.
        d.dropped.push({ ...rec, droppedWallMs: this.clock.wallMs() });
      });
    });
  }

  /**
   * Check the caller may use the database and keep it from being dropped until the returned function
   * is called (a CREATE TABLE in it, a RESTORE writing into it). A database whose DROP is in flight
   * does not exist any more (3D000).
   */
  holdDatabase(caller: Login, name: string): Release {
    this.checkDatabaseAccess(caller, name);
    const release = this.claims.tryShared(`database:${name}`);
    if (release === undefined) throw Errors.undefinedDatabase(name);
    return release;
  }

  // ---- table names ----

  /** The name a table of `database` has in the engine's table catalog. */
  static internalTableName(database: string, table: string): string {
    return database === DEFAULT_DATABASE ? table : `${database}.${table}`;
  }

  /** Inverse of internalTableName. */
  static splitInternalName(name: string): { database: string; table: string } {
    const dot = name.indexOf('.');
    return dot < 0 ? { database: DEFAULT_DATABASE, table: name } : { database: name.slice(0, dot), table: name.slice(dot + 1) };
  }

  // ---- internals ----

  private databasesOf(account: string): string[] {
    return [...this.databases.values()].filter((d) => d.account === account).map((d) => d.name).sort();
  }

  /** The caller's account record; 28000 if it was dropped (a session opened before the drop). */
  private liveAccount(caller: Login): AccountRecord {
    this.checkSessionAccount(caller);
    const rec = this.accounts.get(caller.account);
    if (rec === undefined) throw Errors.invalidLogin(caller.account, caller.user);
    return rec;
  }

  /** Claim `exclusiveKey` alone and `sharedKey` beside others, both or neither. */
  private claimBoth(exclusiveKey: string, sharedKey: string, taken: () => MotError, sharedGone: () => MotError): Release {
    const mine = this.claims.tryExclusive(exclusiveKey);
    if (mine === undefined) throw taken();
    const owner = this.claims.tryShared(sharedKey);
    if (owner === undefined) {
      mine();
      throw sharedGone();
    }
    return () => {
      mine();
      owner();
    };
  }

  private requireAdmin(caller: Login, what: string): void {
    if (!caller.isAdmin) throw Errors.permissionDenied(caller.account, `${what} needs the account's administrator (user "${caller.user}" is not)`);
  }

  /** Apply `mutate` to a copy of the catalog, write the copy durably, then make it the catalog. */
  private async change(mutate: (draft: Draft) => void): Promise<void> {
    const run = this.writing.then(async () => {
      const draft: Draft = {
        nextId: this.nextId,
        accounts: new Map([...this.accounts].map(([k, v]) => [k, { ...v, users: [...v.users] }])),
        databases: new Map([...this.databases].map(([k, v]) => [k, { ...v }])),
        dropped: [...this.dropped],
      };
      mutate(draft);
      draft.dropped = this.retainedDropped(draft.dropped);
      const content: AccountFileContent = { nextId: draft.nextId, accounts: [...draft.accounts.values()], databases: [...draft.databases.values()], droppedDatabases: draft.dropped };
      await writeAccountFile(this.disk, this.dir, content);
      this.adopt(content);
    });
    this.writing = run.catch(() => undefined);
    await run;
  }

  private adopt(content: AccountFileContent): void {
    this.nextId = content.nextId;
    this.accounts = new Map(content.accounts.map((a) => [a.name, a]));
    this.databases = new Map(content.databases.map((d) => [d.name, d]));
    this.dropped = content.droppedDatabases;
  }

  /** Dropped databases a RESTORE may still ask about: dropped at or after the oldest PITR window start, at most DROPPED_DATABASES_MAX. */
  private retainedDropped(dropped: DroppedDatabaseRecord[]): DroppedDatabaseRecord[] {
    const from = this.historyRetainFromMs();
    const kept = from === undefined ? [] : dropped.filter((d) => d.droppedWallMs >= from);
    return kept.length > DROPPED_DATABASES_MAX ? kept.slice(kept.length - DROPPED_DATABASES_MAX) : kept;
  }
}

/** NAMEDATALEN's rule (src/names.ts), and no "." (it separates database and table) or "/". */
function checkName(kind: string, name: string): void {
  checkObjectName(kind, name);
  if (name.includes('.') || name.includes('/')) throw Errors.invalidArgument(`${kind} name ${describeName(name)}`, 'must not contain "." or "/"');
}

function identity(d: DatabaseRecord): DatabaseIdentity {
  return { id: d.id, name: d.name, account: d.account, accountId: d.accountId };
}

export function isPermissionError(e: unknown): e is MotError {
  return e instanceof MotError && e.sqlstate === '42501';
}

// ---- which login a session has (sessions opened without one are `sys`) ----

const logins = new WeakMap<object, Login>();

export function bindLogin(session: object, login: Login): void {
  logins.set(session, login);
}

export function loginOf(session: object | undefined): Login {
  return (session && logins.get(session)) || SYS_LOGIN;
}
