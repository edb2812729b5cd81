// Commit-time locks (Silo's write-set locks). A committing transaction holds them from validation
// until its redo is durable and its writes are applied: the primary keys it writes, the unique-index
// keys it claims or frees, and, for TRUNCATE/DROP, the whole table. A reader that validates against
// a locked key or table, or a writer that finds one locked, aborts (no waiting, so no deadlock and no
// unbounded wait). So two transactions that touch the same key are ordered the same way by their
// commit sequence numbers, by the log, and by the order their writes reach memory.

import type { Table, KeyRange } from '../store/table.js';

type Owner = object;
type PrimKey = string | number | bigint;

export class LockTable {
  private readonly byTable = new Map<Table, Map<PrimKey, Owner>>();
  /** Unique-index keys, per table, as `${index position}:${index key}`. */
  private readonly byUniqueKey = new Map<Table, Map<string, Owner>>();
  /** Tables locked whole by a DDL transaction waiting for its flush. */
  private readonly tables = new Map<Table, Owner>();
  private held = 0;

  tryLock(table: Table, key: PrimKey, owner: Owner): boolean {
    return this.take(this.byTable, table, key, owner);
  }

  unlock(table: Table, key: PrimKey, owner: Owner): void {
    this.give(this.byTable, table, key, owner);
  }

  lockedByOther(table: Table, key: PrimKey, owner: Owner): boolean {
    const cur = this.byTable.get(table)?.get(key);
    return (cur !== undefined && cur !== owner) || this.tableLockedByOther(table, owner);
  }

  /** Whether another owner holds the key of a row in `range`, or the table (a scan's phantom check). */
  lockedInRangeByOther(table: Table, range: KeyRange, owner: Owner): boolean {
    if (this.tableLockedByOther(table, owner)) return true;
    const m = this.byTable.get(table);
    if (m === undefined) return false;
    for (const [key, cur] of m) if (cur !== owner && table.inRange(key, range)) return true;
    return false;
  }

  tryLockUnique(table: Table, index: number, key: string, owner: Owner): boolean {
    return this.take(this.byUniqueKey, table, `${index}:${key}`, owner);
  }

  unlockUnique(table: Table, index: number, key: string, owner: Owner): void {
    this.give(this.byUniqueKey, table, `${index}:${key}`, owner);
  }

  uniqueLockedByOther(table: Table, index: number, key: string, owner: Owner): boolean {
    const cur = this.byUniqueKey.get(table)?.get(`${index}:${key}`);
    return cur !== undefined && cur !== owner;
  }

  /** Lock a whole table (TRUNCATE, DROP): refused while any key of it is locked or another owner has it. */
  tryLockTable(table: Table, owner: Owner): boolean {
    const cur = this.tables.get(table);
    if (cur !== undefined) return cur === owner;
    if (this.heldOn(table) > 0) return false;
    this.tables.set(table, owner);
    this.held++;
    return true;
  }

  unlockTable(table: Table, owner: Owner): void {
    if (this.tables.get(table) !== owner) return;
    this.tables.delete(table);
    this.held--;
  }

  tableLockedByOther(table: Table, owner: Owner): boolean {
    const cur = this.tables.get(table);
    return cur !== undefined && cur !== owner;
  }

  /** Locks of every kind currently held by committing transactions. */
  get count(): number {
    return this.held;
  }

  /** Locks held on a table's keys and on the table itself (TRUNCATE/DROP/VACUUM need none). */
  heldOn(table: Table): number {
    return (this.byTable.get(table)?.size ?? 0) + (this.byUniqueKey.get(table)?.size ?? 0) + (this.tables.has(table) ? 1 : 0);
  }

  private take<K>(maps: Map<Table, Map<K, Owner>>, table: Table, key: K, owner: Owner): boolean {
    let m = maps.get(table);
    if (!m) {
      m = new Map();
      maps.set(table, m);
    }
    const cur = m.get(key);
    if (cur !== undefined) return cur === owner;
    m.set(key, owner);
    this.held++;
    return true;
  }

  private give<K>(maps: Map<Table, Map<K, Owner>>, table: Table, key: K, owner: Owner): void {
    const m = maps.get(table);
    if (m && m.get(key) === owner) {
      m.delete(key);
      this.held--;
      if (m.size === 0) maps.delete(table);
    }
  }
}
