// CALC's capture: which bytes of each row a checkpoint with consistency point C writes, while commits
// go on. Invariant: for every row live at C, exactly one entry holding its state at C is emitted, and
// nothing for rows inserted after C. The scan walks each table in primary-key order; a committer with
// CSN > C about to change or remove a row of version <= C that the scan has not passed first saves the
// row's bytes (its stable pre-image). The scan emits the pre-image if one was saved, else the row if
// its version <= C, else nothing; pre-images of rows it never met (removed after C) are emitted at the
// end of the table. Commits with CSN <= C (the ones RESOLVE waits for) change rows without a copy.
// An incremental checkpoint (afterCsn = P, the previous checkpoint's C) emits only the rows whose
// state at C was written after P: the same rule, filtered by the version in the emitted image; except
// for a table it writes whole (created, truncated or redefined by CREATE/DROP INDEX since P), whose
// every row is emitted, as in a full checkpoint.

import { assert } from '../errors.js';
import type { SlotId, Table } from '../store/table.js';

type KeyPrimitive = string | number | bigint;

/** Where emitted entries go (a segment builder). `bytes` is a slot image; copy it before returning. */
export interface EntrySink {
  add(bytes: Uint8Array): void;
}

export interface TableCaptureCounts {
  rowsEmitted: number;
  rowsScanned: number;
  preImagesSaved: number;
}

class TableCapture {
  /** Encoded primary key -> slot image at C, for rows changed after C ahead of the scan. Bounded by the table's rows at C. */
  readonly preImages = new Map<KeyPrimitive, Uint8Array>();
  /** Encoded key of the last row the scan met; undefined before the scan starts. */
  passedKey: KeyPrimitive | undefined = undefined;
  done = false;
  preImagesSaved = 0;

  constructor(readonly table: Table) {}
}

export class Capture {
  private readonly byTable = new Map<Table, TableCapture>();

  /** `tables`: those that may hold rows of version <= C (the catalog at PREPARE). */
  constructor(
    readonly csn: number,
    tables: readonly Table[],
    /** Incremental: emit only row states written after this CSN (0: every row, a full checkpoint). */
    private readonly afterCsn = 0,
    /**
     * Incremental: tables written whole (every row, whatever its version). Asked at each use: a DDL
     * with a CSN <= C that makes a table whole applies during RESOLVE, before any commit with a CSN
     * > C can change the table (the DDL holds the table's lock until it applies).
     */
    private readonly wholeTable: (table: Table) => boolean = () => false,
  ) {
    for (const t of tables) this.byTable.set(t, new TableCapture(t));
  }

  /** Row states written at or below this CSN are not emitted for `table`. */
  private afterCsnOf(table: Table): number {
    return this.afterCsn > 0 && this.wholeTable(table) ? 0 : this.afterCsn;
  }

  /**
   * The hook (Transaction.apply): the transaction with CSN `csn` is about to update or remove the
   * row at `slot`. Cheap unless the row must be copied.
   */
  beforeRowChange(table: Table, slot: SlotId, csn: number): void {
    if (csn <= this.csn) return;
    const cap = this.byTable.get(table);
    if (cap === undefined || cap.done) return;
    const version = table.version(slot);
    if (version > this.csn || version <= this.afterCsnOf(table)) return; // <= afterCsn: its state at C is not emitted
    const key = table.encodeKey(table.keyOfSlot(slot));
    if (cap.passedKey !== undefined && table.compareEncodedKeys(key, cap.passedKey) <= 0) return;
    assert(!cap.preImages.has(key), `a row of version <= C in table "${table.name}" is saved once (its version is then > C)`);
    // A copy: rowBytes() is a view into chunk memory (and Buffer#slice would be a view too).
    cap.preImages.set(key, new Uint8Array(table.rowBytes(slot)));
    cap.preImagesSaved++;
  }

  /**
   * Scan `rows` more rows of the table (from the scan's iterator) into `sink`; returns false once
   * the table is finished (remaining pre-images emitted). Runs synchronously: commits run only
   * between calls, when `passedKey` is exact.
   */
  step(table: Table, scan: Iterator<SlotId>, rows: number, sink: EntrySink, counts: TableCaptureCounts): boolean {
    const cap = this.byTable.get(table);
    assert(cap !== undefined && !cap.done, `table "${table.name}" is being captured`);
    const c = this.csn;
    const after = this.afterCsnOf(table);
    let last: SlotId | undefined;
    for (let i = 0; i < rows; i++) {
      const r = scan.next();
      if (r.done === true) {
        this.finish(cap, sink, counts);
        return false;
      }
      const slot = r.value;
      counts.rowsScanned++;
      last = slot;
      const version = table.version(slot);
      if (version <= c) {
        if (version > after) {
          sink.add(table.rowBytes(slot));
          counts.rowsEmitted++;
        }
      } else if (cap.preImages.size > 0) {
        // Changed after C: its state at C is the pre-image, if it existed at C.
        const key = table.encodeKey(table.keyOfSlot(slot));
        const pre = cap.preImages.get(key);
        if (pre !== undefined) {
          cap.preImages.delete(key);
          sink.add(pre);
          counts.rowsEmitted++;
        }
      }
    }
    if (last !== undefined) cap.passedKey = table.encodeKey(table.keyOfSlot(last));
    return true;
  }

  /** Rows removed after C were never met by the scan: emit their pre-images, in key order. */
  private finish(cap: TableCapture, sink: EntrySink, counts: TableCaptureCounts): void {
    const t = cap.table;
    // Pre-images are saved only for versions in (afterCsn, C]: all of them are emitted.
    const keys = [...cap.preImages.keys()].sort((a, b) => t.compareEncodedKeys(a, b));
    for (const k of keys) {
      sink.add(cap.preImages.get(k)!);
      counts.rowsEmitted++;
    }
    cap.preImages.clear();
    cap.done = true;
    counts.preImagesSaved += cap.preImagesSaved;
  }

  /** Stop tracking tables not in the checkpoint (dropped, or created after C). */
  retain(tables: readonly Table[]): void {
    const keep = new Set(tables);
    for (const t of [...this.byTable.keys()]) if (!keep.has(t)) this.byTable.delete(t);
    for (const t of tables) if (!this.byTable.has(t)) this.byTable.set(t, new TableCapture(t));
  }
}
