// The benchmark's workloads. `insert`: single-row insert transactions of about 100 bytes.
// `update-mix`: an update-heavy mix over preloaded rows (90% update one random row, 10% insert).
// Each is a function run by every session in a loop; they draw from the injected Random.

import type { TableDef, Row } from '../store/schema.js';
import type { Session } from '../transaction/session.js';
import type { Transaction } from '../transaction/transaction.js';
import type { Random } from '../io/random.js';

export type WorkloadName = 'insert' | 'update-mix';
export const WORKLOADS: readonly WorkloadName[] = ['insert', 'update-mix'];

export const BENCH_TABLE: TableDef = {
  name: 'bench',
  columns: [
    { name: 'id', type: 'int64', nullable: false },
    { name: 'n', type: 'int32' },
    { name: 'payload', type: 'varchar', size: 84 },
  ],
  primaryKey: ['id'],
};

/** ~100 bytes of row data: 8 (id) + 4 (n) + 84 (payload) + header. */
const PAYLOAD = 'x'.repeat(84);

export interface WorkloadState {
  nextId: number;
  preloadedRows: number;
}

export function makeRow(id: number, n: number): Row {
  return { id: BigInt(id), n, payload: PAYLOAD };
}

/**
 * Build one transaction of the workload (not yet committed). Returns it and whether it inserts a
 * row (false: an update), so the caller can count acknowledged inserts.
 */
export function buildOne(name: WorkloadName, session: Session, state: WorkloadState, random: Random): { tx: Transaction; inserting: boolean } {
  const tx = session.begin();
  const inserting = name === 'insert' || state.preloadedRows === 0 || random.next() < 0.1;
  try {
    if (inserting) tx.insert('bench', makeRow(state.nextId++, 0));
    else tx.update('bench', BigInt(random.int(state.preloadedRows)), { n: random.int(1_000_000), payload: PAYLOAD });
  } catch (e) {
    tx.rollback();
    throw e;
  }
  return { tx, inserting };
}
