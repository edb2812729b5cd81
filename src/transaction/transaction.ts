// An optimistic (Silo-style OCC) transaction: reads record the version they saw, scans the range
// they covered, writes go to a private write set, nothing is logged before commit. Commit validates
// in one synchronous step (the write set's keys not locked by another committer, inserted keys still
// absent, every read row unchanged, every scanned range holding the same rows, unique-index keys
// free), takes a commit sequence number, serializes the redo, hands it to the redo log handler and,
// once the mode's promise holds (durable for sync/group), applies the writes and releases its locks.
// So another transaction sees these writes only after the commit is acknowledged, as in MOT.
//
// Invariants: committed transactions are serializable in CSN order, scans included; every check
// that can refuse a transaction runs before its redo is handed to the log, so a record in the WAL
// always replays; a transaction never reads a row other than the one its key names.

import type { Row, Value } from '../store/schema.js';
import type { KeyRange, SlotId, Table } from '../store/table.js';
import { checkScanLimit } from '../store/table.js';
import { columnValue } from '../store/column-access.js';
import { Errors, MotError, assert } from '../errors.js';
import { RedoOp } from '../redo/redo-format.js';
import type { TransactionHost } from './transaction-host.js';

type PrimKey = string | number | bigint;

const NO_BUFFERS: Uint8Array[] = [];
/** A unique-index key a committing transaction locks: index `index` (a position in Table.uniqueIndexNames) of `table`. */
interface UniqueLock {
  table: Table;
  index: number;
  key: string;
}
const NO_UNIQUE_LOCKS: readonly UniqueLock[] = [];

/** Who is told when a transaction ends (its session, which then accepts a new one). */
export interface TransactionOwner {
  transactionEnded(tx: Transaction): void;
}

interface WriteEntry {
  /**
   * 'absent': this transaction inserted the key and then deleted it. Nothing is logged or applied,
   * but the transaction saw the key absent, so it must still be absent at commit (else 40001).
   */
  op: 'insert' | 'update' | 'delete' | 'absent';
  key: Value | Value[];
  /** Slot of the committed row this entry changes (update/delete, or insert over a row deleted in this transaction). */
  slot: SlotId | undefined;
  /** That row's version when this transaction read it. */
  version: number;
  /** Full row image (insert, or update with replacesRow) or the changed columns (update). */
  row: Row;
  /** Insert over a row this transaction deleted: logged and applied as an update of every column. */
  replacesRow: boolean;
  /** Insert: the slot reserved for the row before the redo was logged (so memory cannot run out after). */
  reserved?: SlotId;
}

interface ReadEntry {
  table: Table;
  key: Value | Value[];
  encKey: PrimKey;
  slot: SlotId | undefined;
  version: number;
}

/** A range this transaction scanned, and how many committed rows it held then (a phantom changes it). */
interface ScanEntry {
  table: Table;
  range: KeyRange;
  rows: number;
}

/** The unique-index keys this transaction's final rows hold in one table. */
interface UniqueClaims {
  /** `${index}:${key}` -> primary key of the row of this transaction that holds it. */
  byKey: Map<string, PrimKey>;
  /** Primary key -> the `${index}:${key}` strings its row holds. */
  byRow: Map<PrimKey, string[]>;
}

/** What a transaction noted about a table when it first looked at it. */
interface SeenTable {
  changes: number;
  schemaVersion: number;
}

export type TransactionState = 'active' | 'committing' | 'committed' | 'aborted';

export interface CommitResult {
  /** Commit sequence number (0 for a read-only transaction, which logs nothing). */
  csn: number;
  /** Redo entries logged (one per inserted, updated or deleted row). */
  redoEntries: number;
  /**
   * Every read this transaction made equals the committed state after the transactions with a CSN
   * at or below this one, in CSN order (csn - 1 for a writing transaction; for a read-only one, the
   * last CSN assigned when it committed): its place in the serial order.
   */
  snapshotCsn: number;
}

