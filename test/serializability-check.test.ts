// The serializability oracle's placement rules, on hand-made histories: which transactions take a
// place in the serial order. Found by `motsim crash-test --mode asynchronous --seed 105284 --runs 1
// --faults all`: an asynchronous commit applied (visible) but not yet answered when the engine crashed
// (its session waited for the event loop's turn, CommitPacer) had no CSN in the ledger, so a CREATE
// UNIQUE INDEX refused because of its row was reported as not serializable.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { INHERITED_COLUMN_NAMES, schemaArbitrary } from '../src/fast-check/schema.js';
import { Ledger, type LedgerEntry } from '../src/sim/ledger.js';
import { ModelDb } from '../src/sim/model.js';
import { checkSerializable } from '../src/sim/serializability.js';
import type { TableDef } from '../src/store/schema.js';
import { crashTest, formatCrashTestSummary, FAULT_NAMES } from '../src/sim/crash-test.js';

const T: TableDef = { name: 't', columns: [{ name: 'k', type: 'int32' }, { name: 'v', type: 'int32', nullable: true }], primaryKey: ['k'] };

function base(): ModelDb {
  const db = ModelDb.empty();
  db.applyDdl({ ddl: 'create', table: 't', def: T });
  return db;
}

/** A writer applied in memory (CSN 1) whose answer never came, and a reader of its row acknowledged at CSN 2. */
function history(ledger: Ledger, writerCsn: () => number | undefined): { writer: LedgerEntry; reader: LedgerEntry } {
  ledger.startEpoch(0, 0);
  const writer = ledger.begin(1, 0, 0, 0);
  writer.ops.push({ op: 'insert', table: 't', row: { k: 1, v: 7 }, result: 'ok' });
  ledger.commitCalled(writer, 10, writerCsn);
  const reader = ledger.begin(2, 1, 0, 11);
  reader.ops.push({ op: 'get', table: 't', key: 1, result: { k: 1, v: 7 } });
  reader.ops.push({ op: 'update', table: 't', key: 1, changes: { v: 8 }, result: true });
  ledger.commitCalled(reader, 12);
  ledger.acked(reader, 2, 13);
  return { writer, reader };
}

describe('serial order: a commit applied but not answered at the crash', () => {
  it('takes its place at the CSN its transaction committed at, so what others read of it is serializable', () => {
    const ledger = new Ledger();
    const { writer } = history(ledger, () => 1);
    ledger.crashed(20);
    expect(writer.outcome).toBe('committing');
    expect(writer.csn).toBe(1);
    expect(writer.appliedUnanswered).toBe(true);
    const check = checkSerializable(ledger.entries, base());
    expect(check.violations).toEqual([]);
    expect(check.state.rows('t')).toEqual([{ k: 1, v: 8 }]);
  });

  it('a commit that had not applied at the crash has no place: a read of its row is a violation', () => {
    const ledger = new Ledger();
    const { writer } = history(ledger, () => undefined);
    ledger.crashed(20);
    expect(writer.csn).toBeUndefined();
    const check = checkSerializable(ledger.entries, base());
    expect(check.violations.map((v) => v.kind)).toEqual(['not-serializable']);
    expect(check.violations[0]!.message).toContain('get t 1');
  });
});

describe('the scenario that found it', () => {
  it('crash-test --mode asynchronous --seed 105284 --runs 1 --faults all finds no violation', async () => {
    const r = await crashTest({ mode: 'asynchronous', seed: 105284, runs: 1, faults: [...FAULT_NAMES] });
    expect(formatCrashTestSummary(r), `replay: ${r.replay}`).not.toContain('VIOLATION');
  });
});

describe('what the model and the generated schemas cover', () => {
  it('-0 and 0 are one unique key in the model, as in the engine (found by generated schemas: a float64 unique index refused over 0 and -0)', () => {
    const db = ModelDb.empty();
    db.applyDdl({ ddl: 'create', table: 'f', def: { name: 'f', columns: [{ name: 'k', type: 'int32' }, { name: 'x', type: 'float64', nullable: true }], primaryKey: ['k'] } });
    db.putRow('f', { k: 1, x: 0 });
    db.putRow('f', { k: 2, x: -0 });
    expect(db.duplicateKey('f', ['x'])).toBe('(x)=(0)');
  });

  it('generated schemas name columns like Object.prototype members now and then (issue 9, defect 16, found by the oracle itself)', () => {
    const names = new Set(fc.sample(schemaArbitrary(), { numRuns: 200, seed: 1 }).flatMap((s) => s.tables.flatMap((t) => t.columns.map((c) => c.name))));
    for (const name of INHERITED_COLUMN_NAMES) expect(names).toContain(name);
  });
});
