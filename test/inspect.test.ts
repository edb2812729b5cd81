// motsim inspect: reports the control file, complete and interrupted checkpoints, WAL segments and
// what recovery would replay after the checkpoint's LSN; reports a torn tail without cutting it and
// changes no byte of the directory.

import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import { inspectDataDir } from '../src/tools/inspect.js';
import { formatInspectReport } from '../src/cli/inspect-command.js';
import { isMotError } from '../src/errors.js';

const SEG = 1024 * 1024;
const CONFIG = { wal_segment_size: '1MB', redo_buffer_size: '256KB' };
const TABLE = { name: 't', columns: [{ name: 'id', type: 'int64' as const, nullable: false }, { name: 'v', type: 'int64' as const }], primaryKey: ['id'] };

async function commits(e: Engine, from: number, count: number): Promise<void> {
  const s = e.openSession();
  for (let i = from; i < from + count; i++) await s.transaction((tx) => tx.insert('t', { id: BigInt(i), v: 1n }));
  s.close();
}

async function allBytes(disk: MemDisk, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const name of await disk.list(d)) {
      const p = `${d}/${name}`;
      try {
        out.set(p, Buffer.from(await disk.readFile(p)).toString('hex'));
      } catch {
        await walk(p);
      }
    }
  };
  await walk(dir);
  return out;
}

describe('inspect', () => {
  it('without a checkpoint: recovery would replay every transaction from LSN 0', async () => {
    const disk = new MemDisk();
    const e = await Engine.open('/db', { disk, config: CONFIG, onWarning: () => undefined });
    await e.createTable(TABLE);
    await commits(e, 0, 5);
    await e.close();
    const r = await inspectDataDir(disk, '/db');
    expect(r.control).toBeNull();
    expect(r.checkpoints).toEqual([]);
    expect(r.wal.segmentBytes).toBe(SEG);
    expect(r.wal.segments.map((s) => s.firstLsn)).toEqual([0]);
    expect(r.recovery).toMatchObject({ checkpointId: undefined, fromLsn: 0, transactionsToReplay: 6, transactionsSkipped: 0, end: { kind: 'clean' } });
    expect(formatInspectReport(r)).toMatch(/control file: none[\s\S]*recovery would: no checkpoint[\s\S]*6 transaction\(s\) to apply/);
  });

  it('after a checkpoint: names it, counts only the WAL after its LSN, flags an interrupted one', async () => {
    const disk = new MemDisk();
    const e = await Engine.open('/db', { disk, config: CONFIG, onWarning: () => undefined });
    await e.createTable(TABLE);
    await commits(e, 0, 10);
    const ck = await e.checkpoint();
    await commits(e, 10, 3);
    await e.close();
    await disk.mkdirp(`/db/chkpt_${ck.checkpointId + 5}`); // a checkpoint a crash interrupted: no end marker
    const before = await allBytes(disk, '/db');

    const r = await inspectDataDir(disk, '/db');
    expect(r.control).toMatchObject({ checkpointId: ck.checkpointId, checkpointLsn: ck.lsn, checkpointCsn: ck.csn });
    const current = r.checkpoints.find((c) => c.current)!;
    expect(current).toMatchObject({ id: ck.checkpointId, complete: true, rows: 10, lsn: ck.lsn });
    expect(r.checkpoints.find((c) => !c.current)).toMatchObject({ id: ck.checkpointId + 5, complete: false });
    expect(r.recovery).toMatchObject({ checkpointId: ck.checkpointId, fromLsn: ck.lsn, transactionsToReplay: 3 });
    expect(r.recovery.error).toBeUndefined();
    expect(formatInspectReport(r)).toMatch(/INCOMPLETE: no end\.marker/);
    expect(await allBytes(disk, '/db')).toEqual(before);
  });

  it('reports a torn tail without cutting it', async () => {
    const disk = new MemDisk();
    const e = await Engine.open('/db', { disk, config: CONFIG, onWarning: () => undefined });
    await e.createTable(TABLE);
    await commits(e, 0, 2);
    await e.close();
    const clean = await inspectDataDir(disk, '/db');
    const endLsn = clean.recovery.end!.endLsn;
    const f = await disk.open(`/db/wal/${clean.wal.segments[0]!.name}`);
    await f.write(endLsn, new Uint8Array(40).fill(0xab)); // half a frame the writer never finished
    await f.close();
    const before = await allBytes(disk, '/db');
    const r = await inspectDataDir(disk, '/db');
    expect(r.recovery.end).toMatchObject({ kind: 'torn', endLsn });
    expect(r.recovery.transactionsToReplay).toBe(3);
    expect(formatInspectReport(r)).toMatch(/TORN tail at LSN/);
    expect(await allBytes(disk, '/db')).toEqual(before);
  });

  it('names the directory when it does not exist', async () => {
    const err = await inspectDataDir(new MemDisk(), '/nowhere').catch((x: unknown) => x);
    expect(isMotError(err) && err.message).toMatch(/"\/nowhere" does not exist/);
  });
});