export class Transaction {
  private readonly writes = new Map<Table, Map<PrimKey, WriteEntry>>();
  private readonly reads: ReadEntry[] = [];
  private readonly scans: ScanEntry[] = [];
  private readonly claims = new Map<Table, UniqueClaims>();
  /**
   * Every unique-index key a statement of this transaction found free (`${index}:${key}` per table),
   * claimed then or not: an observation like a key found absent, validated at commit even when a
   * later statement moved the row off it (its claim is gone, the answer it gave is not). With each,
   * the committed rows that held it then and that this transaction's own writes freed (usually none):
   * only those may still hold it at commit. A row another transaction moved onto the key afterwards
   * does not become "mine" because this transaction writes it later (crash-test seed 376).
   */
  private readonly uniqueSeenFree = new Map<Table, Map<string, readonly SlotId[]>>();
  /** Unique-index keys locked while the commit waits for its flush. */
  private uniqueLocks: readonly UniqueLock[] = NO_UNIQUE_LOCKS;
  private stateValue: TransactionState = 'active';
  private csnValue: number | undefined;
  /**
   * Table.changeCount (see quiet()) and Table.schemaVersion of each table when this transaction first
   * looked at it. A table whose indexes changed since (CREATE/DROP INDEX) ends the transaction at its
   * next statement on the table or at commit, with 40001: its unique-key checks and claims were made
   * against the indexes it saw then (see schemaChanged()).
   */
  private firstTable: Table | undefined;
  private firstTableChanges = 0;
  private firstTableSchema = 0;
  private moreTables: Map<Table, SeenTable> | undefined;

  constructor(
    private readonly host: TransactionHost,
    readonly txId: number,
    readonly socket: number,
    private readonly owner: TransactionOwner,
  ) {}

  get state(): TransactionState {
    return this.stateValue;
  }

  /**
   * The CSN it committed at, once its writes are applied and visible to other transactions (0 for a
   * read-only commit); undefined before. Set before commit() answers: a commit that is visible but
   * not yet answered (its session waits for the event loop's turn, CommitPacer) already has one.
   */
  get csn(): number | undefined {
    return this.csnValue;
  }

  // ---- reads ----

  /** The row with this primary key as this transaction sees it, or undefined. */
  get(tableName: string, key: Value | Value[]): Row | undefined {
    const table = this.activeTable(tableName);
    const encKey = table.encodeKey(key);
    const w = this.writes.get(table)?.get(encKey);
    if (w) return this.imageOf(table, encKey, w);
    const slot = this.readCommitted(table, key, encKey);
    return slot === undefined ? undefined : table.readRow(slot);
  }

  /**
   * Rows with from <= key <= to (either bound optional; a composite prefix covers every key starting
   * with it), in key order, as this transaction sees them; at most `limit`. The range read (up to the
   * last row returned when the limit cut it short) is validated at commit: a row inserted into it
   * by another transaction meanwhile aborts this one (no phantoms).
   */
  scan(tableName: string, from?: Value | Value[], to?: Value | Value[], options: { limit?: number } = {}): Row[] {
    const table = this.activeTable(tableName);
    if (options === null || typeof options !== 'object') throw Errors.invalidArgument(`scan options for table "${table.name}"`, 'must be an object');
    const limit = checkScanLimit(table.name, options.limit);
    const range = table.encodeRange(from, to, true);
    const mine = this.writes.get(table);
    // This transaction's own inserts in range (not in the committed index), merged in key order.
    const own: [PrimKey, WriteEntry][] = [];
    if (mine) {
      for (const [encKey, w] of mine) if (w.op === 'insert' && table.inRange(encKey, range)) own.push([encKey, w]);
      own.sort((a, b) => table.compareEncodedKeys(a[0], b[0]));
    }
    const out: Row[] = [];
    let next = 0;
    let last: PrimKey | undefined;
    let committedRows = 0;
    const ownBefore = (key: PrimKey | undefined): void => {
      while (next < own.length && out.length < limit && (key === undefined || table.compareEncodedKeys(own[next]![0], key) < 0)) {
        out.push({ ...own[next]![1].row });
        last = own[next]![0];
        next++;
      }
    };
    if (limit > 0) {
      for (const [encKey, slot] of table.scanPairs(range)) {
        ownBefore(encKey);
        if (out.length >= limit) break;
        committedRows++;
        last = encKey;
        const w = mine?.get(encKey);
        if (w) {
          // An own insert of a key that appeared since is emitted from `own` (and fails validation).
          const img = w.op === 'insert' ? undefined : this.imageOf(table, encKey, w);
          if (img) out.push(img);
        } else {
          this.reads.push({ table, key: table.keyOfSlot(slot), encKey, slot, version: table.version(slot) });
          out.push(table.readRow(slot));
        }
        if (out.length >= limit) break;
      }
      ownBefore(undefined);
    }
    if (limit === 0) return out; // nothing was read
    // Cut short by the limit: what was read ends at the last row returned.
    const cut = out.length >= limit && last !== undefined;
    this.scans.push({ table, range: cut ? { lo: range.lo, hi: last, hiInclusive: true } : range, rows: committedRows });
    return out;
  }

