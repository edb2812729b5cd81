// An optimistic (Silo-style OCC) transaction: reads record the version they saw, writes go to a
// private write set, nothing is logged before commit. Commit locks the write set, validates the read
// set (a changed version or a row locked by another committer aborts with SQLSTATE 40001), takes a
// commit sequence number, serializes the redo, hands it to the redo log handler and, once the mode's
// promise holds (durable for sync/group), applies the writes and releases the locks. So another
// transaction sees these writes only after the commit is acknowledged, as in MOT.

import type { Row, Value } from '../store/schema.js';
import type { Table, SlotId } from '../store/table.js';
import { Errors, MotError, assert } from '../errors.js';
import { RedoOp } from '../redo/redo-format.js';
import type { TransactionHost } from './transaction-host.js';

type PrimKey = string | number | bigint;

const NO_BUFFERS: Uint8Array[] = [];

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
  /** Full row image (insert) or the changed columns (update). */
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

export type TransactionState = 'active' | 'committing' | 'committed' | 'aborted';

export interface CommitResult {
  /** Commit sequence number (0 for a read-only transaction, which logs nothing). */
  csn: number;
  /** Redo entries logged (one per inserted, updated or deleted row). */
  redoEntries: number;
}

export class Transaction {
  private readonly writes = new Map<Table, Map<PrimKey, WriteEntry>>();
  private readonly reads: ReadEntry[] = [];
  private stateValue: TransactionState = 'active';
  /** Table.changeCount of each table when this transaction first looked at it (see unchangedSinceSeen). */
  private firstTable: Table | undefined;
  private firstTableChanges = 0;
  private moreTables: Map<Table, number> | undefined;

  constructor(
    private readonly host: TransactionHost,
    readonly txId: number,
    readonly socket: number,
    private readonly owner: TransactionOwner,
  ) {}

  get state(): TransactionState {
    return this.stateValue;
  }

  // ---- reads ----

  /** The row with this primary key as this transaction sees it, or undefined. */
  get(tableName: string, key: Value | Value[]): Row | undefined {
    const table = this.activeTable(tableName);
    const encKey = table.encodeKey(key);
    const w = this.writes.get(table)?.get(encKey);
    if (w) return this.imageOf(table, w);
    const slot = this.readCommitted(table, key, encKey);
    return slot === undefined ? undefined : table.readRow(slot);
  }

  /** Rows with from <= key <= to (either bound optional), in key order, as this transaction sees them. */
  scan(tableName: string, from?: Value | Value[], to?: Value | Value[], options: { limit?: number } = {}): Row[] {
    const table = this.activeTable(tableName);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const mine = this.writes.get(table);
    const out: Row[] = [];
    const seen = new Set<PrimKey>();
    for (const slot of table.scan(from, to, { toInclusive: true })) {
      const key = table.keyOfSlot(slot);
      const encKey = table.encodeKey(key);
      seen.add(encKey);
      const w = mine?.get(encKey);
      if (w) {
        const img = this.imageOf(table, w);
        if (img) out.push(img);
      } else {
        this.reads.push({ table, key, encKey, slot, version: table.version(slot) });
        out.push(table.readRow(slot));
      }
    }
    if (mine) {
      for (const [encKey, w] of mine) {
        if (w.op === 'insert' && !seen.has(encKey) && inRange(table, w.key, from, to)) out.push({ ...w.row });
      }
      out.sort((a, b) => compareKeys(table.encodeKey(table.keyOf(a)), table.encodeKey(table.keyOf(b))));
    }
    return out.length > limit ? out.slice(0, limit) : out;
  }

  // ---- writes (validated now, applied at commit) ----

