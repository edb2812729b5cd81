// The SQL face: the parser (statements, error positions, refused forms), each statement against the
// engine, psql-style output, VACUUM and the monitoring functions.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Engine } from '../src/engine.js';
import { MemDisk } from '../src/wal/mem-disk.js';
import { parseSql } from '../src/sql/parser.js';
import { formatResult } from '../src/sql/format.js';
import { isMotError, type MotError } from '../src/errors.js';
import type { Session } from '../src/transaction/session.js';
import { VACUUM_LOCK_WAIT_MS_MAX } from '../src/admin/vacuum.js';
import { ManualClock } from './helpers/manual-clock.js';

async function open(config: Record<string, string | number | boolean> = {}): Promise<Engine> {
  return Engine.open('/db', { disk: new MemDisk(), config: { sockets: 2, ...config } });
}

function errorOf(fn: () => unknown): MotError {
  try {
    fn();
  } catch (e) {
    if (isMotError(e)) return e;
    throw e;
  }
  throw new Error('expected a MotError');
}

async function sqlError(engine: Engine, text: string, session?: Session): Promise<MotError> {
  try {
    await engine.sql(text, session);
  } catch (e) {
    if (isMotError(e)) return e;
    throw e;
  }
  throw new Error(`expected "${text}" to fail`);
}

describe('parser', () => {
  it('parses every statement form of the dialect', () => {
    const kinds = parseSql(`
      CREATE TABLE IF NOT EXISTS db.t (a int NOT NULL, b bigint, c float8, d double precision, e boolean, f varchar(10), g bytea(4), PRIMARY KEY (a, b));
      CREATE TABLE u (id integer PRIMARY KEY, x character varying(5) NULL);
      DROP TABLE IF EXISTS t; INSERT INTO t (a, b) VALUES (1, -2), (3, 4); UPDATE t SET f = 'x', e = true WHERE a = 1 AND b = 2;
      DELETE FROM t WHERE a = 1; SELECT * FROM t WHERE a BETWEEN 1 AND 5 ORDER BY a DESC LIMIT 3; SELECT a, b FROM t WHERE a >= 1 AND a <= 2;
      BEGIN; COMMIT; ROLLBACK; START TRANSACTION; END; VACUUM; VACUUM FULL t; VACUUM ANALYZE db.t; VACUUM (FULL, ANALYZE) t;
      SELECT * FROM mot_global_memory_detail(); SELECT pg_relation_size('t'), mo_ctl('dn', 'flush', 'db.t');
      CREATE DATABASE d; DROP DATABASE IF EXISTS d; USE d; CREATE ACCOUNT acc ADMIN_NAME 'admin' IDENTIFIED BY 'pw'; DROP ACCOUNT acc;
      CREATE USER bob IDENTIFIED BY 'x'; DROP USER bob; SHOW TABLES; SHOW DATABASES; SHOW ACCOUNTS; SHOW USERS
    `).map((p) => p.statement.kind);
    expect(kinds).toEqual([
      'create_table', 'create_table', 'drop_table', 'insert', 'update', 'delete', 'select', 'select',
      'begin', 'commit', 'rollback', 'begin', 'commit', 'vacuum', 'vacuum', 'vacuum', 'vacuum',
      'select', 'select', 'create_database', 'drop_database', 'use', 'create_account', 'drop_account',
      'create_user', 'drop_user', 'show', 'show', 'show', 'show',
    ]);
  });

  it('maps the SQL types to MOT column types, composite keys and NOT NULL', () => {
    const [p] = parseSql('create table t (a int, b bigint not null, c float8, d bool, e varchar(7), f bytea(3), primary key (a, b))');
    const st = p!.statement;
    if (st.kind !== 'create_table') throw new Error(st.kind);
    expect(st.columns.map((c) => [c.name, c.type, c.size, c.notNull])).toEqual([
      ['a', 'int32', undefined, false],
      ['b', 'int64', undefined, true],
      ['c', 'float64', undefined, false],
      ['d', 'bool', undefined, false],
      ['e', 'varchar', 7, false],
      ['f', 'bytes', 3, false],
    ]);
    expect(st.primaryKey).toEqual(['a', 'b']);
  });

  it('a syntax error names the offending token with line, column, a caret line and SQLSTATE 42601', () => {
    const e = errorOf(() => parseSql('SELECT *\nFROM t\nWHERE id = = 3'));
    expect(e.sqlstate).toBe('42601');
    expect(e.message).toBe('syntax error at line 3, column 12: expected a value (number, \'string\', TRUE, FALSE or NULL), found "="');
    expect(e.detail).toBe('\nWHERE id = = 3\n           ^');
    const lex = errorOf(() => parseSql("insert into t values ('open"));
    expect(lex.message).toMatch(/line 1, column 23: unterminated quoted string/);
    expect(errorOf(() => parseSql('selec 1')).message).toMatch(/line 1, column 1: expected a statement, found "selec"/);
    expect(errorOf(() => parseSql('create table t (a int')).message).toMatch(/expected "\)", found end of input/);
    expect(errorOf(() => parseSql('select a from t where a = 1 or a = 2')).sqlstate).toBe('0A000');
  });

  it('a syntax error anywhere is found before anything runs, at the right column (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 3 }), (spaces, lines) => {
        const text = `${'\n'.repeat(lines)}${' '.repeat(spaces)}select * frm t`;
        const e = errorOf(() => parseSql(text));
        expect(e.message).toContain(`line ${lines + 1}, column ${spaces + 10}:`);
        expect(e.detail!.split('\n').pop()).toBe(`${' '.repeat(spaces + 9)}^`);
      }),
      { numRuns: 50 },
    );
  });

  it('VACUUM FREEZE, VERBOSE, column lists and lazy mode are refused, naming what (0A000)', () => {
    for (const [text, what] of [
      ['VACUUM FREEZE t', 'VACUUM FREEZE'],
      ['VACUUM VERBOSE', 'VACUUM VERBOSE'],
      ['VACUUM (FULL, VERBOSE) t', 'VACUUM VERBOSE'],
      ['VACUUM ANALYZE t (a, b)', 'column list'],
      ['VACUUM LAZY t', 'lazy VACUUM'],
      ['VACUUM (FULL false) t', 'lazy VACUUM'],
    ] as const) {
      const e = errorOf(() => parseSql(text));
      expect(e.sqlstate, text).toBe('0A000');
      expect(e.message, text).toContain(what);
    }
  });
});