  // ---- writes (checked now, applied at commit) ----

  insert(tableName: string, row: Row): void {
    const table = this.activeTable(tableName);
    const clean = table.schema.normalizeRow(row, false);
    const key = table.keyOf(clean);
    const encKey = table.encodeKey(key);
    const mine = this.writeSet(table);
    const w = mine.get(encKey);
    if (w && w.op !== 'delete' && w.op !== 'absent') throw Errors.uniqueViolation(table.name, table.schema.primaryKeyName, table.formatKey(key));
    let entry: WriteEntry;
    if (w?.op === 'delete') {
      entry = { op: 'update', key, slot: w.slot, version: w.version, row: clean, replacesRow: true };
    } else if (w?.op === 'absent') {
      entry = { op: 'insert', key, slot: undefined, version: 0, row: clean, replacesRow: false };
    } else {
      // Not in the write set: the key must be absent from the committed rows. Either way this is a
      // read: a refused insert saw the row (validated at commit like any read), an accepted one saw
      // the key absent (validateWrites() checks at commit that it still is).
      const slot = table.lookupEncoded(encKey);
      if (slot !== undefined) {
        this.reads.push({ table, key, encKey, slot, version: table.version(slot) });
        throw Errors.uniqueViolation(table.name, table.schema.primaryKeyName, table.formatKey(key));
      }
      entry = { op: 'insert', key, slot: undefined, version: 0, row: clean, replacesRow: false };
      try {
        this.claimUniqueKeys(table, encKey, entry);
      } catch (e) {
        // Refused for a unique index: the answer still says the primary key was free, a read.
        this.reads.push({ table, key, encKey, slot: undefined, version: 0 });
        throw e;
      }
      mine.set(encKey, entry);
      return;
    }
    this.claimUniqueKeys(table, encKey, entry);
    mine.set(encKey, entry);
  }

  /** Change some columns of the row with this key. Returns false if there is no such row. */
  update(tableName: string, key: Value | Value[], changes: Row): boolean {
    const table = this.activeTable(tableName);
    const clean = table.schema.normalizeRow(changes, true);
    for (const pk of table.schema.def.primaryKey) {
      if (columnValue(clean, pk) !== undefined) throw Errors.notSupported(`changing primary key column "${pk}" of table "${table.name}" (delete and insert instead)`);
    }
    const encKey = table.encodeKey(key);
    const mine = this.writeSet(table);
    const w = mine.get(encKey);
    let entry: WriteEntry;
    if (w) {
      if (w.op === 'delete' || w.op === 'absent') return false;
      entry = { ...w, row: { ...w.row, ...clean } };
    } else {
      const slot = this.readCommitted(table, key, encKey);
      if (slot === undefined) return false;
      entry = { op: 'update', key, slot, version: table.version(slot), row: clean, replacesRow: false };
    }
    this.claimUniqueKeys(table, encKey, entry);
    mine.set(encKey, entry);
    return true;
  }

