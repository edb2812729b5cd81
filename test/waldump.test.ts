// waldump describes every redo entry (operation, transaction, table, key, changed columns), filters
// by transaction, table and LSN, summarises by operation, and reports a torn tail without repairing it.

import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import { dumpWal } from '../src/tools/waldump.js';

const SEG = 1024 * 1024;

async function sampleLog(): Promise<MemDisk> {
  const disk = new MemDisk();
  const e = await Engine.open('/db', { disk, config: { wal_segment_size: '1MB', redo_buffer_size: '256KB' }, onWarning: () => undefined });
  await e.createTable({
    name: 'acct',
    columns: [
      { name: 'id', type: 'int32', nullable: false },
      { name: 'bal', type: 'int64' },
      { name: 'who', type: 'varchar', size: 10 },
    ],
    primaryKey: ['id'],
  });
  const s = e.openSession();
  await s.transaction((tx) => {
    tx.insert('acct', { id: 1, bal: 10n, who: 'ann' });
    tx.insert('acct', { id: 2, bal: 20n, who: 'bob' });
  });
  await s.transaction((tx) => {
    tx.update('acct', 1, { bal: 5n });
    tx.delete('acct', 2);
  });
  await e.close();
  return disk;
}

describe('waldump', () => {
  it('lists every entry with its transaction, table, key and changed columns', async () => {
    const dump = await dumpWal(await sampleLog(), '/db/wal', SEG);
    expect(dump.records.map((r) => [r.txId, r.op, r.table, r.key ?? null, r.changed ?? null])).toEqual([
      [1, 'CREATE_TABLE', 'acct', null, null],
      [2, 'CREATE_ROW', 'acct', '(id)=(1)', null],
      [2, 'CREATE_ROW', 'acct', '(id)=(2)', null],
      [3, 'UPDATE_ROW', 'acct', '(id)=(1)', ['bal']],
      [3, 'REMOVE_ROW', 'acct', '(id)=(2)', null],
    ]);
    expect(dump.end.kind).toBe('clean');
    expect(dump.stats).toMatchObject({ frames: 3, buffers: 3, transactions: 3, partialBuffers: 0 });
    expect(dump.stats.byOp['CREATE_ROW']!.entries).toBe(2);
  });

  it('filters by transaction, table and LSN range', async () => {
    const disk = await sampleLog();
    expect((await dumpWal(disk, '/db/wal', SEG, { txId: 3 })).records.map((r) => r.op)).toEqual(['UPDATE_ROW', 'REMOVE_ROW']);
    expect((await dumpWal(disk, '/db/wal', SEG, { table: 'nope' })).records).toEqual([]);
    const all = (await dumpWal(disk, '/db/wal', SEG)).records;
    const from = all[1]!.lsn;
    const some = (await dumpWal(disk, '/db/wal', SEG, { fromLsn: from, toLsn: from })).records;
    expect(some.every((r) => r.lsn === from)).toBe(true);
    expect(some).toHaveLength(2);
  });

  it('reports a torn tail and leaves the log as it is', async () => {
    const disk = await sampleLog();
    // Append a transaction big enough for its frame to cross a 512-byte sector boundary.
    const e = await Engine.open('/db', { disk, config: { wal_segment_size: '1MB', redo_buffer_size: '256KB' }, onWarning: () => undefined });
    await e.openSession().transaction((tx) => {
      for (let i = 10; i < 60; i++) tx.insert('acct', { id: i, bal: 1n, who: 'x' });
    });
    await e.close();
    const last = (await dumpWal(disk, '/db/wal', SEG)).records.at(-1)!;
    expect(last.txId).toBe(4);
    // The crash kept the frame's first sector but not the next ones (sectors are written whole).
    const sectorEnd = Math.ceil((last.lsn + 1) / 512) * 512;
    expect(sectorEnd).toBeLessThan(last.lsn + last.frameBytes);
    const seg = await disk.open('/db/wal/0000000000000000.wal');
    await seg.write(sectorEnd, new Uint8Array(last.lsn + last.frameBytes - sectorEnd));
    const before = await disk.readFile('/db/wal/0000000000000000.wal');
    const dump = await dumpWal(disk, '/db/wal', SEG);
    expect(dump.end).toMatchObject({ kind: 'torn', endLsn: last.lsn });
    expect(new Set(dump.records.map((r) => r.txId))).toEqual(new Set([1, 2, 3]));
    expect(Buffer.compare(before, await disk.readFile('/db/wal/0000000000000000.wal'))).toBe(0);
  });
});
