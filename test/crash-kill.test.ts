// A real crash: a child process commits in sync and group modes and reports each acknowledged
// commit; the test kills it with SIGKILL after a random number of acknowledged commits (never after a
// time, which a loaded machine turns into "before the first commit"), reopens the directory, and
// checks that every acknowledged commit is there and no transaction is partially visible. A failure
// prints its seed and the line that replays it.

import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine.js';
import { SeededRandom, freshSeed } from '../src/io/random.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));

/**
 * Start the child, wait until it has acknowledged `killAfterAcks` commits (however long that takes on
 * this machine: no test here depends on speed), then SIGKILL it. Returns every acknowledged commit.
 */
async function killMidRun(dir: string, mode: string, killAfterAcks: number): Promise<Set<number>> {
  const child = spawn(process.execPath, [CHILD, dir, mode, '6'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = new Set<number>();
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const enough = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line.startsWith('ACK ')) acked.add(Number(line.slice(4)));
      if (acked.size >= killAfterAcks) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited before ${killAfterAcks} acknowledged commits (status ${code}): ${stderr}`)));
  });
  await enough;
  child.kill('SIGKILL');
  await exited;
  // Lines the child wrote before dying are still in the pipe: take them all.
  await new Promise<void>((r) => (child.stdout.readableEnded ? r() : child.stdout.once('end', () => r())));
  for (const line of buffered.split('\n')) if (line.startsWith('ACK ')) acked.add(Number(line.slice(4)));
  return acked;
}

describe('crash by SIGKILL', () => {
  for (const mode of ['synchronous', 'group']) {
    it(`${mode}: every acknowledged commit survives a kill after a random number of commits, and no transaction is partial`, async () => {
      const seed = process.env.MOTSIM_SEED !== undefined ? Number(process.env.MOTSIM_SEED) : freshSeed();
      const replay = `seed ${seed}; replay: MOTSIM_SEED=${seed} npx vitest run test/crash-kill.test.ts -t ${mode}`;
      const random = new SeededRandom(seed);
      const dir = fs.mkdtempSync(join(os.tmpdir(), `motsim-kill-${mode}-`));
      try {
        let ackedTotal = 0;
        // Three kills in a row: each run starts from the previous run's recovered directory, so a
        // crash soon after a recovery (with a torn tail cut) is covered too.
        const ackedAll = new Set<number>();
        for (let round = 0; round < 3; round++) {
          const acked = await killMidRun(dir, mode, 1 + random.int(300));
          ackedTotal += acked.size;
          for (const t of acked) ackedAll.add(t);
          const engine = await Engine.open(dir, { config: { wal_segment_size: '1MB', redo_buffer_size: '256KB' }, onWarning: () => undefined });
          try {
            const rows = engine.openSession().begin().scan('kv');
            const perTxn = new Map<number, number>();
            for (const r of rows) perTxn.set(Number(r.txn), (perTxn.get(Number(r.txn)) ?? 0) + 1);
            const partial = [...perTxn].filter(([, n]) => n !== 3);
            expect(partial, `${replay}: partially visible transactions`).toEqual([]);
            const missing = [...ackedAll].filter((t) => !perTxn.has(t));
            expect(missing, `${replay}: acknowledged but lost`).toEqual([]);
          } finally {
            await engine.close();
          }
        }
        expect(ackedTotal, replay).toBeGreaterThan(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