  /** Delete the row with this key. Returns false if there is no such row. */
  delete(tableName: string, key: Value | Value[]): boolean {
    const table = this.activeTable(tableName);
    const encKey = table.encodeKey(key);
    const mine = this.writeSet(table);
    const w = mine.get(encKey);
    let entry: WriteEntry;
    if (w) {
      if (w.op === 'delete' || w.op === 'absent') return false;
      entry =
        w.op === 'insert'
          ? { op: 'absent', key, slot: undefined, version: 0, row: {}, replacesRow: false }
          : { op: 'delete', key, slot: w.slot, version: w.version, row: {}, replacesRow: false };
    } else {
      const slot = this.readCommitted(table, key, encKey);
      if (slot === undefined) return false;
      entry = { op: 'delete', key, slot, version: table.version(slot), row: {}, replacesRow: false };
    }
    this.claimUniqueKeys(table, encKey, entry);
    mine.set(encKey, entry);
    return true;
  }

  // ---- end ----

  rollback(): void {
    if (this.stateValue !== 'active') return;
    this.end('aborted');
  }

  /**
   * Commit: validate, log, apply (see the file header). Committed or not, the caller gets its answer
   * only after the event loop had a turn if one is due (CommitPacer), so a session committing in a
   * tight loop cannot starve the engine's timers.
   */
  async commit(): Promise<CommitResult> {
    try {
      return await this.commitNow();
    } finally {
      const turn = this.host.commitPacer.pace();
      if (turn !== undefined) await turn;
    }
  }

  private async commitNow(): Promise<CommitResult> {
    if (this.stateValue !== 'active') throw Errors.invalidState(`transaction ${this.txId} is ${this.stateValue}; it cannot commit`);
    const writeCount = this.countWrites();
    if (writeCount === 0) {
      // Nothing to log. Still serializable: what it read (and any key it inserted then deleted, so
      // saw absent) must be unchanged.
      const conflict = this.quiet() ? undefined : this.lockConflict() ?? this.validateWrites() ?? this.validateReads();
      if (conflict) return this.abortWith(conflict);
      this.csnValue = 0;
      this.end('committed');
      return { csn: 0, redoEntries: 0, snapshotCsn: this.host.lastCsn() };
    }
    const host = this.host;
    // Everything from here to host.log.commit() runs without yielding, so no other transaction can
    // interleave: checking for conflicting locks now is as good as taking the locks now.
    const conflict =
      host.writeRefusal() ??
      (this.quiet() ? undefined : this.lockConflict() ?? this.validateWrites() ?? this.validateReads()) ??
      this.checkUniqueKeys();
    if (conflict) return this.abortWith(conflict);
    const csn = host.nextCsn();
    let buffers: Uint8Array[] = NO_BUFFERS;
    if (host.log.mode !== 'off') {
      try {
        buffers = this.encodeRedo(csn);
      } catch (e) {
        return this.abortWith(e);
      }
    }
    const outOfMemory = this.reserveSlots();
    if (outOfMemory) return this.abortWith(outOfMemory);
    this.stateValue = 'committing';
    const logged = host.log.commit(buffers, this.socket);
    if (logged) {
      // The commit waits for the flush: hold the write set's locks until the writes are applied, so
      // a conflicting writer or reader aborts instead of missing this transaction.
      this.lockWriteSet();
      try {
        await logged;
      } catch (e) {
        this.unlockWriteSet();
        this.releaseSlots();
        return this.abortWith(e);
      }
      try {
        this.apply(csn);
      } catch (e) {
        return this.abortWith(host.applyFailed(this.txId, e));
      } finally {
        this.unlockWriteSet();
      }
    } else {
      try {
        this.apply(csn);
      } catch (e) {
        return this.abortWith(host.applyFailed(this.txId, e));
      }
    }
    this.csnValue = csn;
    this.end('committed');
    return { csn, redoEntries: writeCount, snapshotCsn: csn - 1 };
  }

  // ---- internals ----

  private activeTable(name: string): Table {
    if (this.stateValue !== 'active') throw Errors.invalidState(`transaction ${this.txId} is ${this.stateValue}; start a new one`);
    const table = this.host.table(name);
    if (this.noteSeen(table) !== table.schemaVersion) {
      this.end('aborted');
      throw schemaChanged(table);
    }
    return table;
  }

