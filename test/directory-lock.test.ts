// Defect 3 of issue 9: one engine per data directory (PostgreSQL's postmaster.pid rule). A second
// opener, in this process or another, is refused with 55006 naming the holder's pid and the
// directory; a lock whose holder is gone (dead process, crashed simulated machine, abandoned engine)
// is taken over. The multi-process tests wait for the child's output, never for a fixed time.

import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from '../src/engine.js';
import { MotError } from '../src/errors.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import { createWorld } from '../src/sim/world.js';
import { DIRECTORY_LOCK_FILE_NAME, parseLockFile } from '../src/io/directory-lock.js';

const ROOT = resolve(import.meta.dirname, '..');
const MOTSIM = join(ROOT, 'bin', 'motsim.js');
const SMALL = { wal_segment_size: '1MB', redo_buffer_size: '256KB' };
const quiet = { config: SMALL, onWarning: () => undefined };

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'motsim-lock-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
function freshDir(): string {
  const dir = join(scratch, `d${++dirs}`);
  fs.mkdirSync(dir);
  return dir;
}

const KV = {
  name: 'kv',
  columns: [
    { name: 'k', type: 'int32' as const, nullable: false },
    { name: 'v', type: 'int32' as const },
  ],
  primaryKey: ['k'],
};

async function commitRows(engine: Engine, from: number, count: number): Promise<void> {
  const session = engine.openSession();
  for (let k = from; k < from + count; k++) {
    const tx = session.begin();
    tx.insert('kv', { k, v: k });
    await tx.commit();
  }
  session.close();
}

function keys(engine: Engine): number[] {
  return engine
    .openSession()
    .begin()
    .scan('kv')
    .map((r) => Number(r.k));
}

async function refusal(p: Promise<unknown>): Promise<MotError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MotError);
    return e as MotError;
  }
  throw new Error('expected the open to be refused');
}

/** A process id that no process has: one that just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  expect(() => process.kill(child.pid!, 0)).toThrow();
  return child.pid!;
}

describe('defect 3: one opener per data directory (real disk, one process)', () => {
  it('defect 3: a second Engine.open of a directory open in this process is refused naming the pid and the directory; nothing is lost', async () => {
    const dir = freshDir();
    const first = await Engine.open(dir, quiet);
    await first.createTable(KV);
    const e = await refusal(Engine.open(dir, quiet));
    expect(e.sqlstate).toBe('55006');
    expect(e.message).toContain(`"${dir}"`);
    expect(e.message).toContain(`pid ${process.pid}`);
    expect(e.detail).toContain(join(dir, DIRECTORY_LOCK_FILE_NAME));
    // Spelt differently (trailing slash, "..") it is the same directory, refused too.
    expect((await refusal(Engine.open(`${dir}/`, quiet))).sqlstate).toBe('55006');
    expect((await refusal(Engine.open(join(dir, '..', `d${dirs}`), quiet))).sqlstate).toBe('55006');
    await commitRows(first, 0, 50);
    await first.close();
    expect(fs.existsSync(join(dir, DIRECTORY_LOCK_FILE_NAME))).toBe(false); // close removed it
    const again = await Engine.open(dir, quiet);
    expect(keys(again)).toHaveLength(50);
    await again.close();
  });

  it('defect 3: abandon() gives the directory up, so this process can open it again', async () => {
    const dir = freshDir();
    const first = await Engine.open(dir, quiet);
    await first.createTable(KV);
    await commitRows(first, 0, 3);
    expect((await refusal(Engine.open(dir, quiet))).sqlstate).toBe('55006');
    await first.abandon();
    const again = await Engine.open(dir, quiet);
    expect(keys(again)).toEqual([0, 1, 2]);
    await again.close();
  });

  it('defect 3: a stale lock of a dead process is taken over', async () => {
    const dir = freshDir();
    const dead = await deadPid();
    fs.writeFileSync(join(dir, DIRECTORY_LOCK_FILE_NAME), `${dead}\nboot x start 1\n${dir}\n`);
    const engine = await Engine.open(dir, quiet);
    const lock = parseLockFile(fs.readFileSync(join(dir, DIRECTORY_LOCK_FILE_NAME)));
    expect(lock?.pid).toBe(process.pid);
    await engine.close();
  });

  it('defect 3: a lock file naming this pid but not held in this process (pid reuse), or cut short by a crash, is stale', async () => {
    for (const text of [`${process.pid}\nboot x start 1\n/elsewhere\n`, '', '123', `${process.pid}\n`]) {
      const dir = freshDir();
      fs.writeFileSync(join(dir, DIRECTORY_LOCK_FILE_NAME), text);
      const engine = await Engine.open(dir, quiet);
      expect(parseLockFile(fs.readFileSync(join(dir, DIRECTORY_LOCK_FILE_NAME)))).toMatchObject({ pid: process.pid, dir });
      await engine.close();
    }
  });

  it.runIf(fs.existsSync('/proc/self/stat'))('defect 3: a live pid whose start token differs (reused after a reboot) is stale; with its own token it is refused', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const dir = freshDir();
      const file = join(dir, DIRECTORY_LOCK_FILE_NAME);
      fs.writeFileSync(file, `${child.pid}\nboot not-this-boot start 1\n${dir}\n`);
      const taken = await Engine.open(dir, quiet);
      await taken.close();
      const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      fs.writeFileSync(file, `${child.pid}\nboot ${boot} start ${start}\n${dir}\n`);
      const e = await refusal(Engine.open(dir, quiet));
      expect(e.sqlstate).toBe('55006');
      expect(e.message).toContain(`process ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** Linux start token of a process, as the lock file holds it. */
