// What an incremental checkpoint needs beyond row versions: the keys removed (with the CSN of each
// removal) and the tables truncated or redefined (CREATE/DROP INDEX) since the previous checkpoint, fed by the apply hook and by WAL
// replay at recovery. Invariant: while not `overflowed`, every removal with a CSN above the last
// completed checkpoint's CSN is recorded; past `entriesMax` records it drops everything and says so,
// and the next increment_checkpoint writes a full checkpoint instead.

import type { Table } from '../store/table.js';
import type { Value } from '../store/schema.js';

type KeyPrimitive = string | number | bigint;

interface Removal {
  key: Value | Value[];
  /** CSNs of the transactions that removed this key, ascending (usually one). */
  csns: number[];
}

/** Default bound on recorded removals (the `checkpoint_increment_removals_max` setting of the checkpointer). */
export const CHANGE_LOG_ENTRIES_MAX_DEFAULT = 1_000_000;

export class ChangeLog {
  private readonly removed = new Map<Table, Map<KeyPrimitive, Removal>>();
  /** Table -> CSN of its last TRUNCATE or index change (or of its creation: the whole table is new). */
  private readonly replaced = new Map<Table, number>();
  private entries = 0;
  /** Removals were dropped (too many, or a full checkpoint failed): the next increment must be full. */
  overflowed = false;
  overflowReason = '';

  constructor(readonly entriesMax: number = CHANGE_LOG_ENTRIES_MAX_DEFAULT) {}

  /** A committed transaction with this CSN removed the row with this key. */
  rowRemoved(table: Table, key: Value | Value[], encodedKey: KeyPrimitive, csn: number): void {
    if (this.overflowed) return;
    let m = this.removed.get(table);
    if (m === undefined) this.removed.set(table, (m = new Map()));
    const r = m.get(encodedKey);
    if (r !== undefined) r.csns.push(csn);
    else m.set(encodedKey, { key, csns: [csn] });
    if (++this.entries > this.entriesMax) this.overflow(`more than ${this.entriesMax} rows removed since the last checkpoint`);
  }

  /**
   * TRUNCATE (or CREATE) of the table by the transaction with this CSN: its old rows all go. Also
   * CREATE/DROP INDEX: the rows stay, but the definition changed, and an increment carries a changed
   * definition only by writing the table whole (recovery recreates it from the new definition).
   */
  tableReplaced(table: Table, csn: number): void {
    this.replaced.set(table, Math.max(csn, this.replaced.get(table) ?? 0));
    const m = this.removed.get(table);
    if (m !== undefined) {
      for (const r of m.values()) this.entries -= r.csns.length;
      this.removed.delete(table);
    }
  }

  /** Whether the table was truncated, redefined or created with a CSN in (after, upTo]. */
  replacedIn(table: Table, after: number, upTo: number): boolean {
    const c = this.replaced.get(table);
    return c !== undefined && c > after && c <= upTo;
  }

  /** Keys of the table removed by a transaction with a CSN in (after, upTo]. */
  removedIn(table: Table, after: number, upTo: number): (Value | Value[])[] {
    const m = this.removed.get(table);
    if (m === undefined) return [];
    const out: (Value | Value[])[] = [];
    for (const r of m.values()) if (r.csns.some((c) => c > after && c <= upTo)) out.push(r.key);
    return out;
  }

  /** A checkpoint with CSN `csn` completed: forget what it covers. */
  checkpointed(csn: number): void {
    for (const [table, m] of this.removed) {
      for (const [k, r] of m) {
        const keep = r.csns.filter((c) => c > csn);
        this.entries -= r.csns.length - keep.length;
        if (keep.length === 0) m.delete(k);
        else r.csns = keep;
      }
      if (m.size === 0 || table.dropped) {
        for (const r of m.values()) this.entries -= r.csns.length;
        this.removed.delete(table);
      }
    }
    for (const [table, c] of this.replaced) if (c <= csn || table.dropped) this.replaced.delete(table);
  }

  /** A full checkpoint starts (its PREPARE): what it writes needs no record; record afresh from here. */
  restart(): void {
    this.removed.clear();
    this.replaced.clear();
    this.entries = 0;
    this.overflowed = false;
    this.overflowReason = '';
  }

  /** Drop every record; the next increment_checkpoint writes a full checkpoint, saying why. */
  overflow(reason: string): void {
    this.removed.clear();
    this.entries = 0;
    this.overflowed = true;
    this.overflowReason = reason;
  }

  get size(): number {
    return this.entries;
  }
}