  /**
   * Remember the table's change count and schema version the first time this transaction looks at
   * it; returns the schema version it noted.
   */
  private noteSeen(table: Table): number {
    if (this.firstTable === table) return this.firstTableSchema;
    if (this.firstTable === undefined) {
      this.firstTable = table;
      this.firstTableChanges = table.changeCount;
      this.firstTableSchema = table.schemaVersion;
      return this.firstTableSchema;
    }
    this.moreTables ??= new Map();
    let seen = this.moreTables.get(table);
    if (seen === undefined) this.moreTables.set(table, (seen = { changes: table.changeCount, schemaVersion: table.schemaVersion }));
    return seen.schemaVersion;
  }

  /**
   * True if optimistic validation has nothing to find: no table this transaction looked at has
   * changed since (so no row it read changed, no key it inserted appeared, no scanned range gained a
   * row) AND no other transaction holds a commit lock (so none with a smaller CSN is still waiting to
   * apply writes this transaction should have seen: such a committer has changed nothing yet, which
   * is exactly why the change counts alone cannot see it).
   */
  private quiet(): boolean {
    if (this.host.locks.count !== 0) return false;
    if (this.firstTable !== undefined && this.firstTable.changeCount !== this.firstTableChanges) return false;
    if (this.moreTables) for (const [t, seen] of this.moreTables) if (t.changeCount !== seen.changes) return false;
    return true;
  }

  /** Every table this transaction looked at, with the schema version it noted. */
  private *seenTables(): Generator<[Table, number]> {
    if (this.firstTable !== undefined) yield [this.firstTable, this.firstTableSchema];
    if (this.moreTables) for (const [t, seen] of this.moreTables) yield [t, seen.schemaVersion];
  }

  private writeSet(table: Table): Map<PrimKey, WriteEntry> {
    let m = this.writes.get(table);
    if (!m) {
      m = new Map();
      this.writes.set(table, m);
    }
    return m;
  }

  /** Look up the committed row and remember what was seen, for validation at commit. */
  private readCommitted(table: Table, key: Value | Value[], encKey: PrimKey): SlotId | undefined {
    const slot = table.lookupEncoded(encKey);
    this.reads.push({ table, key, encKey, slot, version: slot === undefined ? 0 : table.version(slot) });
    return slot;
  }

  /**
   * The row a write entry leaves, as this transaction sees it. An update of a committed row merges
   * its changes into that row, which must still be the row (and version) this transaction read: if
   * another transaction changed or removed it meanwhile (its slot may even hold another row now),
   * this transaction cannot commit, and it ends here with 40001.
   */
  private imageOf(table: Table, encKey: PrimKey, w: WriteEntry): Row | undefined {
    if (w.op === 'delete' || w.op === 'absent') return undefined;
    if (w.op === 'insert' || w.replacesRow) return { ...w.row };
    return { ...table.readRow(this.stillRead(table, encKey, w)), ...w.row };
  }

  /** The slot of the committed row an update/delete entry read, if unchanged; else abort with 40001. */
  private stillRead(table: Table, encKey: PrimKey, w: WriteEntry): SlotId {
    const slot = table.lookupEncoded(encKey);
    if (slot === undefined || slot !== w.slot || table.version(slot) !== w.version) {
      this.end('aborted');
      throw Errors.serializationFailure(table.name, table.formatKey(w.key));
    }
    return slot;
  }

  /** Writes that change something (an 'absent' entry changes nothing and logs nothing). */
  private countWrites(): number {
    if (this.writes.size === 0) return 0;
    let n = 0;
    for (const m of this.writes.values()) for (const w of m.values()) if (w.op !== 'absent') n++;
    return n;
  }

  // ---- unique secondary indexes ----