function linuxToken(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return `boot ${fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()} start ${start}`;
}

function hasPython3(): boolean {
  try {
    return spawnSync('python3', ['-c', 'pass']).status === 0;
  } catch {
    return false;
  }
}

describe('defect 3: a holder that exited but was not reaped (zombie) is stale', () => {
  it.runIf(fs.existsSync('/proc/self/stat') && hasPython3())('defect 3: a lock naming a zombie process (its own start token, kill(pid, 0) succeeds) is taken over', async () => {
    // A forked child exits at once and its parent never waits for it: a zombie whose pid is printed.
    // (A shell would reap it if it exited before the shell exec'd its last command, on a loaded machine.)
    const fork = 'import os, sys, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(60)\n';
    const parent = spawn('python3', ['-c', fork], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve) => parent.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
      let state = '';
      // Waits for the state to become Z however long that takes (the test's timeout bounds it); the
      // count is only a backstop against a loop that never yields.
      for (let i = 0; i < 10_000_000 && state !== 'Z'; i++) {
        const stat = fs.readFileSync(`/proc/${zombie}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
        if (state !== 'Z') await new Promise((r) => setImmediate(r));
      }
      expect(state).toBe('Z');
      const dir = freshDir();
      fs.writeFileSync(join(dir, DIRECTORY_LOCK_FILE_NAME), `${zombie}\n${linuxToken(zombie)}\n${dir}\n`);
      const engine = await Engine.open(dir, quiet);
      expect(parseLockFile(fs.readFileSync(join(dir, DIRECTORY_LOCK_FILE_NAME)))?.pid).toBe(process.pid);
      await engine.close();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('defect 3: one opener per data directory (in-memory and simulated disks)', () => {
  it('defect 3: two engines on one in-memory disk: the second is refused until the first closes', async () => {
    const disk = new MemDisk();
    const first = await Engine.open('/db', { disk, ...quiet });
    expect((await refusal(Engine.open('/db', { disk, ...quiet }))).sqlstate).toBe('55006');
    expect((await refusal(Engine.open('/db/', { disk, ...quiet }))).sqlstate).toBe('55006');
    await first.close();
    await (await Engine.open('/db', { disk, ...quiet })).close();
  });

  it('defect 3: two engines on one simulated machine are refused; after a crash the next incarnation takes the stale lock over', async () => {
    const world = createWorld(7);
    const first = await world.run('open', Engine.open(world.dir, world.engineOptions({ config: SMALL })));
    await world.run('create', first.createTable(KV));
    await world.run('commit', commitRows(first, 0, 5));
    const e = await refusal(world.run('second open', Engine.open(world.dir, world.engineOptions({ config: SMALL }))));
    expect(e.sqlstate).toBe('55006');
    expect(e.message).toContain('"/db"');
    expect(e.message).toMatch(/process \d+/);
    // The lock file is on the simulated disk, durable by now (the directory was synced since).
    await world.run('sync', world.disk.syncDir(world.dir));
    // A crash without abandon(): the holder dies with the machine; its lock file is left behind.
    world.disk.crash();
    const taken = await world.run('open after crash', Engine.open(world.dir, world.engineOptions({ config: SMALL })));
    expect(keys(taken)).toEqual([0, 1, 2, 3, 4]);
    // The usual crash test path: crash (abandon + power cut), restart from the durable image.
    world.crash(taken);
    const next = world.restart();
    expect(await next.run('lock file left', next.disk.exists(`${next.dir}/${DIRECTORY_LOCK_FILE_NAME}`))).toBe(true);
    const recovered = await next.run('recover', Engine.open(next.dir, next.engineOptions({ config: SMALL })));
    expect(keys(recovered)).toEqual([0, 1, 2, 3, 4]);
    expect((await refusal(next.run('second open', Engine.open(next.dir, next.engineOptions({ config: SMALL }))))).sqlstate).toBe('55006');
    await next.run('close', recovered.close());
    expect(await next.run('lock file removed', next.disk.exists(`${next.dir}/${DIRECTORY_LOCK_FILE_NAME}`))).toBe(false);
  });
});

// ---- several processes ----

/** Collects a child's output; `until(pattern)` resolves once it appears (or rejects if the child exits first). */
function watch(child: ChildProcessWithoutNullStreams) {
  let out = '';
  let err = '';
  let exit: number | null | undefined;
  const waiters: Array<() => void> = [];
  const poke = (): void => waiters.splice(0).forEach((w) => w());
  child.stdout.on('data', (d) => ((out += d), poke()));
  child.stderr.on('data', (d) => ((err += d), poke()));
  const exited = new Promise<number | null>((r) =>
    child.on('close', (code) => {
      exit = code;
      poke();
      r(code);
    }),
  );
  const until = (pattern: RegExp, count = 1): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if ((out.match(new RegExp(pattern.source, 'g')) ?? []).length >= count) resolve();
        else if (exit !== undefined) reject(new Error(`the child exited (${exit}) before printing ${pattern}: stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`));
        else waiters.push(check);
      };
      check();
    });
  return { until, exited, output: () => ({ out, err }) };
}

function motsim(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [MOTSIM, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((r) => child.on('close', (code) => r({ code, out, err })));
}

function shell(dir: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [MOTSIM, 'shell', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('defect 3: one opener per data directory (several processes)', () => {
  it('defect 3: motsim sql and Engine.open are refused while motsim shell has the directory (inspect and waldump read it); nothing acknowledged is lost; it reopens after \\q', async () => {
    const dir = freshDir();
    const holder = shell(dir);
    const h = watch(holder);
    try {
      await h.until(/motsim shell on/);
      holder.stdin.write('CREATE TABLE t (k int PRIMARY KEY, v int);\n');
      await h.until(/CREATE TABLE/);
      holder.stdin.write('INSERT INTO t VALUES (1, 10);\n');
      await h.until(/INSERT 0 1/);

      const second = await motsim('sql', dir, '-c', 'INSERT INTO t VALUES (2, 20);');
      expect(second.code).not.toBe(0);
      const lines = second.err.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('55006');
      expect(lines[0]).toContain(`process ${holder.pid}`);
      expect(lines[0]).toContain(`"${dir}"`);
      expect(second.err).not.toMatch(/^\s+at /m);

      // The read-only tools take no lock: they read, and say the directory is in use.
      const inspect = await motsim('inspect', dir);
      expect(inspect.code).toBe(0);
      expect(inspect.out).toContain(`in use by process ${holder.pid}`);
      const waldump = await motsim('waldump', dir);
      expect(waldump.code).toBe(0);
      expect(waldump.err).toContain(`in use by process ${holder.pid}`);

      const inProcess = await refusal(Engine.open(dir, quiet));
      expect(inProcess.sqlstate).toBe('55006');
      expect(inProcess.message).toContain(`process ${holder.pid}`);

      holder.stdin.write('INSERT INTO t VALUES (3, 30);\n');
      await h.until(/INSERT 0 1/, 2);
      holder.stdin.write('\\q\n');
      expect(await h.exited).toBe(0);
    } finally {
      holder.kill('SIGKILL');
    }
    const after = await motsim('sql', dir, '-c', 'SELECT k, v FROM t ORDER BY k;');
    expect(after.err).toBe('');
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/\b1 \|\s+10\b[\s\S]*\b3 \|\s+30\b[\s\S]*\(2 rows\)/);
    expect(after.out).not.toMatch(/\b2 \|\s+20\b/);
  });

  it('defect 3: the lock of a SIGKILLed motsim shell is stale and taken over by the next opener', async () => {
    const dir = freshDir();
    const holder = shell(dir);
    const h = watch(holder);
    try {
      await h.until(/motsim shell on/);
      holder.stdin.write('CREATE TABLE t (k int PRIMARY KEY);\nINSERT INTO t VALUES (1);\n');
      await h.until(/INSERT 0 1/);
    } finally {
      holder.kill('SIGKILL');
    }
    await h.exited;
    expect(parseLockFile(fs.readFileSync(join(dir, DIRECTORY_LOCK_FILE_NAME)))?.pid).toBe(holder.pid);
    const next = await motsim('sql', dir, '-c', 'INSERT INTO t VALUES (2); SELECT k FROM t ORDER BY k;');
    expect(next.err).toBe('');
    expect(next.code).toBe(0);
    expect(next.out).toMatch(/INSERT 0 1[\s\S]*\(2 rows\)/);
  });
});