  insert(tableName: string, row: Row): void {
    const table = this.activeTable(tableName);
    table.validateRow(row, false);
    const key = table.keyOf(row);
    const encKey = table.encodeKey(key);
    const mine = this.writeSet(table);
    const w = mine.get(encKey);
    if (w && w.op !== 'delete' && w.op !== 'absent') throw Errors.uniqueViolation(table.name, `${table.name}_pkey`, table.formatKey(key));
    if (w?.op === 'absent') {
      mine.set(encKey, { op: 'insert', key, slot: undefined, row: { ...row }, replacesRow: false });
      return;
    }
    if (w) {
      mine.set(encKey, { op: 'update', key, slot: w.slot, row: { ...row }, replacesRow: true });
      return;
    }
    // Not recorded as a read: validateWrites() checks at commit that the key is still absent.
    if (table.lookupEncoded(encKey) !== undefined) throw Errors.uniqueViolation(table.name, `${table.name}_pkey`, table.formatKey(key));
    mine.set(encKey, { op: 'insert', key, slot: undefined, row: { ...row }, replacesRow: false });
  }

  /** Change some columns of the row with this key. Returns false if there is no such row. */
  update(tableName: string, key: Value | Value[], changes: Row): boolean {
    const table = this.activeTable(tableName);
    table.validateRow(changes, true);
    for (const pk of table.schema.def.primaryKey) {
      if (pk in changes) throw Errors.notSupported(`changing primary key column "${pk}" of table "${table.name}" (delete and insert instead)`);
    }
    const encKey = table.encodeKey(key);
    const mine = this.writeSet(table);
    const w = mine.get(encKey);
    if (w) {
      if (w.op === 'delete' || w.op === 'absent') return false;
      Object.assign(w.row, changes);
      return true;
    }
    const slot = this.readCommitted(table, key, encKey);
    if (slot === undefined) return false;
    mine.set(encKey, { op: 'update', key, slot, row: { ...changes }, replacesRow: false });
    return true;
  }