  /**
   * Statement time: the unique-index keys of the row `entry` leaves must not be held by another row
   * of this transaction, nor by a committed row this transaction does not delete or move off that
   * key. A refusal is a read of the committed holder (validated at commit like any read), and the
   * keys of the unique indexes checked before the refusing one were found free: the refusal names
   * the first index that refuses, so those are observations too (with two unique indexes refusing a
   * row, a key taken meanwhile in the first would change the answer).
   */
  private claimUniqueKeys(table: Table, encKey: PrimKey, entry: WriteEntry): void {
    const uniques = table.uniqueIndexNames;
    if (uniques.length === 0) return;
    let claims = this.claims.get(table);
    const image = this.imageOf(table, encKey, entry);
    const keys = image === undefined ? [] : table.uniqueKeysOf(image);
    const wanted: string[] = [];
    const freedHolders: (readonly SlotId[])[] = [];
    for (let u = 0; u < keys.length; u++) {
      const key = keys[u];
      if (key === undefined) continue;
      const tag = `${u}:${key}`;
      const holder = claims?.byKey.get(tag);
      if (holder !== undefined && holder !== encKey) {
        this.noteSeenFree(table, wanted, freedHolders);
        throw Errors.uniqueViolation(table.name, uniques[u]!, table.formatUniqueKey(u, image!));
      }
      const holders = table.uniqueHolders(u, key);
      const committed = this.committedHolder(table, holders, encKey, tag);
      if (committed !== undefined) {
        this.reads.push({ table, key: table.keyOfSlot(committed), encKey: table.primaryKeyOfSlot(committed), slot: committed, version: table.version(committed) });
        this.noteSeenFree(table, wanted, freedHolders);
        throw Errors.uniqueViolation(table.name, uniques[u]!, table.formatUniqueKey(u, image!));
      }
      wanted.push(tag);
      freedHolders.push(holders); // every holder was this row or freed by this transaction
    }
    this.noteSeenFree(table, wanted, freedHolders);
    if (claims === undefined) {
      if (wanted.length === 0) return;
      claims = { byKey: new Map(), byRow: new Map() };
      this.claims.set(table, claims);
    }
    for (const tag of claims.byRow.get(encKey) ?? []) claims.byKey.delete(tag);
    for (const tag of wanted) claims.byKey.set(tag, encKey);
    if (wanted.length > 0) claims.byRow.set(encKey, wanted);
    else claims.byRow.delete(encKey);
  }

  /**
   * Unique-index keys (`${index}:${key}`) a statement found free, each with the committed rows that
   * held it then (freed by this transaction's writes): validated at commit (validateReads).
   */
  private noteSeenFree(table: Table, tags: readonly string[], freedHolders: readonly (readonly SlotId[])[]): void {
    if (tags.length === 0) return;
    let seen = this.uniqueSeenFree.get(table);
    if (seen === undefined) this.uniqueSeenFree.set(table, (seen = new Map()));
    for (let i = 0; i < tags.length; i++) {
      const before = seen.get(tags[i]!);
      const now = freedHolders[i]!;
      // Seen free twice: a holder counts as freed only if it was freed both times.
      seen.set(tags[i]!, before === undefined ? now : before.filter((slot) => now.includes(slot)));
    }
  }

  /**
   * Of the committed rows holding a unique key (`holders`, Table.uniqueHolders; `tag` names the key),
   * one that stays on it when this transaction commits: not the row `encKey` itself, not a row this
   * transaction deletes or whose final image holds another key (`tag` not claimed by it).
   */
  private committedHolder(table: Table, holders: readonly SlotId[], encKey: PrimKey, tag: string): SlotId | undefined {
    const mine = this.writes.get(table);
    const claims = this.claims.get(table);
    for (const slot of holders) {
      const holderKey = table.primaryKeyOfSlot(slot);
      if (holderKey === encKey) continue;
      const w = mine?.get(holderKey);
      const freed = w !== undefined && (w.op === 'delete' || w.op === 'update') && claims?.byKey.get(tag) !== holderKey;
      if (!freed) return slot;
    }
    return undefined;
  }

  /**
   * Commit time, in the synchronous step before the redo is logged: every unique key this
   * transaction's rows claim is free in the committed rows (as at statement time, against what
   * committed since) and not locked by another committer. Remembers the keys, to lock them.
   */
  private checkUniqueKeys(): MotError | undefined {
    if (this.claims.size === 0) return undefined; // uniqueLocks stays empty
    const locks = this.host.locks;
    const wanted: UniqueLock[] = [];
    for (const [table, claims] of this.claims) {
      const uniques = table.uniqueIndexNames;
      for (const [tag, encKey] of claims.byKey) {
        const { u, key } = parseUniqueTag(tag);
        const w = this.writes.get(table)!.get(encKey)!;
        if (locks.uniqueLockedByOther(table, u, key, this)) return Errors.serializationFailure(table.name, table.formatKey(w.key));
        if (this.committedHolder(table, table.uniqueHolders(u, key), encKey, tag) !== undefined) {
          return Errors.uniqueViolation(table.name, uniques[u]!, table.formatUniqueKey(u, this.imageOf(table, encKey, w)!));
        }
        wanted.push({ table, index: u, key });
      }
    }
    this.uniqueLocks = wanted;
    return undefined;
  }