describe('statements', () => {
  it('TRUNCATE [TABLE], CHECKPOINT (sys only) and the PITR statements parse and run', async () => {
    const kinds = parseSql(
      "truncate t; truncate table d.t; checkpoint; create pitr p for table d table t range 1; create pitr q for table d.t range 2 h; alter pitr p range 3 'mo'; drop pitr if exists p; show pitr where pitr_level = 'table'; restore table d.t from pitr q timestamp '2026-01-01 00:00:00'",
    ).map((p) => p.statement);
    expect(kinds.map((k) => k.kind)).toEqual(['truncate', 'truncate', 'checkpoint', 'create_pitr', 'create_pitr', 'alter_pitr', 'drop_pitr', 'show_pitr', 'restore']);
    expect(kinds[3]).toMatchObject({ target: { level: 'table', database: 'd', table: 't' }, rangeValue: 1, rangeUnit: undefined });
    expect(kinds[4]).toMatchObject({ target: { level: 'table', database: 'd', table: 't' }, rangeValue: 2, rangeUnit: 'h' });
    const engine = await open();
    await engine.sql("create table t (id int primary key); insert into t values (1), (2); truncate t; insert into t values (3)");
    expect((await engine.sql('select * from t'))[0]!.rows).toEqual([[3]]);
    expect((await engine.sql('checkpoint'))[0]!.command).toBe('CHECKPOINT');
    await engine.sql("create account acme admin_name 'boss'");
    expect((await sqlError(engine, 'checkpoint', engine.openSession({ account: 'acme' }))).sqlstate).toBe('42501');
    await engine.close();
    const reopened = await Engine.open('/db', { disk: (engine as unknown as { disk: MemDisk }).disk });
    expect((await reopened.sql('select * from t'))[0]!.rows).toEqual([[3]]);
    await reopened.close();
  });

  it('CREATE, INSERT (multi-row), SELECT by key, range, ORDER BY, LIMIT, UPDATE, DELETE, DROP', async () => {
    const engine = await open();
    const r = await engine.sql(`
      CREATE TABLE acct (id bigint PRIMARY KEY, owner varchar(16) NOT NULL, balance float8, vip boolean, tag bytea(4));
      INSERT INTO acct VALUES (1, 'ann', 10.5, true, '\\x0a0b'), (2, 'bob', 20, false, NULL), (3, 'cy', NULL, NULL, 'hi');
      INSERT INTO acct (id, owner) VALUES (4, 'dee');
      SELECT * FROM acct WHERE id = 1;
      SELECT id, owner FROM acct WHERE id BETWEEN 2 AND 3;
      SELECT id FROM acct WHERE id >= 2 AND id <= 4 ORDER BY id DESC LIMIT 2;
      UPDATE acct SET balance = 99, vip = 'yes' WHERE id = 2;
      DELETE FROM acct WHERE id = 3;
      SELECT id, balance, vip FROM acct ORDER BY id;
    `);
    expect(r.map((x) => x.command)).toEqual(['CREATE TABLE', 'INSERT 0 3', 'INSERT 0 1', 'SELECT 1', 'SELECT 2', 'SELECT 2', 'UPDATE 1', 'DELETE 1', 'SELECT 3']);
    expect(r[3]!.rows).toEqual([[1n, 'ann', 10.5, true, Uint8Array.from([10, 11])]]);
    expect(r[4]!.rows).toEqual([[2n, 'bob'], [3n, 'cy']]);
    expect(r[5]!.rows).toEqual([[4n], [3n]]);
    expect(r[8]!.rows).toEqual([[1n, 10.5, true], [2n, 99, true], [4n, null, null]]);
    expect(engine.table('acct').rowCount()).toBe(3);
    expect((await engine.sql('DROP TABLE acct'))[0]!.command).toBe('DROP TABLE');
    expect(engine.tables()).toHaveLength(0);
    await engine.close();
  });

  it('composite primary keys: point lookup, update and delete by the whole key', async () => {
    const engine = await open();
    await engine.sql('create table m (a int, b int, v varchar(8), primary key (a, b)); insert into m values (1, 1, \'x\'), (1, 2, \'y\'), (2, 1, \'z\')');
    const [sel, upd, del, all] = await engine.sql("select v from m where a = 1 and b = 2; update m set v = 'w' where a = 2 and b = 1; delete from m where a = 1 and b = 1; select * from m");
    expect(sel!.rows).toEqual([['y']]);
    expect([upd!.command, del!.command]).toEqual(['UPDATE 1', 'DELETE 1']);
    expect(all!.rows).toEqual([[1, 2, 'y'], [2, 1, 'w']]);
    await engine.close();
  });

  it('BEGIN ... COMMIT is one transaction; ROLLBACK discards; an error rolls the block back', async () => {
    const engine = await open();
    const s = engine.openSession();
    await engine.sql('create table t (id int primary key, v int)', s);
    await engine.sql('begin; insert into t values (1, 1); insert into t values (2, 2)', s);
    expect(engine.table('t').rowCount()).toBe(0); // not committed yet
    await engine.sql('commit', s);
    expect(engine.table('t').rowCount()).toBe(2);
    await engine.sql('begin; delete from t where id = 1; rollback', s);
    expect(engine.table('t').rowCount()).toBe(2);
    const e = await sqlError(engine, 'begin; insert into t values (3, 3); insert into t values (1, 9)', s);
    expect(e.sqlstate).toBe('23505');
    expect(e.detail).toMatch(/The transaction block was rolled back/);
    expect(s.inTransaction).toBe(false);
    expect((await engine.sql('select id from t', s))[0]!.rows).toEqual([[1], [2]]);
    expect((await sqlError(engine, 'begin; vacuum t', s)).sqlstate).toBe('25001');
    await engine.close();
  });

  it('errors name the table, column and token: unknown table, column, bad value, NULL into NOT NULL', async () => {
    const engine = await open();
    await engine.sql('create table t (id int primary key, name varchar(3) not null)');
    const missing = await sqlError(engine, 'select * from nope');
    expect([missing.sqlstate, missing.message]).toEqual(['42P01', 'Table "nope" doesn\'t exist (line 1, column 15)']);
    expect((await sqlError(engine, 'select nope from t')).message).toMatch(/column "nope" of relation "t" does not exist \(line 1, column 8\)/);
    const bad = await sqlError(engine, "insert into t values ('x', 'a')");
    expect([bad.sqlstate, bad.message]).toEqual(['42804', 'column "id" of table "t" is of type integer but the value is the string \'x\' (line 1, column 23)']);
    expect((await sqlError(engine, "insert into t values (1, 'toolong')")).sqlstate).toBe('22001');
    expect((await sqlError(engine, 'insert into t values (1, null)')).detail).toMatch(/non-null column name at table t/);
    expect((await sqlError(engine, 'insert into t values (1)')).message).toMatch(/more target columns than expressions/);
    await engine.close();
  });

  it('prints results as aligned psql tables', async () => {
    const engine = await open();
    const [, , sel] = await engine.sql("create table t (id int primary key, name varchar(10)); insert into t values (1, 'ann'), (22, NULL); select * from t");
    expect(formatResult(sel!)).toBe([' id | name', '----+------', '  1 | ann', ' 22 |', '(2 rows)'].join('\n'));
    await engine.close();
  });
});

