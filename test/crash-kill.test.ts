// A real crash: a child process commits in sync and group modes and reports each acknowledged
// commit; the test kills it with SIGKILL at a random moment, reopens the directory, and checks that
// every acknowledged commit is there and that no transaction is partially visible.

import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine.js';
import { SeededRandom, freshSeed } from '../src/io/random.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));

async function killMidRun(dir: string, mode: string, killAfterMs: number): Promise<Set<number>> {
  const child = spawn(process.execPath, [CHILD, dir, mode, '6'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = new Set<number>();
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'READY') resolve();
        else if (line.startsWith('ACK ')) acked.add(Number(line.slice(4)));
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  await ready;
  await new Promise((r) => setTimeout(r, killAfterMs));
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  // Lines the child wrote before dying are still in the pipe: read them all.
  await new Promise((r) => setTimeout(r, 50));
  return acked;
}

describe('crash by SIGKILL', () => {
  for (const mode of ['synchronous', 'group']) {
    it(`${mode}: every acknowledged commit survives a kill at a random moment, and no transaction is partial`, async () => {
      const seed = freshSeed();
      const random = new SeededRandom(seed);
      const dir = fs.mkdtempSync(join(os.tmpdir(), `motsim-kill-${mode}-`));
      try {
        let ackedTotal = 0;
        // Three kills in a row: each run starts from the previous run's recovered directory, so a
        // crash soon after a recovery (with a torn tail cut) is covered too.
        const ackedAll = new Set<number>();
        for (let round = 0; round < 3; round++) {
          const acked = await killMidRun(dir, mode, 100 + random.int(500));
          ackedTotal += acked.size;
          for (const t of acked) ackedAll.add(t);
          const engine = await Engine.open(dir, { config: { wal_segment_size: '1MB', redo_buffer_size: '256KB' }, onWarning: () => undefined });
          try {
            const rows = engine.openSession().begin().scan('kv');
            const perTxn = new Map<number, number>();
            for (const r of rows) perTxn.set(Number(r.txn), (perTxn.get(Number(r.txn)) ?? 0) + 1);
            const partial = [...perTxn].filter(([, n]) => n !== 3);
            expect(partial, `seed ${seed}: partially visible transactions`).toEqual([]);
            const missing = [...ackedAll].filter((t) => !perTxn.has(t));
            expect(missing, `seed ${seed}: acknowledged but lost`).toEqual([]);
            expect(acked.size).toBeGreaterThan(0);
          } finally {
            await engine.close();
          }
        }
        expect(ackedTotal).toBeGreaterThan(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