  // ---- validation and locks ----

  /** A row of the write set locked by another committing transaction, as a serialization failure. */
  private lockConflict(): MotError | undefined {
    const locks = this.host.locks;
    if (locks.count === 0) return undefined;
    for (const [table, m] of this.writes) {
      for (const [encKey, w] of m) {
        if (locks.lockedByOther(table, encKey, this)) return Errors.serializationFailure(table.name, table.formatKey(w.key));
      }
    }
    return undefined;
  }

  private lockWriteSet(): void {
    const locks = this.host.locks;
    for (const [table, m] of this.writes) {
      for (const encKey of m.keys()) {
        const got = locks.tryLock(table, encKey, this);
        assert(got, 'write-set locks are free: lockConflict() ran in the same synchronous step');
      }
    }
    for (const l of this.uniqueLocks) {
      const got = locks.tryLockUnique(l.table, l.index, l.key, this);
      assert(got, 'unique-key locks are free: checkUniqueKeys() ran in the same synchronous step');
    }
  }

  private unlockWriteSet(): void {
    const locks = this.host.locks;
    for (const [table, m] of this.writes) for (const encKey of m.keys()) locks.unlock(table, encKey, this);
    for (const l of this.uniqueLocks) locks.unlockUnique(l.table, l.index, l.key, this);
  }

  private validateReads(): MotError | undefined {
    const locks = this.host.locks;
    // Every statement found its table: it must still exist with the indexes it had, and no DDL may be rewriting it.
    for (const [t, schemaVersion] of this.seenTables()) {
      if (t.dropped || locks.tableLockedByOther(t, this)) return Errors.serializationFailure(t.name, '(the table was dropped or truncated meanwhile)');
      if (t.schemaVersion !== schemaVersion) return schemaChanged(t);
    }
    for (const r of this.reads) {
      if (r.table.dropped) return Errors.serializationFailure(r.table.name, r.table.formatKey(r.key));
      const slot = r.table.lookupEncoded(r.encKey);
      const version = slot === undefined ? 0 : r.table.version(slot);
      if (slot !== r.slot || version !== r.version || locks.lockedByOther(r.table, r.encKey, this)) {
        return Errors.serializationFailure(r.table.name, r.table.formatKey(r.key));
      }
    }
    for (const [table, seen] of this.uniqueSeenFree) {
      // A unique key found free must still be free of committed rows, but for those this transaction
      // had freed when it looked (and still writes).
      const mine = this.writes.get(table);
      for (const [tag, freed] of seen) {
        const { u, key } = parseUniqueTag(tag);
        const taken =
          locks.uniqueLockedByOther(table, u, key, this) ||
          table.uniqueHolders(u, key).some((slot) => !freed.includes(slot) || mine?.get(table.primaryKeyOfSlot(slot)) === undefined);
        if (taken) return Errors.serializationFailure(table.name, `(a unique key of index "${table.uniqueIndexNames[u]}" it found free was taken meanwhile)`);
      }
    }
    for (const s of this.scans) {
      // Every row the scan returned is checked above; a range holding as many rows as then holds no new one.
      if (s.table.dropped || locks.lockedInRangeByOther(s.table, s.range, this) || s.table.countRange(s.range) !== s.rows) {
        return Errors.serializationFailure(s.table.name, `range scanned (a row was inserted into it, or is being written)`);
      }
    }
    return undefined;
  }