describe('VACUUM and monitoring functions', () => {
  it('VACUUM FULL keeps every row and frees chunks', async () => {
    const engine = await open({ sockets: 1 });
    await engine.sql('create table t (id int primary key, pad varchar(1000))');
    const s = engine.openSession();
    const rows = 6000; // about 1 KB slots: 3 chunks of 2 MiB
    for (let i = 0; i < rows; i += 500) {
      const values = Array.from({ length: 500 }, (_, k) => `(${i + k}, 'x')`).join(', ');
      await engine.sql(`insert into t values ${values}`, s);
    }
    for (let i = 0; i < rows; i += 1000) await engine.sql(`delete from t where id >= ${i} and id <= ${i + 899}`, s);
    const before = (await engine.sql("select pg_relation_size('t')", s))[0]!.rows[0]![0] as number;
    const survivors = (await engine.sql('select id from t', s))[0]!.rows;
    expect(survivors).toHaveLength(600);
    expect((await engine.sql('vacuum full t', s))[0]!.command).toBe('VACUUM');
    const after = (await engine.sql("select pg_relation_size('t')", s))[0]!.rows[0]![0] as number;
    expect(after).toBeLessThan(before);
    expect(after).toBe(2 * 1024 * 1024);
    expect((await engine.sql('select id from t', s))[0]!.rows).toEqual(survivors);
    await engine.sql('vacuum analyze; vacuum', s);
    expect((await engine.sql('select id from t', s))[0]!.rows).toEqual(survivors);
    await engine.close();
  });

  it('VACUUM waits boundedly for open transactions, then fails with 55P03 naming the table', async () => {
    const clock = new ManualClock();
    const engine = await Engine.open('/db', { disk: new MemDisk(), clock, config: { enable_redo_log: false } });
    await engine.sql('create table t (id int primary key)');
    const other = engine.openSession();
    await engine.sql('begin; insert into t values (1)', other);
    const failing = sqlError(engine, 'vacuum t');
    await clock.advance((VACUUM_LOCK_WAIT_MS_MAX + 1) * 1000);
    const e = await failing;
    expect([e.sqlstate, e.message]).toEqual(['55P03', expect.stringContaining('could not lock table "t" exclusively')]);
    const waiting = engine.sql('vacuum t');
    await clock.advance(10_000);
    await engine.sql('commit', other);
    await clock.advance(10_000);
    expect((await waiting)[0]!.command).toBe('VACUUM');
    expect(engine.table('t').rowCount()).toBe(1);
    await engine.close();
  });

  it('memory views have the SPEC row shapes; node -1 (the total) first', async () => {
    const engine = await open({ sockets: 2 });
    await engine.sql('create table t (id int primary key); insert into t values (1)');
    const s = engine.openSession();
    const [g, l, sess] = await engine.sql('select * from mot_global_memory_detail(); select * from mot_local_memory_detail(); select * from mot_session_memory_detail()', s);
    expect(g!.columns).toEqual(['numa_node', 'reserved_size', 'used_size']);
    expect(g!.rows.map((r) => r[0])).toEqual([-1, 0, 1]);
    expect(g!.rows[0]![2]).toBe((g!.rows[1]![2] as number) + (g!.rows[2]![2] as number));
    expect(g!.rows[0]![2]).toBe(2 * 1024 * 1024);
    expect(l!.columns).toEqual(['numa_node', 'reserved_size', 'used_size']);
    expect(sess!.columns).toEqual(['sessid', 'total_size', 'free_size', 'used_size']);
    expect(sess!.rows).toContainEqual([`${s.socket}.${s.id}`, 0, 0, 0]);
    const [size] = await engine.sql("select pg_relation_size('t'), pg_relation_size('t_pkey'), pg_relation_size('postgres.t')");
    expect(size!.rows[0]![0]).toBe(2 * 1024 * 1024);
    expect(size!.rows[0]![1]).toBeGreaterThan(0);
    expect(size!.rows[0]![2]).toBe(2 * 1024 * 1024);
    expect((await sqlError(engine, "select pg_relation_size('nope')")).sqlstate).toBe('42P01');
    await engine.close();
  });
});

