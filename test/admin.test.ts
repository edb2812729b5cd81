// Administration: accounts and privileges (and their survival across a restart), mo_ctl flush_table,
// statistics reports on an injected clock, too many clients, the memory limit, and a full disk
// (simulated quota, and a real tmpfs where one can be mounted) without losing an acknowledged commit.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Engine } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import { isMotError, type MotError } from '../src/errors.js';
import { moCtl } from '../src/admin/mo-ctl.js';
import { SYS_LOGIN } from '../src/admin/accounts.js';
import { createWorld } from '../src/sim/world.js';
import type { Session } from '../src/transaction/session.js';
import { ManualClock } from './helpers/manual-clock.js';

async function sqlError(engine: Engine, text: string, session?: Session): Promise<MotError> {
  try {
    await engine.sql(text, session);
  } catch (e) {
    if (isMotError(e)) return e;
    throw e;
  }
  throw new Error(`expected "${text}" to fail`);
}

async function rejection(p: Promise<unknown>): Promise<MotError> {
  try {
    await p;
  } catch (e) {
    if (isMotError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('accounts and privileges', () => {
  it('a tenant sees and touches only its own databases; permission errors are 42501 naming account and object', async () => {
    const disk = new MemDisk();
    const engine = await Engine.open('/db', { disk });
    await engine.sql("create table t (id int primary key); insert into t values (1); create account acme admin_name 'boss'; create account zeta admin_name 'z'");
    const acme = engine.openSession({ account: 'acme', user: 'boss' });
    await engine.sql('create database shop; use shop; create table items (id int primary key, n varchar(8)); insert into items values (7, \'nail\')', acme);
    const zeta = engine.openSession({ account: 'zeta' });
    const denied = await sqlError(engine, 'select * from shop.items', zeta);
    expect(denied.sqlstate).toBe('42501');
    expect(denied.message).toMatch(/account "zeta".*database "shop"/);
    expect((await sqlError(engine, 'select * from postgres.t', acme)).message).toMatch(/account "acme".*database "postgres"/);
    expect((await sqlError(engine, 'use shop', zeta)).sqlstate).toBe('42501');
    expect((await sqlError(engine, 'drop database shop', zeta)).sqlstate).toBe('42501');
    expect((await sqlError(engine, "create account x admin_name 'a'", acme)).message).toMatch(/account "acme".*needs the "sys" account/);
    expect((await engine.sql('show databases', zeta))[0]!.rows).toEqual([]);
    expect((await engine.sql('show databases', acme))[0]!.rows).toEqual([['shop']]);
    // sys sees everything; the table lives in the catalog as shop.items, postgres tables keep bare names
    expect((await engine.sql('select * from shop.items'))[0]!.rows).toEqual([[7, 'nail']]);
    expect(engine.table('t').rowCount()).toBe(1);
    expect(engine.table('shop.items').rowCount()).toBe(1);
    // a non-administrator user of the account may use its databases but not create them
    await engine.sql('create user clerk', acme);
    const clerk = engine.openSession({ account: 'acme', user: 'clerk' });
    expect((await engine.sql('select n from items', clerk))[0]!.rows).toEqual([['nail']]);
    expect((await sqlError(engine, 'create database more', clerk)).message).toMatch(/account's administrator/);
    expect(() => engine.openSession({ account: 'acme', user: 'nobody' })).toThrow(/account "acme" has no user "nobody"/);
    expect(() => engine.openSession({ account: 'ghost' })).toThrow(/login refused/);
    await engine.close();

    // accounts, users and databases survive a restart (accounts.json), and so do the tables (WAL)
    const again = await Engine.open('/db', { disk });
    const acme2 = again.openSession({ account: 'acme', user: 'clerk' });
    expect((await again.sql('use shop; select * from items', acme2))[1]!.rows).toEqual([[7, 'nail']]);
    expect((await sqlError(again, 'select * from shop.items', again.openSession({ account: 'zeta' }))).sqlstate).toBe('42501');
    await again.sql('drop account acme');
    expect(again.tables().map((t) => t.name)).toEqual(['t']);
    expect(() => again.openSession({ account: 'acme' })).toThrow(/login refused/);
    await again.close();
  });
});

describe('names (issue 9)', () => {
  it('defect 22: names are at most 63 bytes of UTF-8 (42622) and hold no NUL, control character or lone surrogate (42602), for tables, indexes, databases, accounts, users and PITRs, from SQL and the API', async () => {
    const disk = new MemDisk();
    const engine = await Engine.open('/db', { disk });
    const def = (name: string, extra: Partial<{ column: string; index: string }> = {}) => ({
      name,
      columns: [{ name: 'id', type: 'int32' as const }, { name: extra.column ?? 'v', type: 'int32' as const }],
      primaryKey: ['id'],
      ...(extra.index === undefined ? {} : { indexes: [{ name: extra.index, columns: ['v'] }] }),
    });
    const a63 = 'a'.repeat(63);
    const e31 = '\u00e9'.repeat(31); // 62 bytes of UTF-8 in 31 UTF-16 units
    const e32 = '\u00e9'.repeat(32); // 64 bytes in 32 units: too long, though only 32 "characters"
    // the library API
    for (const [d, state, pattern] of [
      [def('x'.repeat(5000)), '42622', /table name "x{64}\.\.\." is too long: 5000 bytes of UTF-8, at most 63/],
      [def(a63 + 'b'), '42622', /table name .* 64 bytes/],
      [def(e32), '42622', /64 bytes/],
      [def('t\u0000x'), '42602', /invalid table name "t\\u0000x": it contains the control character U\+0000 at position 1/],
      [def('t\nx'), '42602', /U\+000A/],
      [def('t\u009bx'), '42602', /"t\\u009bx".*U\+009B/],
      [def('t\ud800'), '42602', /a lone surrogate/],
      [def('db'.repeat(32) + '.t'), '42622', /database name/],
      [def('t', { index: 'i'.repeat(64) }), '42622', /index name/],
      [def('t', { index: 'i\u0000' }), '42602', /index name/],
      [def('t', { column: 'c\u0000' }), '42602', /column name/],
    ] as const) {
      const err = await rejection(engine.createTable(d));
      expect([err.sqlstate, err.message], d.name.slice(0, 20)).toEqual([state, expect.stringMatching(pattern)]);
    }
    expect(engine.tables()).toHaveLength(0);
    await engine.createTable(def(a63));
    await engine.createTable(def(e31));
    // SQL: quoted identifiers can carry anything, so the same rule applies there
    for (const [text, state] of [
      [`create table "${'y'.repeat(64)}" (id int primary key)`, '42622'],
      [`create table "${e32}" (id int primary key)`, '42622'],
      ['create table "a\u0000b" (id int primary key)', '42602'],
      ['create table t (id int primary key, "c\u0001" int)', '42602'],
      [`create database "${e32}"`, '42622'],
      [`create database "${'d'.repeat(64)}"`, '42622'],
      ['create database "d\u0000x"', '42602'],
      ['create database "d\tx"', '42602'],
      [`create account "${e32}" admin_name 'boss'`, '42622'],
      ['create account "a\u0000" admin_name \'boss\'', '42602'],
      [`create account acme2 admin_name '${e32}'`, '42622'],
      ['create account acme3 admin_name \'b\u0000\'', '42602'],
      [`create pitr "${e32}" for cluster range 1 'h'`, '42622'],
      ['create pitr "p\u0000" for cluster range 1 \'h\'', '42602'],
    ] as const) {
      expect((await sqlError(engine, text)).sqlstate, text.slice(0, 40)).toBe(state);
    }
    await engine.sql(`create database "${e31}"; create account "${e31}" admin_name '${e31}'; create pitr "${e31}" for cluster range 1 'h'`);
    const tenant = engine.openSession({ account: e31 });
    expect((await sqlError(engine, `create user "${e32}"`, tenant)).sqlstate).toBe('42622');
    expect((await sqlError(engine, 'create user "u\u001b[31m"', tenant)).sqlstate).toBe('42602');
    await engine.sql(`create user "${e31}x"`, tenant);
    await engine.close();
    // every name that was accepted comes back unchanged
    const again = await Engine.open('/db', { disk });
    expect(again.tables().map((t) => t.name).sort()).toEqual([a63, e31].sort());
    expect((await again.sql('show databases'))[0]!.rows).toEqual([['postgres'], [e31]]);
    expect(again.pitrs.show(SYS_LOGIN).map((p) => p.name)).toEqual([e31]);
    expect((await again.sql('show users', again.openSession({ account: e31, user: `${e31}x` })))[0]!.rows).toEqual([[e31], [`${e31}x`]]);
    await again.close();
  });
});

/** What each settled operation gave: 'ok' or its SQLSTATE (a non-MotError fails the test). */
function outcomes(results: PromiseSettledResult<unknown>[]): string[] {
  return results.map((r) => {
    if (r.status === 'fulfilled') return 'ok';
    if (!isMotError(r.reason)) throw r.reason;
    return r.reason.sqlstate;
  });
}

describe('concurrent DDL and administration (issue 9)', () => {
  // Each race is forced: both operations start in one synchronous step (Promise.allSettled of two
  // calls), so each passes its checks before either reaches its first await (a WAL or file write).
  // (Asynchronous mode logs a CREATE TABLE without waiting, so it has no await to race across.)
  for (const mode of ['synchronous', 'group'] as const) {
    it(`defect 14: two concurrent CREATE TABLE of one name: exactly one succeeds, the other gets 42P07; no ghost after DROP, checkpoint and reopen (${mode})`, async () => {
      const disk = new MemDisk();
      const config = mode === 'group' ? { enable_group_commit: true, group_commit_size: 2, group_commit_timeout: 1 } : {};
      const engine = await Engine.open('/db', { disk, config });
      const sqlRace = outcomes(await Promise.allSettled([engine.sql('create table u (id int primary key)'), engine.sql('create table u (id int primary key, v int)')]));
      expect(sqlRace.sort()).toEqual(['42P07', 'ok']);
      const def = { name: 'w', columns: [{ name: 'id', type: 'int32' as const }], primaryKey: ['id'] };
      expect(outcomes(await Promise.allSettled([engine.createTable(def), engine.createTable(def), engine.createTable(def)])).sort()).toEqual(['42P07', '42P07', 'ok']);
      expect(outcomes(await Promise.allSettled([engine.sql('create table if not exists v (id int primary key)'), engine.sql('create table if not exists v (id int primary key)')]))).toEqual(['ok', 'ok']);
      expect(engine.tables().map((t) => t.name)).toEqual(['u', 'w', 'v']);
      await engine.sql("insert into u values (1); drop table u; insert into w values (1)");
      expect(engine.tables().map((t) => t.name)).toEqual(['w', 'v']);
      await engine.checkpoint();
      await engine.close();
      const again = await Engine.open('/db', { disk, config });
      expect(again.tables().map((t) => t.name)).toEqual(['w', 'v']);
      expect((await sqlError(again, 'select * from u')).sqlstate).toBe('42P01');
      await again.close();
    });
  }

  it('defect 14: concurrent DROP TABLE twice, DROP with CREATE or TRUNCATE of the name: one serial order explains every answer, and the WAL replays', async () => {
    const disk = new MemDisk();
    const engine = await Engine.open('/db', { disk });
    await engine.sql('create table a (id int primary key); create table b (id int primary key); create table c (id int primary key); create table d (id int primary key); insert into c values (1)');
    expect(outcomes(await Promise.allSettled([engine.sql('drop table a'), engine.sql('drop table a')]))).toEqual(['ok', '42P01']);
    expect(outcomes(await Promise.allSettled([engine.sql('drop table if exists b'), engine.sql('drop table if exists b')]))).toEqual(['ok', 'ok']);
    // DROP first: the CREATE sees the name taken until the drop is done; TRUNCATE sees no table
    expect(outcomes(await Promise.allSettled([engine.sql('drop table c'), engine.sql('create table c (id int primary key, v int)'), engine.truncateTable('c')]))).toEqual(['ok', '42P07', '42P01']);
    // TRUNCATE first: a DROP or a second TRUNCATE meanwhile is refused (55006, nothing waits): the
    // table is locked whole until the first is applied
    expect(outcomes(await Promise.allSettled([engine.truncateTable('d'), engine.dropTable('d'), engine.truncateTable('d')]))).toEqual(['ok', '55006', '55006']);
    expect(engine.tables().map((t) => t.name)).toEqual(['d']);
    await engine.close();
    const again = await Engine.open('/db', { disk });
    expect(again.tables().map((t) => t.name)).toEqual(['d']);
    expect(again.recovery.wal.toleratedErrors).toBe(0); // no drop of a missing table id was logged
    await again.close();
  });

  it('defect 14: CREATE DATABASE of one name by two tenants at once: exactly one owns it (the other gets 42P04), also after reopen', async () => {
    const disk = new MemDisk();
    const engine = await Engine.open('/db', { disk });
    await engine.sql("create account c admin_name 'ca'; create account d admin_name 'da'");
    const c = engine.openSession({ account: 'c' });
    const d = engine.openSession({ account: 'd' });
    const race = outcomes(await Promise.allSettled([engine.sql('create database x', c), engine.sql('create database x', d)]));
    expect(race).toEqual(['ok', '42P04']);
    expect(engine.accounts.ownerOf('x')).toBe('c');
    expect((await engine.sql('show databases', d))[0]!.rows).toEqual([]);
    expect((await sqlError(engine, 'create table x.t (id int primary key)', d)).sqlstate).toBe('42501');
    expect(outcomes(await Promise.allSettled([engine.sql('create database if not exists y', c), engine.sql('create database if not exists y', c)]))).toEqual(['ok', 'ok']);
    await engine.close();
    const again = await Engine.open('/db', { disk });
    expect(again.accounts.ownerOf('x')).toBe('c');
    expect((await again.sql('show databases', again.openSession({ account: 'c' })))[0]!.rows).toEqual([['x'], ['y']]);
    await again.close();
  });

  it('defect 14: DROP DATABASE twice, and with a CREATE TABLE inside it: no table outlives its database, so a later owner of the name never sees one', async () => {
    const disk = new MemDisk();
    const engine = await Engine.open('/db', { disk, config: { synchronous_commit: false } });
    await engine.sql("create account c admin_name 'ca'; create account d admin_name 'da'");
    const c = engine.openSession({ account: 'c' });
    const d = engine.openSession({ account: 'd' });
    await engine.sql("create database x; create table x.t (id int primary key); insert into x.t values (1)", c);
    expect(outcomes(await Promise.allSettled([engine.sql('drop database x', c), engine.sql('drop database x', c), engine.sql('drop database if exists x', c)]))).toEqual(['ok', '3D000', 'ok']);
    expect(engine.tables().map((t) => t.name)).toEqual([]);
    await engine.sql('create database x; create table x.t (id int primary key)', c);
    // CREATE TABLE first: the DROP DATABASE meanwhile is refused (55006)
    expect(outcomes(await Promise.allSettled([engine.sql('create table x.u (id int primary key)', c), engine.sql('drop database x', c)]))).toEqual(['ok', '55006']);
    // DROP DATABASE first: the CREATE TABLE meanwhile finds no database (3D000)
    expect(outcomes(await Promise.allSettled([engine.sql('drop database x', c), engine.sql('create table x.v (id int primary key)', c)]))).toEqual(['ok', '3D000']);
    expect(engine.tables().map((t) => t.name)).toEqual([]);
    // a table the library API left under a database name that does not exist is nobody's: a new
    // database of that name starts empty
    await engine.createTable({ name: 'z.orphan', columns: [{ name: 'id', type: 'int32' }], primaryKey: ['id'] });
    await engine.sql('create database z; create database x', d);
    expect((await engine.sql('use z; show tables', d))[1]!.rows).toEqual([]);
    expect((await engine.sql('use x; show tables', d))[1]!.rows).toEqual([]);
    await engine.close();
    const again = await Engine.open('/db', { disk });
    expect(again.tables().map((t) => t.name)).toEqual([]);
    await again.close();
  });

  it('defect 14: CREATE ACCOUNT twice at once: exactly one succeeds (42710) and its administrator can log in, also after reopen; DROP ACCOUNT twice; CREATE and DROP USER twice', async () => {
    const disk = new MemDisk();
    const engine = await Engine.open('/db', { disk });
    const race = outcomes(await Promise.allSettled([engine.sql("create account z admin_name 'first'"), engine.sql("create account z admin_name 'second'")]));
    expect(race).toEqual(['ok', '42710']);
    expect(engine.openSession({ account: 'z', user: 'first' })).toBeDefined();
    expect(() => engine.openSession({ account: 'z', user: 'second' })).toThrow(/login refused/);
    const z = engine.openSession({ account: 'z', user: 'first' });
    expect(outcomes(await Promise.allSettled([engine.sql('create user u1', z), engine.sql('create user u1', z)]))).toEqual(['ok', '42710']);
    await engine.sql('create user u2; create user u3', z);
    // the second DROP USER once removed the last user of the list instead
    expect(outcomes(await Promise.allSettled([engine.sql('drop user u1', z), engine.sql('drop user u1', z)]))).toEqual(['ok', '42704']);
    expect((await engine.sql('show users', z))[0]!.rows).toEqual([['first'], ['u2'], ['u3']]);
    await engine.sql("create account gone admin_name 'g'");
    const g = engine.openSession({ account: 'gone' });
    await engine.sql('create database gdb', g);
    // DROP ACCOUNT twice; a CREATE DATABASE of the dropped account's open session finds no account
    expect(outcomes(await Promise.allSettled([engine.sql('drop account gone'), engine.sql('drop account gone'), engine.sql('create database gdb2', g)]))).toEqual(['ok', '42704', '28000']);
    expect((await engine.sql('show databases'))[0]!.rows).toEqual([['postgres']]);
    await engine.close();
    const again = await Engine.open('/db', { disk });
    expect(again.openSession({ account: 'z', user: 'first' })).toBeDefined();
    expect((await again.sql('show accounts'))[0]!.rows).toEqual([['sys'], ['z']]);
    await again.close();
  });

  it('defect 14: CREATE PITR of one name by two tenants at once never replaces one with the other; concurrent ALTER and DROP never resurrect a dropped PITR', async () => {
    const disk = new MemDisk();
    const engine = await Engine.open('/db', { disk });
    await engine.sql("create account c admin_name 'ca'; create account d admin_name 'da'");
    const c = engine.openSession({ account: 'c' });
    const d = engine.openSession({ account: 'd' });
    const race = await Promise.allSettled([engine.sql("create pitr p for account range 1 'h'", c), engine.sql("create pitr p for account range 2 'd'", d)]);
    // whoever was told "created" has its own PITR, with its own range, now and after a restart
    const check = async (e: Engine): Promise<void> => {
      const cs = e.openSession({ account: 'c' });
      const ds = e.openSession({ account: 'd' });
      if (race[0]!.status === 'fulfilled') expect(e.pitrs.get({ account: 'c', user: 'ca', isAdmin: true }, 'p')).toMatchObject({ account: 'c', rangeValue: 1, rangeUnit: 'h' });
      if (race[1]!.status === 'fulfilled') expect(e.pitrs.get({ account: 'd', user: 'da', isAdmin: true }, 'p')).toMatchObject({ account: 'd', rangeValue: 2, rangeUnit: 'd' });
      const shown = [...(await e.sql('show pitr', cs))[0]!.rows, ...(await e.sql('show pitr', ds))[0]!.rows];
      expect(shown.length).toBe(race.filter((r) => r.status === 'fulfilled').length);
      cs.close();
      ds.close();
    };
    expect(outcomes(race)).toContain('ok');
    await check(engine);
    await engine.sql("create pitr q for account range 1 'h'", c);
    expect(outcomes(await Promise.allSettled([engine.sql('drop pitr q', c), engine.sql("alter pitr q range 5 'h'", c)]))).toEqual(['ok', '42704']);
    expect(outcomes(await Promise.allSettled([engine.sql('drop pitr p', c), engine.sql('drop pitr p', c)])).sort()).toEqual(race[0]!.status === 'fulfilled' ? ['42704', 'ok'] : ['42704', '42704']);
    await engine.close();
    const again = await Engine.open('/db', { disk });
    expect(again.pitrs.show(SYS_LOGIN).map((p) => `${p.account}:${p.name}`)).toEqual(race[1]!.status === 'fulfilled' ? ['d:p'] : []);
    await again.close();
  });
});

describe('account and database identity (issue 9)', () => {
  it('defect 15: a session of a dropped account cannot reach the databases of a new account of the same name (28000)', async () => {
    const engine = await Engine.open('/db', { disk: new MemDisk() });
    await engine.sql("create account c admin_name 'boss'");
    const old = engine.openSession({ account: 'c' });
    await engine.sql('drop account c');
    await engine.sql("create account c admin_name 'boss'");
    const fresh = engine.openSession({ account: 'c' });
    await engine.sql("create database mine; create table mine.t (id int primary key, v varchar(8)); insert into mine.t values (1, 'new')", fresh);
    for (const text of ['select * from mine.t', 'use mine', 'create database other', "insert into mine.t values (2, 'x')", 'show tables']) {
      expect((await sqlError(engine, text, old)).sqlstate, text).toBe('28000');
    }
    expect((await engine.sql('select v from mine.t', fresh))[0]!.rows).toEqual([['new']]);
    await engine.close();
  });

  it('accounts.json version 1 (no ids) is read, given ids, and written back as version 2', async () => {
    const disk = new MemDisk();
    await disk.mkdirp('/db');
    const v1 = { format: 'motsim-accounts', version: 1, accounts: [{ name: 'acme', admin: 'boss', users: ['clerk'], createdWallMs: 1 }], databases: [{ name: 'shop', account: 'acme', createdWallMs: 2 }] };
    const f = await disk.open('/db/accounts.json', { create: true });
    await f.write(0, new TextEncoder().encode(JSON.stringify(v1)));
    await f.close();
    const engine = await Engine.open('/db', { disk });
    const acme = engine.openSession({ account: 'acme', user: 'clerk' });
    expect((await engine.sql('show databases', acme))[0]!.rows).toEqual([['shop']]);
    expect(engine.accounts.databaseNow('shop')).toMatchObject({ name: 'shop', account: 'acme', accountId: 1, id: 2 });
    await engine.sql('create database more', engine.openSession({ account: 'acme' }));
    await engine.close();
    const written = JSON.parse(new TextDecoder().decode(await disk.readFile('/db/accounts.json'))) as { version: number; nextId: number; databases: { name: string; id: number }[] };
    expect([written.version, written.nextId, written.databases.map((d) => `${d.name}#${d.id}`)]).toEqual([2, 4, ['shop#2', 'more#3']]);
  });
});

describe('mo_ctl', () => {
  it("flush_table returns exactly {method: 'Flush', result: [{returnStr: 'OK'}]} from the API and SQL, after the data is durable", async () => {
    const engine = await Engine.open('/db', { disk: new MemDisk(), config: { synchronous_commit: false, wal_writer_delay: '10s' } });
    await engine.sql('create database d; create table d.t (id int primary key); insert into d.t values (1), (2)');
    expect(engine.stats().walDurableLsn).toBeLessThan(engine.stats().walEndLsn + 1);
    const before = engine.stats().flushes;
    expect(await moCtl(engine, SYS_LOGIN, { name: 'flush_table', database: 'd', table: 't' })).toEqual({ method: 'Flush', result: [{ returnStr: 'OK' }] });
    expect(engine.stats().flushes).toBeGreaterThan(before);
    expect(engine.stats().walDurableLsn).toBe(engine.stats().walEndLsn);
    for (const call of ["mo_ctl('dn', 'flush', 'd.t')", "mo_ctl('flush_table', 'd', 't')"]) {
      const [r] = await engine.sql(`select ${call}`);
      expect(r!.columns).toEqual(['mo_ctl']);
      expect(JSON.parse(r!.rows[0]![0] as string)).toEqual({ method: 'Flush', result: [{ returnStr: 'OK' }] });
    }
    expect((await sqlError(engine, "select mo_ctl('dn', 'flush', 'd.nope')")).sqlstate).toBe('42P01');
    expect((await sqlError(engine, "select mo_ctl('dn', 'nosuchcall', '')")).sqlstate).toBe('0A000');
    await engine.close();
  });

  it('needs the sys account: a tenant gets a permission error naming its account', async () => {
    const engine = await Engine.open('/db', { disk: new MemDisk() });
    await engine.sql("create account acme admin_name 'boss'");
    const acme = engine.openSession({ account: 'acme' });
    await engine.sql('create database shop; create table shop.t (id int primary key)', acme);
    const e = await sqlError(engine, "select mo_ctl('dn', 'flush', 'shop.t')", acme);
    expect([e.sqlstate, e.message]).toEqual(['42501', expect.stringMatching(/account "acme".*mo_ctl flush_table needs the "sys" account/)]);
    const api = await rejection(moCtl(engine, engine.accounts.login('acme', undefined), { name: 'flush_table', database: 'shop', table: 't' }));
    expect(api.sqlstate).toBe('42501');
    await engine.close();
  });
});

describe('statistics', () => {
  it('off by default; when on, a report every print_stats_period on the injected clock', async () => {
    const quiet: string[] = [];
    const clock0 = new ManualClock();
    const off = await Engine.open('/a', { disk: new MemDisk(), clock: clock0, statsSink: (r) => quiet.push(r) });
    await clock0.advance(120_000_000);
    expect(quiet).toEqual([]);
    await off.close();

    const reports: string[] = [];
    const clock = new ManualClock();
    const engine = await Engine.open('/b', {
      disk: new MemDisk(),
      clock,
      statsSink: (r) => reports.push(r),
      config: { enable_stats: true, print_stats_period: '1s', enable_group_commit: true, group_commit_size: 2, group_commit_timeout: '1ms' },
    });
    const created = engine.sql('create table t (id int primary key)');
    await clock.advance(2000);
    await created;
    const a = engine.openSession();
    const b = engine.openSession({ core: 0 });
    const c1 = engine.sql('insert into t values (1)', a);
    const c2 = engine.sql('insert into t values (2)', b);
    await clock.advance(2000);
    await Promise.all([c1, c2]);
    await engine.sql('begin; insert into t values (3); rollback', a);
    await clock.advance(1_000_000);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/commits=\d+ .* aborts=1/);
    expect(reports[0]).toMatch(/groups: [1-9]\d* \(average size [\d.]+\); flushes: [1-9]/);
    expect(reports[0]).toMatch(/commit latency us: n=[1-9]/);
    expect(reports[0]).toMatch(/flush latency us: n=[1-9]/);
    await clock.advance(1_000_000);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatch(/commits=0 .* aborts=0/);
    expect(engine.stats()).toMatchObject({ transactionsAborted: 1 });
    expect(engine.stats().transactions).toBeGreaterThanOrEqual(3); // the log's counters are still there
    await engine.close();
    await clock.advance(5_000_000);
    expect(reports).toHaveLength(2); // stopped with the engine
  });
});

describe('limits', () => {
  it('too many clients: the session past max_connections gets 53300; closing one makes room', async () => {
    const engine = await Engine.open('/db', { disk: new MemDisk(), config: { max_connections: 3 } });
    const sessions = [engine.openSession(), engine.openSession(), engine.openSession()];
    let e: unknown;
    try {
      engine.openSession();
    } catch (x) {
      e = x;
    }
    expect(isMotError(e) && [e.sqlstate, e.message]).toEqual(['53300', 'sorry, too many clients already (max_connections = 3)']);
    sessions[0]!.close();
    engine.openSession();
    await engine.close();
  });

  // Rows' memory is reserved before the redo is handed to the log (Transaction.reserveSlots), so
  // running out fails the commit cleanly instead of after its redo is durable.
  it("max_mot_global_memory: the failing transaction aborts with MOT's maximum logical capacity error; others continue", async () => {
    const engine = await Engine.open('/db', { disk: new MemDisk(), config: { sockets: 1, max_mot_global_memory: '4MB' } });
    await engine.sql('create table t (id int primary key, pad varchar(1000))');
    const s = engine.openSession();
    let committed = 0;
    let error: MotError | undefined;
    for (let i = 0; i < 40 && !error; i++) {
      const values = Array.from({ length: 250 }, (_, k) => `(${i * 250 + k}, 'x')`).join(', ');
      try {
        await engine.sql(`insert into t values ${values}`, s);
        committed += 250;
      } catch (e) {
        if (!isMotError(e)) throw e;
        error = e;
      }
    }
    expect(error?.sqlstate).toBe('YY006');
    expect(error?.detail).toMatch(/reached the maximum logical memory capacity/);
    expect(s.inTransaction).toBe(false);
    expect(engine.table('t').rowCount()).toBe(committed);
    await engine.sql('delete from t where id = 0; update t set pad = \'y\' where id = 1', s); // others continue
    expect(engine.table('t').rowCount()).toBe(committed - 1);
    await engine.close();
  });
});

describe('disk full', () => {
  for (const preallocate of [false, true]) {
    it(`ENOSPC on the simulated disk (wal_preallocate ${preallocate}): commits fail with 53100, the engine stays read-only and consistent, then writes again when space returns; nothing acknowledged is lost`, async () => {
      const w = createWorld(preallocate ? 61 : 60, { disk: 'instant' });
      const config = { wal_preallocate: preallocate, wal_segment_size: '1MB', redo_buffer_size: '64KB', synchronous_commit: true };
      const engine = await w.run('open', Engine.open('/data', w.engineOptions({ config })));
      await w.run('create', engine.sql('create table t (id int primary key, pad varchar(200))'));
      const acked: number[] = [];
      const s = engine.openSession();
      w.disk.setQuotaBytes(w.disk.stats().usedBytes + (preallocate ? 1024 * 1024 + 20_000 : 20_000));
      let first: MotError | undefined;
      for (let id = 0; id < 20_000 && !first; id++) {
        try {
          await w.run(`insert ${id}`, engine.sql(`insert into t values (${id}, '${'p'.repeat(150)}')`, s));
          acked.push(id);
        } catch (e) {
          if (!isMotError(e)) throw e;
          first = e;
        }
      }
      expect(first?.sqlstate).toBe('53100');
      expect(first?.message).toMatch(/ENOSPC.*the transaction was not committed/);
      const refused = await rejection(w.run('refused', engine.sql("insert into t values (-1, 'x')", s)));
      expect([refused.sqlstate, refused.message]).toEqual(['53100', expect.stringContaining('read-only until disk space returns')]);
      expect(engine.stats().walFailedForSpace).toBe(true);
      expect(await w.run('still full', engine.retryAfterDiskFull())).toBe(false);
      // reads go on, and see exactly the acknowledged rows
      expect((await w.run('read', engine.sql('select id from t', s)))[0]!.rows.map((r) => r[0])).toEqual(acked);

      w.disk.setQuotaBytes(Number.POSITIVE_INFINITY);
      expect(await w.run('space returned', engine.retryAfterDiskFull())).toBe(true);
      for (let id = 100_000; id < 100_050; id++) {
        await w.run(`after ${id}`, engine.sql(`insert into t values (${id}, 'after')`, s));
        acked.push(id);
      }
      w.crash(engine);
      const w2 = w.restart();
      const again = await w2.run('reopen', Engine.open('/data', w2.engineOptions({ config })));
      const ids = (await w2.run('read', again.sql('select id from t')))[0]!.rows.map((r) => r[0]);
      expect(ids).toEqual(acked); // every acknowledged commit, and nothing that was refused
      await w2.run('close', again.close());
    });
  }

  it('asynchronous mode stays read-only until reopened (its memory is ahead of the log)', async () => {
    const w = createWorld(62, { disk: 'instant' });
    const config = { wal_preallocate: false, synchronous_commit: false, wal_writer_delay: '1ms' };
    const engine = await w.run('open', Engine.open('/data', w.engineOptions({ config })));
    await w.run('create', engine.sql('create table t (id int primary key, pad varchar(200))'));
    w.disk.setQuotaBytes(w.disk.stats().usedBytes + 5000);
    for (let id = 0; id < 200; id++) await w.run(`insert ${id}`, engine.sql(`insert into t values (${id}, '${'p'.repeat(150)}')`).catch(() => undefined));
    await w.run('flush', engine.flush().catch(() => undefined));
    w.disk.setQuotaBytes(Number.POSITIVE_INFINITY);
    expect(await w.run('retry', engine.retryAfterDiskFull())).toBe(false);
    expect((await rejection(w.run('refused', engine.sql("insert into t values (-1, 'x')")))).sqlstate).toBe('25006');
    w.crash(engine);
  });

  it('ENOSPC on a real 2 MB tmpfs: nothing acknowledged is lost, writes resume when space returns', async (ctx) => {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'motsim-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      fs.rmSync(mnt, { recursive: true, force: true });
      ctx.skip('cannot mount a tmpfs here (needs root): the simulated-disk tests above cover ENOSPC');
      return;
    }
    try {
      const dir = path.join(mnt, 'data');
      const config = { wal_preallocate: false, wal_segment_size: '1MB', redo_buffer_size: '64KB', wal_flusher: 'committer' };
      const engine = await Engine.open(dir, { config });
      await engine.sql('create table t (id int primary key, pad varchar(1000))');
      const filler = path.join(mnt, 'filler');
      const free = (): number => fs.statfsSync(mnt).bavail * fs.statfsSync(mnt).bsize;
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 64 * 1024)));
      const s = engine.openSession();
      const acked: number[] = [];
      let first: MotError | undefined;
      for (let id = 0; id < 10_000 && !first; id++) {
        try {
          await engine.sql(`insert into t values (${id}, '${'p'.repeat(900)}')`, s);
          acked.push(id);
        } catch (e) {
          if (!isMotError(e)) throw e;
          first = e;
        }
      }
      expect(first?.sqlstate).toBe('53100');
      expect((await rejection(engine.sql("insert into t values (-1, 'x')", s))).sqlstate).toBe('53100');
      fs.rmSync(filler);
      expect(await engine.retryAfterDiskFull()).toBe(true);
      for (let id = 50_000; id < 50_010; id++) {
        await engine.sql(`insert into t values (${id}, 'after')`, s);
        acked.push(id);
      }
      await engine.close();
      const again = await Engine.open(dir, { config });
      expect((await again.sql('select id from t'))[0]!.rows.map((r) => r[0])).toEqual(acked);
      await again.close();
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  });
});
