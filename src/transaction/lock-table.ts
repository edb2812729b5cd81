// Commit-time row locks (Silo's write-set locks). A committing transaction holds the locks of its
// write set from validation until its redo is durable and its writes are applied; a reader that
// validates against a locked row, or a writer that finds it locked, aborts (no waiting, so no
// deadlock and no unbounded wait).

import type { Table } from '../store/table.js';

type Owner = object;
type PrimKey = string | number | bigint;

export class LockTable {
  private readonly byTable = new Map<Table, Map<PrimKey, Owner>>();
  private held = 0;

  tryLock(table: Table, key: PrimKey, owner: Owner): boolean {
    let m = this.byTable.get(table);
    if (!m) {
      m = new Map();
      this.byTable.set(table, m);
    }
    const cur = m.get(key);
    if (cur !== undefined) return cur === owner;
    m.set(key, owner);
    this.held++;
    return true;
  }

  unlock(table: Table, key: PrimKey, owner: Owner): void {
    const m = this.byTable.get(table);
    if (m && m.get(key) === owner) {
      m.delete(key);
      this.held--;
    }
  }

  lockedByOther(table: Table, key: PrimKey, owner: Owner): boolean {
    const cur = this.byTable.get(table)?.get(key);
    return cur !== undefined && cur !== owner;
  }

  /** Rows currently locked by committing transactions. */
  get count(): number {
    return this.held;
  }

  /** Locks held on a table (TRUNCATE/DROP/VACUUM need none). */
  heldOn(table: Table): number {
    return this.byTable.get(table)?.size ?? 0;
  }
}