  /** Delete the row with this key. Returns false if there is no such row. */
  delete(tableName: string, key: Value | Value[]): boolean {
    const table = this.activeTable(tableName);
    const encKey = table.encodeKey(key);
    const mine = this.writeSet(table);
    const w = mine.get(encKey);
    if (w) {
      if (w.op === 'delete' || w.op === 'absent') return false;
      if (w.op === 'insert') mine.set(encKey, { op: 'absent', key, slot: undefined, row: {}, replacesRow: false });
      else mine.set(encKey, { op: 'delete', key, slot: w.slot, row: {}, replacesRow: false });
      return true;
    }
    const slot = this.readCommitted(table, key, encKey);
    if (slot === undefined) return false;
    mine.set(encKey, { op: 'delete', key, slot, row: {}, replacesRow: false });
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
      const turn = this.host.commitPacer?.pace();
      if (turn !== undefined) await turn;
    }
  }

  private async commitNow(): Promise<CommitResult> {
    if (this.stateValue !== 'active') throw Errors.invalidState(`transaction ${this.txId} is ${this.stateValue}; it cannot commit`);
    const writeCount = this.countWrites();
    if (writeCount === 0) {
      // Nothing to log. Still serializable: what it read (and any key it inserted then deleted, so
      // saw absent) must be unchanged.
      const conflict =
        this.unchangedSinceSeen() && this.host.locks.count === 0 ? undefined : this.lockConflict() ?? this.validateWrites() ?? this.validateReads();
      if (conflict) return this.abortWith(conflict);
      this.end('committed');
      return { csn: 0, redoEntries: 0 };
    }
    const host = this.host;
    // Everything from here to host.log.commit() runs without yielding, so no other transaction can
    // interleave: checking for conflicting locks now is as good as taking the locks now.
    const conflict =
      host.writeRefusal() ?? this.lockConflict() ?? (this.unchangedSinceSeen() ? undefined : this.validateWrites() ?? this.validateReads());
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
      this.apply(csn);
      this.unlockWriteSet();
    } else {
      this.apply(csn);
    }
    this.end('committed');
    return { csn, redoEntries: writeCount };
  }

  // ---- internals ----

  private activeTable(name: string): Table {
    if (this.stateValue !== 'active') throw Errors.invalidState(`transaction ${this.txId} is ${this.stateValue}; start a new one`);
    const table = this.host.table(name);
    this.noteSeen(table);
    return table;
  }

  /** Remember the table's change count the first time this transaction looks at it. */
  private noteSeen(table: Table): void {
    if (this.firstTable === table) return;
    if (this.firstTable === undefined) {
      this.firstTable = table;
      this.firstTableChanges = table.changeCount;
      return;
    }
    this.moreTables ??= new Map();
    if (!this.moreTables.has(table)) this.moreTables.set(table, table.changeCount);
  }

  /**
   * True if no table this transaction looked at has changed since: then nothing it read can have
   * changed and no key it inserts can have appeared, so optimistic validation has nothing to find.
   */
  private unchangedSinceSeen(): boolean {
    if (this.firstTable !== undefined && this.firstTable.changeCount !== this.firstTableChanges) return false;
    if (this.moreTables) for (const [t, n] of this.moreTables) if (t.changeCount !== n) return false;
    return true;
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
    const slot = table.lookup(key);
    this.reads.push({ table, key, encKey, slot, version: slot === undefined ? 0 : table.version(slot) });
    return slot;
  }

  private imageOf(table: Table, w: WriteEntry): Row | undefined {
    if (w.op === 'delete' || w.op === 'absent') return undefined;
    if (w.op === 'insert' || w.replacesRow) return { ...w.row };
    return { ...table.readRow(w.slot!), ...w.row };
  }

  /** Writes that change something (an 'absent' entry changes nothing and logs nothing). */
  private countWrites(): number {
    if (this.writes.size === 0) return 0;
    let n = 0;
    for (const m of this.writes.values()) for (const w of m.values()) if (w.op !== 'absent') n++;
    return n;
  }

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
  }

  private unlockWriteSet(): void {
    const locks = this.host.locks;
    for (const [table, m] of this.writes) for (const encKey of m.keys()) locks.unlock(table, encKey, this);
  }

  private validateReads(): MotError | undefined {
    const locks = this.host.locks;
    for (const r of this.reads) {
      if (r.table.dropped) return Errors.serializationFailure(r.table.name, r.table.formatKey(r.key));
      const slot = r.table.lookupEncoded(r.encKey);
      const version = slot === undefined ? 0 : r.table.version(slot);
      if (slot !== r.slot || version !== r.version || locks.lockedByOther(r.table, r.encKey, this)) {
        return Errors.serializationFailure(r.table.name, r.table.formatKey(r.key));
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
          return Errors.uniqueViolation(table.name, `${table.name}_pkey`, table.formatKey(w.key));
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

  private apply(csn: number): void {
    const hook = this.host.applyHook;
    for (const [table, m] of this.writes) {
      for (const [encKey, w] of m) {
        if (w.op === 'insert') {
          table.insertReserved(w.reserved!, w.row, csn);
          continue;
        }
        if (w.op === 'absent') continue;
        const slot = table.lookup(w.key);
        assert(slot !== undefined, 'a validated update or delete finds its row');
        hook.beforeRowChange(table, slot, csn); // a running checkpoint saves the row's state at its CSN
        if (w.op === 'delete') {
          hook.rowRemoved(table, w.key, encKey, csn); // the next incremental checkpoint writes a tombstone
          table.remove(slot);
        } else table.update(slot, w.replacesRow ? table.withoutKeyColumns(w.row) : w.row, csn);
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

function keyRow(table: Table, key: Value | Value[]): Row {
  const pk = table.schema.def.primaryKey;
  const row: Row = {};
  if (pk.length === 1) row[pk[0]!] = key as Value;
  else pk.forEach((name, i) => (row[name] = (key as Value[])[i]!));
  return row;
}


function compareKeys(a: PrimKey, b: PrimKey): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function inRange(table: Table, key: Value | Value[], from?: Value | Value[], to?: Value | Value[]): boolean {
  const k = table.encodeKey(key);
  if (from !== undefined && compareKeys(k, table.encodeKey(from)) < 0) return false;
  if (to !== undefined && compareKeys(k, table.encodeKey(to)) > 0) return false;
  return true;
}
