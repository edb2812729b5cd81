// Reading what an engine holds into the oracle's model (src/sim/model.ts): every table with its
// definition and rows, read through an ordinary transaction, so a check compares what a client sees.

import type { Engine } from '../engine.js';
import { ModelDb } from './model.js';
import { CHECKED_TABLE } from './workload.js';
import type { RowValue } from './ledger.js';

/** Every table of `engine` and its rows, as a ModelDb. */
export function readEngineState(engine: Engine): ModelDb {
  const db = ModelDb.empty();
  const session = engine.openSession();
  try {
    const tx = session.begin();
    for (const t of engine.tables()) {
      db.applyDdl({ ddl: 'create', table: t.name, def: t.schema.def });
      for (const row of tx.scan(t.name)) db.putRow(t.name, row);
    }
    tx.rollback();
  } finally {
    session.close();
  }
  return db;
}

/** The checked table's rows of a state (key -> writer id and padding), for tests and reports. */
export function checkedRows(db: ModelDb): Map<number, RowValue> {
  return new Map(db.rows(CHECKED_TABLE.name).map((r) => [Number(r.k), { v: Number(r.v), pad: String(r.pad) }]));
}