describe('bad input at the SQL face (issue 9)', () => {
  it('defect 17: float literals out of range (1e309, -1e309) or underflowing to 0 (1e-400) get 22003 naming the value, table and column', async () => {
    const engine = await open();
    await engine.sql('create table f (id int primary key, v float8, i int)');
    for (const lit of ['1e309', '-1e309', '1e-400', '-1e-400', "'1e309'", "' 2.5e-999 '", '0.000000000000000000000000000001e-300']) {
      const err = await sqlError(engine, `insert into f values (1, ${lit}, 0)`);
      expect([err.sqlstate, err.message], lit).toEqual(['22003', expect.stringMatching(/^value ".*" is out of range for type double precision/)]);
      expect(err.detail, lit).toBe('column "v" of table "f"');
      // the same literal in a WHERE clause is refused the same way (never compared as Infinity or 0)
      expect((await sqlError(engine, `select * from f where v = ${lit}`)).sqlstate, lit).toBe('22003');
    }
    // an integer column: too large for any number is out of range; a nonzero value that underflows is no integer
    expect((await sqlError(engine, 'insert into f values (1, 0, 1e309)')).sqlstate).toBe('22003');
    expect((await sqlError(engine, 'insert into f values (1, 0, 1e-400)')).sqlstate).toBe('42804');
    // what PostgreSQL accepts stays accepted: zero written any way, the largest double, a subnormal
    await engine.sql('insert into f values (1, 0e-400, 0), (2, -0.0e5, 0), (3, 1.7976931348623157e308, 0), (4, 4.9e-324, 0), (5, 1e-310, 1e2)');
    const rows = (await engine.sql('select v, i from f'))[0]!.rows;
    expect(rows).toEqual([[0, 0], [-0, 0], [1.7976931348623157e308, 0], [5e-324, 0], [1e-310, 100]]);
    expect(engine.table('f').rowCount()).toBe(5);
    await engine.close();
  });

  it('defect 18: engine.sql(null | undefined | 42 | {}) and a foreign or closed session get 22023 naming the argument, never a TypeError', async () => {
    const engine = await open();
    for (const text of [null, undefined, 42, {}, ['select 1'], Symbol('x')]) {
      const err = await engine.sql(text as unknown as string).then(() => undefined, (e: unknown) => e);
      expect(isMotError(err), String(text as unknown)).toBe(true);
      expect([(err as MotError).sqlstate, (err as MotError).message]).toEqual(['22023', expect.stringMatching(/argument "text" of engine\.sql\(\): expected a string of SQL/)]);
    }
    const other = await open();
    const foreign = other.openSession();
    const closed = engine.openSession();
    closed.close();
    for (const session of [foreign, closed, {}, 42, null]) {
      const err = await engine.sql('show tables', session as never).then(() => undefined, (e: unknown) => e);
      expect([(err as MotError).sqlstate, (err as MotError).message]).toEqual(['22023', expect.stringMatching(/argument "session" of engine\.sql\(\)/)]);
    }
    // the library API's createTable goes through the same catalog check: a hostile definition is a MotError too
    for (const def of [null, undefined, 42, Object.create(null)]) {
      const err = await engine.createTable(def as never).then(() => undefined, (e: unknown) => e);
      expect([isMotError(err), (err as MotError).sqlstate], typeof def).toEqual([true, '22023']);
    }
    await other.close();
    await engine.close();
  });

  it('defect 16 (SQL side): columns named constructor, toString, valueOf, hasOwnProperty, __defineGetter__ work in CREATE, INSERT omitting them, UPDATE, WHERE, ORDER BY and SELECT', async () => {
    const engine = await open();
    await engine.sql('create table t (id int primary key, "constructor" int, "toString" varchar(10), "valueOf" float8, "hasOwnProperty" boolean, "__defineGetter__" bigint)');
    await engine.sql('insert into t (id) values (1), (2)');
    expect((await engine.sql('select * from t'))[0]!.rows).toEqual([[1, null, null, null, null, null], [2, null, null, null, null, null]]);
    expect((await engine.sql('select "constructor", "toString" from t where "constructor" = 5'))[0]!.rows).toEqual([]);
    const upd = await engine.sql(`update t set "constructor" = 5, "toString" = 'x', "valueOf" = 1.5, "hasOwnProperty" = true, "__defineGetter__" = 7 where id = 2`);
    expect(upd[0]!.command).toBe('UPDATE 1');
    expect((await engine.sql('select * from t order by "constructor"'))[0]!.rows).toEqual([
      [2, 5, 'x', 1.5, true, 7n],
      [1, null, null, null, null, null],
    ]);
    expect((await engine.sql('select id from t where "toString" = \'x\' and "constructor" >= 5'))[0]!.rows).toEqual([[2]]);
    await engine.sql('insert into t (id, "valueOf") values (3, 2.5)');
    expect((await engine.sql('select "valueOf", "constructor" from t where id = 3'))[0]!.rows).toEqual([[2.5, null]]);
    // SHOW PITR's filters are a fixed set: a prototype member's name is refused like any unknown filter
    expect((await sqlError(engine, "show pitr where constructor = 'x'")).sqlstate).toBe('0A000');
    expect((await sqlError(engine, "show pitr where tostring = 'x'")).sqlstate).toBe('0A000');
    // so are PITR range units: 'constructor' is no unit
    expect((await sqlError(engine, "create pitr x for cluster range 1 'constructor'")).message).toMatch(/range unit 'constructor' of PITR "x"/);
    await engine.close();
  });
});