  /** Inserted keys must still be absent (a concurrent committer may have inserted one since). */
  private validateWrites(): MotError | undefined {
    for (const [table, m] of this.writes) {
      if (table.dropped) return Errors.tableNotFound(table.name);
      for (const [encKey, w] of m) {
        if (w.op === 'insert' && table.lookupEncoded(encKey) !== undefined) {
          return Errors.uniqueViolation(table.name, table.schema.primaryKeyName, table.formatKey(w.key));
        }
        if (w.op === 'absent' && table.lookupEncoded(encKey) !== undefined) {
          return Errors.serializationFailure(table.name, table.formatKey(w.key));
        }
      }
    }
    return undefined;
  }

  private encodeRedo(csn: number): Uint8Array[] {
    const enc = this.host.redoEncoder;
    enc.reset();
    for (const [table, m] of this.writes) {
      const cols = table.schema.def.columns;
      const isKey = table.schema.isKeyColumn;
      for (const w of m.values()) {
        if (w.op === 'absent') continue;
        if (w.op === 'insert') enc.addRow(RedoOp.CREATE_ROW, table.id, cols, w.row, null);
        else if (w.op === 'delete') enc.addRow(RedoOp.REMOVE_ROW, table.id, cols, keyRow(table, w.key), isKey);
        else enc.addRow(RedoOp.UPDATE_ROW, table.id, cols, { ...w.row, ...keyRow(table, w.key) }, null);
      }
    }
    return enc.finish(this.txId, csn, this.host.clock.wallMs());
  }

  /**
   * Apply the validated writes with version `csn`. Unique keys were checked for the whole
   * transaction (checkUniqueKeys), so rows may pass through a value another of its rows is leaving.
   */
  private apply(csn: number): void {
    const hook = this.host.applyHook;
    for (const [table, m] of this.writes) {
      for (const [encKey, w] of m) {
        if (w.op === 'insert') {
          table.insertReserved(w.reserved!, w.row, csn, true);
          continue;
        }
        if (w.op === 'absent') continue;
        const slot = table.lookupEncoded(encKey);
        assert(slot !== undefined, 'a validated update or delete finds its row');
        hook.beforeRowChange(table, slot, csn); // a running checkpoint saves the row's state at its CSN
        if (w.op === 'delete') {
          hook.rowRemoved(table, w.key, encKey, csn); // the next incremental checkpoint writes a tombstone
          table.remove(slot);
        } else table.update(slot, w.replacesRow ? table.withoutKeyColumns(w.row) : w.row, csn, true);
      }
    }
    hook.applied(csn);
  }

  /** Reserve the slots of every inserted row; on failure release them and return the error. */
  private reserveSlots(): unknown {
    for (const [table, m] of this.writes) {
      for (const w of m.values()) {
        if (w.op !== 'insert') continue;
        try {
          w.reserved = table.reserveSlot(this.socket);
        } catch (e) {
          this.releaseSlots();
          return e;
        }
      }
    }
    return undefined;
  }

  private releaseSlots(): void {
    for (const [table, m] of this.writes) {
      for (const w of m.values()) {
        if (w.reserved !== undefined) table.releaseReservedSlot(w.reserved);
        w.reserved = undefined;
      }
    }
  }

  private abortWith(e: unknown): never {
    this.end('aborted');
    throw e;
  }

  private end(state: 'committed' | 'aborted'): void {
    this.stateValue = state;
    this.owner.transactionEnded(this);
  }
}

/** 40001 for a transaction that used a table before CREATE or DROP INDEX changed its indexes. */
function schemaChanged(table: Table): MotError {
  return Errors.serializationFailure(table.name, '(its indexes changed (CREATE/DROP INDEX) since this transaction first used it)');
}

function keyRow(table: Table, key: Value | Value[]): Row {
  const pk = table.schema.def.primaryKey;
  const row: Row = {};
  if (pk.length === 1) row[pk[0]!] = key as Value;
  else pk.forEach((name, i) => (row[name] = (key as Value[])[i]!));
  return row;
}

/** The unique index (its position among the table's unique indexes) and encoded key of a `${index}:${key}` tag. */
function parseUniqueTag(tag: string): { u: number; key: string } {
  const colon = tag.indexOf(':');
  return { u: Number(tag.slice(0, colon)), key: tag.slice(colon + 1) };
}
