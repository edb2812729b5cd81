// Runs parsed SQL against the engine's public API, as the session's account: names resolve in the
// session's database, privileges are checked before anything changes, a statement outside BEGIN ...
// COMMIT is a transaction of its own, and an error inside a transaction block rolls the block back.

import type { Engine } from '../engine.js';
import type { Session } from '../transaction/session.js';
import type { Transaction } from '../transaction/transaction.js';
import type { ColumnDef, Row, TableDef, Value } from '../store/schema.js';
import type { Table } from '../store/table.js';
import { Errors, MotError } from '../errors.js';
import { AccountCatalog, loginOf, type Login } from '../admin/accounts.js';
import { moCtl, moCtlCallFromArgs } from '../admin/mo-ctl.js';
import { globalMemoryDetail, localMemoryDetail, relationSize, sessionMemoryDetail } from '../admin/memory-views.js';
import { vacuumTable } from '../admin/vacuum.js';
import type { PitrFilter, PitrTarget } from '../admin/pitr.js';
import { parseRestoreTimestamp, restoreFromPitr } from '../admin/pitr-restore.js';
import type { FunctionCall, Literal, ParsedStatement, Predicate, QualifiedName, SelectItem, Statement } from './ast.js';
import { parseSql } from './parser.js';
import { atToken, compareValues, literalValue } from './values.js';

/** What one statement returned: a command tag (psql's "INSERT 0 3"), and columns and rows for queries. */
export interface SqlResult {
  command: string;
  columns: string[];
  rows: Value[][];
}

interface SessionSqlState {
  database: string | undefined;
  tx: Transaction | undefined;
}

const states = new WeakMap<Session, SessionSqlState>();

/** Parse `text` (all of it, before anything runs), then run each statement in order. */
export async function executeSql(engine: Engine, session: Session | undefined, text: string): Promise<SqlResult[]> {
  if (typeof text !== 'string') throw Errors.invalidArgument('argument "text" of engine.sql()', `expected a string of SQL, got ${describeArgument(text)}`);
  if (session !== undefined && !engine.ownsSession(session)) {
    throw Errors.invalidArgument('argument "session" of engine.sql()', `expected an open session of this engine (engine.openSession()), got ${describeArgument(session)}`);
  }
  const parsed = parseSql(text);
  const own = session === undefined;
  const s = session ?? engine.openSession();
  const runner = new SqlRunner(engine, s);
  try {
    const out: SqlResult[] = [];
    for (const p of parsed) out.push(await runner.run(p));
    return out;
  } finally {
    if (own) s.close();
  }
}

/** Runs statements in one session (the shell keeps one for its whole life). */
export class SqlRunner {
  private readonly state: SessionSqlState;
  private readonly login: Login;

  constructor(
    private readonly engine: Engine,
    readonly session: Session,
  ) {
    this.login = loginOf(session);
    let st = states.get(session);
    if (!st) {
      st = { database: undefined, tx: undefined };
      try {
        engine.accounts.checkSessionAccount(this.login);
        st.database = engine.accounts.defaultDatabase(this.login);
      } catch {
        // a session of a dropped account: every statement it runs is refused (run())
      }
      states.set(session, st);
    }
    this.state = st;
  }

  get database(): string | undefined {
    return this.state.database;
  }
  get inTransactionBlock(): boolean {
    return this.state.tx !== undefined;
  }
  get account(): string {
    return this.login.account;
  }

  async run(p: ParsedStatement): Promise<SqlResult> {
    try {
      // A session whose account was dropped since it logged in (perhaps recreated by another
      // tenant under the same name) runs nothing: 28000.
      this.engine.accounts.checkSessionAccount(this.login);
      return await this.statement(p.statement);
    } catch (e) {
      const tx = this.state.tx;
      if (tx !== undefined) {
        this.state.tx = undefined;
        tx.rollback();
        if (e instanceof MotError) {
          throw new MotError({ code: e.code, rc: e.rc, sqlstate: e.condition, message: e.message, detail: `${e.detail ? e.detail + ' ' : ''}The transaction block was rolled back.`, cause: e.cause });
        }
      }
      throw e;
    }
  }

  private async statement(st: Statement): Promise<SqlResult> {
    switch (st.kind) {
      case 'begin':
        if (this.state.tx) throw Errors.invalidState('there is already a transaction in progress');
        this.state.tx = this.session.begin();
        return tag('BEGIN');
      case 'commit': {
        const tx = this.state.tx;
        this.state.tx = undefined;
        if (tx) await tx.commit();
        return tag('COMMIT');
      }
      case 'rollback':
        this.state.tx?.rollback();
        this.state.tx = undefined;
        return tag('ROLLBACK');
      case 'create_table':
        return this.createTable(st);
      case 'drop_table':
        return this.dropTable(st);
      case 'create_index':
        return this.createIndex(st);
      case 'drop_index':
        return this.dropIndex(st);
      case 'show_table':
        return this.showTable(st);
      case 'insert':
        return this.inTx((tx) => this.insert(tx, st));
      case 'update':
        return this.inTx((tx) => this.update(tx, st));
      case 'delete':
        return this.inTx((tx) => this.delete(tx, st));
      case 'select':
        return this.select(st);
      case 'vacuum':
        return this.vacuum(st);
      case 'use':
        this.engine.accounts.checkDatabaseAccess(this.login, st.database);
        this.state.database = st.database;
        return tag('USE');
      case 'show':
        return this.show(st.what);
      case 'truncate': {
        this.noTransactionBlock('TRUNCATE');
        const { internal } = this.tableOf(st.table);
        try {
          await this.engine.truncateTable(internal);
        } catch (e) {
          throw atToken(e, st.table.token);
        }
        return tag('TRUNCATE TABLE');
      }
      case 'show_pitr':
        return this.showPitr(st);
      default:
        return this.admin(st);
    }
  }

  // ---- DDL ----

  private async createTable(st: Extract<Statement, { kind: 'create_table' }>): Promise<SqlResult> {
    this.noTransactionBlock('CREATE TABLE');
    const { internal, display } = this.resolve(st.table);
    if (st.table.name.includes('.')) throw atToken(Errors.invalidArgument(`table name "${st.table.name}"`, 'must not contain "."'), st.table.token);
    if (this.engine.catalog.find(internal)) {
      if (st.ifNotExists) return tag('CREATE TABLE');
      throw atToken(new MotError({ code: 'MOT_ERROR_INVALID_ARG', rc: 'RC_ERROR', sqlstate: 'duplicate_table', message: `relation "${display}" already exists` }), st.table.token);
    }
    if (st.primaryKey.length === 0) throw atToken(Errors.notSupported(`table "${display}" without a primary key (MOT tables need one)`), st.table.token);
    const def: TableDef = {
      name: internal,
      columns: st.columns.map((c) => ({ name: c.name, type: c.type, ...(c.size === undefined ? {} : { size: c.size }), nullable: !c.notNull })),
      primaryKey: st.primaryKey,
    };
    // The database cannot be dropped while the table is being created in it (src/reservations.ts).
    const release = this.engine.accounts.holdDatabase(this.login, AccountCatalog.splitInternalName(internal).database);
    try {
      await this.engine.createTable(def);
    } catch (e) {
      // A concurrent CREATE of the name won: IF NOT EXISTS is content with that.
      if (st.ifNotExists && e instanceof MotError && e.sqlstate === '42P07') return tag('CREATE TABLE');
      throw atToken(e, st.table.token);
    } finally {
      release();
    }
    return tag('CREATE TABLE');
  }

  private async dropTable(st: Extract<Statement, { kind: 'drop_table' }>): Promise<SqlResult> {
    this.noTransactionBlock('DROP TABLE');
    const { internal } = this.resolve(st.table);
    if (!this.engine.catalog.find(internal) && st.ifExists) return tag('DROP TABLE');
    try {
      await this.engine.dropTable(internal);
    } catch (e) {
      // A concurrent DROP of the name won: IF EXISTS is content with that.
      if (st.ifExists && e instanceof MotError && e.sqlstate === '42P01') return tag('DROP TABLE');
      throw atToken(e, st.table.token);
    }
    return tag('DROP TABLE');
  }

  /**
   * CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON t (cols): with the privileges of CREATE TABLE (the
   * account owns the table's database). Index names are unique per database (42P07, which IF NOT
   * EXISTS accepts).
   */
  private async createIndex(st: Extract<Statement, { kind: 'create_index' }>): Promise<SqlResult> {
    this.noTransactionBlock('CREATE INDEX');
    const { internal } = this.tableOf(st.table);
    try {
      await this.engine.createIndex(internal, { name: st.name, columns: st.columns, unique: st.unique });
    } catch (e) {
      if (st.ifNotExists && e instanceof MotError && e.sqlstate === '42P07') return tag('CREATE INDEX');
      throw atToken(e, st.token);
    }
    return tag('CREATE INDEX');
  }

  /**
   * DROP INDEX [IF EXISTS] [db.]name [ON t]: without ON, the index is looked up among the tables of
   * the database (the session's, or `db`); several tables having an index of that name (possible for
   * indexes made with CREATE TABLE through the library API) is an error asking for ON.
   */
  private async dropIndex(st: Extract<Statement, { kind: 'drop_index' }>): Promise<SqlResult> {
    this.noTransactionBlock('DROP INDEX');
    const name = st.index.name;
    let internal: string;
    if (st.on !== undefined) {
      internal = this.tableOf(st.on).internal;
    } else {
      let db: string;
      try {
        db = st.index.database ?? this.requireDatabase(`DROP INDEX "${name}"`);
        this.engine.accounts.checkDatabaseAccess(this.login, db);
      } catch (e) {
        throw atToken(e, st.index.token);
      }
      const holders = this.engine.tables().filter((t) => AccountCatalog.splitInternalName(t.name).database === db && t.schema.index(name) !== undefined);
      if (holders.length === 0) {
        if (st.ifExists) return tag('DROP INDEX');
        throw atToken(Errors.indexNotFound(`${db}.${name}`), st.index.token);
      }
      if (holders.length > 1) {
        const tables = holders.map((t) => `"${AccountCatalog.splitInternalName(t.name).table}"`).join(', ');
        throw atToken(Errors.invalidArgument(`DROP INDEX "${name}"`, `tables ${tables} of database "${db}" each have an index of that name: say which with DROP INDEX ${name} ON table`), st.index.token);
      }
      internal = holders[0]!.name;
    }
    try {
      await this.engine.dropIndex(internal, name);
    } catch (e) {
      // A concurrent DROP of the index won: IF EXISTS is content with that.
      if (st.ifExists && e instanceof MotError && e.rc === 'RC_INDEX_NOT_FOUND') return tag('DROP INDEX');
      throw atToken(e, st.index.token);
    }
    return tag('DROP INDEX');
  }

  /** SHOW INDEXES FROM t (the primary key first, then each secondary index) and SHOW COLUMNS FROM t. */
  private showTable(st: Extract<Statement, { kind: 'show_table' }>): SqlResult {
    const { internal, table } = this.tableOf(st.table);
    const schema = table.schema;
    const names = (positions: readonly number[]): string => positions.map((i) => schema.columns[i]!.name).join(', ');
    if (st.what === 'columns') {
      const rows = schema.columns.map((c) => [c.name, schema.typeName(c), c.nullable, schema.isKeyColumn(c.index)] as Value[]);
      return { command: `SELECT ${rows.length}`, columns: ['column_name', 'type', 'nullable', 'primary_key'], rows };
    }
    const short = AccountCatalog.splitInternalName(internal).table;
    const rows: Value[][] = [[`${short}_pkey`, names(schema.primaryKey), true, true]];
    for (const ix of schema.indexes) rows.push([ix.name, names(ix.columns), ix.unique, false]);
    return { command: `SELECT ${rows.length}`, columns: ['index_name', 'columns', 'unique', 'primary'], rows };
  }

  // ---- DML ----

  private insert(tx: Transaction, st: Extract<Statement, { kind: 'insert' }>): SqlResult {
    const { internal, table } = this.tableOf(st.table);
    const columns = table.schema.def.columns;
    const targets = (st.columns ?? columns.map((c) => c.name)).map((name) => this.column(table, name, st.table.token));
    for (const row of st.rows) {
      if (row.length !== targets.length) {
        const what = row.length > targets.length ? 'more expressions than target columns' : 'more target columns than expressions';
        throw atToken(Errors.invalidArgument('INSERT', `INSERT has ${what} (${row.length} values, ${targets.length} columns)`), row[0]?.token ?? st.table.token);
      }
      const values: Row = {};
      for (const c of columns) values[c.name] = null;
      targets.forEach((c, i) => (values[c.name] = literalValue(table.name, c, row[i]!)));
      try {
        tx.insert(internal, values);
      } catch (e) {
        throw atToken(e, row[0]!.token);
      }
    }
    return tag(`INSERT 0 ${st.rows.length}`);
  }

  private update(tx: Transaction, st: Extract<Statement, { kind: 'update' }>): SqlResult {
    const { internal, table } = this.tableOf(st.table);
    const changes: Row = {};
    for (const a of st.assignments) changes[a.column] = literalValue(table.name, this.column(table, a.column, a.token), a.value);
    const rows = this.matching(tx, internal, table, st.where, undefined);
    for (const row of rows) tx.update(internal, table.keyOf(row), { ...changes });
    return tag(`UPDATE ${rows.length}`);
  }

  private delete(tx: Transaction, st: Extract<Statement, { kind: 'delete' }>): SqlResult {
    const { internal, table } = this.tableOf(st.table);
    const rows = this.matching(tx, internal, table, st.where, undefined);
    for (const row of rows) tx.delete(internal, table.keyOf(row));
    return tag(`DELETE ${rows.length}`);
  }

  private async select(st: Extract<Statement, { kind: 'select' }>): Promise<SqlResult> {
    const only = st.items.length === 1 ? st.items[0]! : undefined;
    if (st.from === undefined && only?.kind === 'call' && TABLE_FUNCTIONS.has(only.call.name)) {
      return this.selectFromFunction({ ...st, items: [{ kind: 'star', token: only.call.token }] }, only.call);
    }
    if (st.from?.kind === 'function') return this.selectFromFunction(st, st.from.call);
    if (st.from === undefined) return this.selectScalars(st.items);
    const from = st.from.table;
    return this.inTx((tx) => {
      const { internal, table } = this.tableOf(from);
      const defs = table.schema.def.columns;
      const order = st.orderBy;
      let rows = this.matching(tx, internal, table, st.where, order === undefined ? st.limit : undefined);
      if (order) {
        const col = this.column(table, order.column, order.token);
        rows = [...rows].sort((a, b) => nullsLast(valueOf(a, col.name), valueOf(b, col.name)) * (order.descending ? -1 : 1));
        if (st.limit !== undefined) rows = rows.slice(0, st.limit);
      }
      const names = st.items.flatMap((it) => this.itemColumns(it, table, defs));
      return { command: `SELECT ${rows.length}`, columns: names, rows: rows.map((r) => names.map((n) => valueOf(r, n))) };
    });
  }

  private itemColumns(it: SelectItem, table: Table, defs: readonly ColumnDef[]): string[] {
    if (it.kind === 'star') return defs.map((c) => c.name);
    if (it.kind === 'column') return [this.column(table, it.name, it.token).name];
    throw atToken(Errors.notSupported(`function ${it.call.name}() in a query on a table`), it.call.token);
  }

  /** Rows of the table matching every predicate, in primary key order; narrows the scan with key predicates. */
  private matching(tx: Transaction, internal: string, table: Table, where: Predicate[], limit: number | undefined): Row[] {
    const preds = where.map((p) => ({ p, col: this.column(table, p.column, p.token) })).map(({ p, col }) => ({ ...p, col, v: literalValue(table.name, col, p.value) }));
    const pk = table.schema.def.primaryKey;
    const eq = pk.map((name) => preds.find((p) => p.col.name === name && p.op === '=')?.v);
    if (preds.some((p) => p.v === null)) return []; // a comparison with NULL is never true
    let candidates: Row[];
    if (eq.every((v) => v !== undefined)) {
      const row = tx.get(internal, pk.length === 1 ? eq[0]! : (eq as Value[]));
      candidates = row ? [row] : [];
    } else if (pk.length === 1) {
      let lo: Value | undefined;
      let hi: Value | undefined;
      for (const p of preds) {
        if (p.col.name !== pk[0]) continue;
        if ((p.op === '>=' || p.op === '>') && (lo === undefined || compareValues(p.v, lo) > 0)) lo = p.v;
        if ((p.op === '<=' || p.op === '<') && (hi === undefined || compareValues(p.v, hi) < 0)) hi = p.v;
      }
      const exact = preds.every((p) => p.col.name === pk[0] && (p.op === '>=' || p.op === '<='));
      candidates = tx.scan(internal, lo, hi, exact && limit !== undefined ? { limit } : {});
    } else {
      candidates = tx.scan(internal, undefined, undefined);
    }
    const out = candidates.filter((row) => preds.every((p) => holds(valueOf(row, p.col.name), p.op, p.v)));
    return limit === undefined ? out : out.slice(0, limit);
  }

  // ---- functions ----

  private async selectFromFunction(st: Extract<Statement, { kind: 'select' }>, call: FunctionCall): Promise<SqlResult> {
    if (st.where.length > 0) throw atToken(Errors.notSupported(`WHERE on ${call.name}()`), st.where[0]!.token);
    if (call.args.length > 0) throw atToken(Errors.invalidArgument(`${call.name}()`, 'takes no arguments'), call.token);
    let records: Record<string, Value>[];
    let columns: string[];
    try {
      switch (call.name) {
        case 'mot_global_memory_detail':
          records = globalMemoryDetail(this.engine, this.login) as unknown as Record<string, Value>[];
          columns = ['numa_node', 'reserved_size', 'used_size'];
          break;
        case 'mot_local_memory_detail':
          records = localMemoryDetail(this.engine, this.login) as unknown as Record<string, Value>[];
          columns = ['numa_node', 'reserved_size', 'used_size'];
          break;
        case 'mot_session_memory_detail':
          records = sessionMemoryDetail(this.engine, this.login) as unknown as Record<string, Value>[];
          columns = ['sessid', 'total_size', 'free_size', 'used_size'];
          break;
        default:
          throw Errors.notSupported(`table function ${call.name}() (known: ${[...TABLE_FUNCTIONS].join(', ')})`);
      }
    } catch (e) {
      throw atToken(e, call.token);
    }
    const names = st.items.flatMap((it) => {
      if (it.kind === 'star') return columns;
      if (it.kind === 'column' && columns.includes(it.name)) return [it.name];
      if (it.kind === 'column') throw atToken(Errors.undefinedColumn(`${call.name}()`, it.name), it.token);
      throw atToken(Errors.notSupported(`a function call in the select list of ${call.name}()`), it.call.token);
    });
    let rows = records.map((r) => names.map((n) => valueOf(r, n)));
    if (st.limit !== undefined) rows = rows.slice(0, st.limit);
    return { command: `SELECT ${rows.length}`, columns: names, rows };
  }

  private async selectScalars(items: SelectItem[]): Promise<SqlResult> {
    const columns: string[] = [];
    const row: Value[] = [];
    for (const it of items) {
      if (it.kind !== 'call') throw atToken(Errors.invalidArgument('SELECT', 'a column needs FROM a table'), it.token);
      columns.push(it.call.name);
      try {
        row.push(await this.scalar(it.call));
      } catch (e) {
        throw atToken(e, it.call.token);
      }
    }
    return { command: 'SELECT 1', columns, rows: [row] };
  }

  private async scalar(call: FunctionCall): Promise<Value> {
    const args = call.args.map(literalText);
    switch (call.name) {
      case 'pg_relation_size':
        if (args.length !== 1) throw Errors.invalidArgument('pg_relation_size()', `takes one relation name, got ${args.length} arguments`);
        return relationSize(this.engine, this.login, this.state.database, args[0]!);
      case 'mo_ctl': {
        const result = await moCtl(this.engine, this.login, moCtlCallFromArgs(args));
        return JSON.stringify(result, null, 2);
      }
      default:
        throw Errors.notSupported(`function ${call.name}() (known: pg_relation_size, mo_ctl, ${[...TABLE_FUNCTIONS].join(', ')})`);
    }
  }

  // ---- maintenance and administration ----

  private async vacuum(st: Extract<Statement, { kind: 'vacuum' }>): Promise<SqlResult> {
    this.noTransactionBlock('VACUUM');
    const tables = st.table
      ? [this.tableOf(st.table).table]
      : this.engine.tables().filter((t) => {
          const owner = this.engine.accounts.ownerOf(AccountCatalog.splitInternalName(t.name).database);
          return this.login.account === 'sys' || owner === this.login.account;
        });
    for (const t of tables) {
      try {
        await vacuumTable(this.engine, t);
      } catch (e) {
        throw atToken(e, st.table?.token ?? st.token);
      }
    }
    return tag('VACUUM');
  }

  private show(what: 'tables' | 'databases' | 'accounts' | 'users'): SqlResult {
    const acc = this.engine.accounts;
    switch (what) {
      case 'databases':
        return listing('database', acc.visibleDatabases(this.login));
      case 'accounts':
        return listing('account', acc.accountNames(this.login));
      case 'users':
        return listing('user', acc.usersOf(this.login));
      case 'tables': {
        const db = this.requireDatabase('SHOW TABLES');
        const rows = this.engine
          .tables()
          .map((t) => ({ t, n: AccountCatalog.splitInternalName(t.name) }))
          .filter(({ n }) => n.database === db)
          .map(({ t, n }) => [n.table, t.rowCount()] as Value[]);
        return { command: `SELECT ${rows.length}`, columns: ['table_name', 'rows'], rows };
      }
    }
  }

  private async admin(st: Statement): Promise<SqlResult> {
    const acc = this.engine.accounts;
    // Drops are made durable before accounts.json forgets the database: in asynchronous mode a crash
    // could otherwise bring back tables of a database that no longer exists, and the next account
    // to create a database of that name would find them.
    const dropTables = async (database: string): Promise<void> => {
      for (const t of this.engine.tables()) {
        if (AccountCatalog.splitInternalName(t.name).database === database) await this.engine.dropTable(t.name);
      }
      await this.engine.flush();
    };
    try {
      switch (st.kind) {
        case 'create_database':
          this.noTransactionBlock('CREATE DATABASE');
          // Tables left under the name (the library API can create `db.t` without a database) are
          // nobody's: dropped before the new database exists, so its owner never sees them.
          await acc.createDatabase(this.login, st.name, st.ifNotExists, () => dropTables(st.name));
          return tag('CREATE DATABASE');
        case 'drop_database':
          this.noTransactionBlock('DROP DATABASE');
          if (st.ifExists && acc.ownerOf(st.name) === undefined) return tag('DROP DATABASE');
          try {
            await acc.dropDatabase(this.login, st.name, dropTables);
          } catch (e) {
            // A concurrent DROP of the database won: IF EXISTS is content with that.
            if (st.ifExists && e instanceof MotError && e.sqlstate === '3D000') return tag('DROP DATABASE');
            throw e;
          }
          if (this.state.database === st.name) this.state.database = undefined;
          return tag('DROP DATABASE');
        case 'create_account':
          await acc.createAccount(this.login, st.name, st.adminName);
          return tag('CREATE ACCOUNT');
        case 'drop_account':
          await acc.dropAccount(this.login, st.name, dropTables, () => this.engine.pitrs.dropAccount(st.name));
          return tag('DROP ACCOUNT');
        case 'create_user':
          await acc.createUser(this.login, st.name);
          return tag('CREATE USER');
        case 'drop_user':
          await acc.dropUser(this.login, st.name);
          return tag('DROP USER');
        case 'checkpoint':
          this.noTransactionBlock('CHECKPOINT');
          acc.requireSys(this.login, 'CHECKPOINT');
          await this.engine.checkpoint();
          return tag('CHECKPOINT');
        case 'create_pitr': {
          const target = this.pitrTarget(st.target);
          const tableExists = (db: string, t: string): boolean => this.engine.catalog.find(AccountCatalog.internalTableName(db, t)) !== undefined;
          await this.engine.pitrs.create(this.login, acc, tableExists, st.name, target, st.rangeValue, st.rangeUnit);
          return tag('CREATE PITR');
        }
        case 'alter_pitr':
          await this.engine.pitrs.alter(this.login, acc, st.name, st.rangeValue, st.rangeUnit, st.account);
          return tag('ALTER PITR');
        case 'drop_pitr':
          await this.engine.pitrs.drop(this.login, acc, st.name, st.ifExists, st.account);
          return tag('DROP PITR');
        case 'restore': {
          this.noTransactionBlock('RESTORE');
          const r = await restoreFromPitr(this.engine, this.login, this.pitrTarget(st.target), st.pitr, parseRestoreTimestamp(st.timestamp), st.pitrAccount);
          return {
            command: 'RESTORE',
            columns: ['tables', 'rows_inserted', 'rows_updated', 'rows_deleted', 'checkpoint_id'],
            rows: [[r.tables, r.rowsInserted, r.rowsUpdated, r.rowsDeleted, r.checkpointId]],
          };
        }
        default:
          throw new Error(`motsim assertion failed: statement ${st.kind} has a handler`);
      }
    } catch (e) {
      throw atToken(e, 'token' in st ? st.token : ({ line: 1, column: 1 } as never));
    }
  }

  /** SHOW PITR [WHERE pitr_name|pitr_level|account_name|database_name|table_name = 'v' AND ...]. */
  private showPitr(st: Extract<Statement, { kind: 'show_pitr' }>): SqlResult {
    const filter: PitrFilter = {};
    for (const p of st.where) {
      const field = SHOW_PITR_FIELDS.get(p.column);
      if (field === undefined || p.op !== '=') {
        throw atToken(Errors.notSupported(`SHOW PITR WHERE ${p.column} ${p.op} (filters: ${[...SHOW_PITR_FIELDS.keys()].join(', ')}, with =)`), p.token);
      }
      filter[field] = literalText(p.value);
    }
    const rows = this.engine.pitrs.show(this.login, filter).map((p) => [
      p.name,
      new Date(p.createdWallMs).toISOString(),
      new Date(p.modifiedWallMs).toISOString(),
      p.level,
      p.account,
      p.database ?? '*',
      p.table ?? '*',
      p.rangeValue,
      p.rangeUnit,
    ] as Value[]);
    return {
      command: `SELECT ${rows.length}`,
      columns: ['pitr_name', 'created_time', 'modified_time', 'pitr_level', 'account_name', 'database_name', 'table_name', 'pitr_length', 'pitr_unit'],
      rows,
    };
  }

  private pitrTarget(t: PitrTarget): PitrTarget {
    return t.level === 'account' && t.account === undefined ? { ...t, account: this.login.account } : t;
  }

  // ---- helpers ----

  /** Run `body` in the open transaction block, or in a transaction of its own committed at once. */
  private async inTx(body: (tx: Transaction) => SqlResult): Promise<SqlResult> {
    if (this.state.tx) return body(this.state.tx);
    const tx = this.session.begin();
    let result: SqlResult;
    try {
      result = body(tx);
    } catch (e) {
      tx.rollback();
      throw e;
    }
    await tx.commit();
    return result;
  }

  private noTransactionBlock(statement: string): void {
    if (this.state.tx) throw Errors.notInTransactionBlock(statement);
  }

  private requireDatabase(what: string): string {
    const db = this.state.database;
    if (db === undefined) throw Errors.invalidState(`${what}: no database selected (USE a database, or write database.table)`);
    return db;
  }

  /** The catalog name of a table named in SQL, after checking the account may use its database. */
  private resolve(q: QualifiedName): { internal: string; display: string } {
    try {
      const db = q.database ?? this.requireDatabase(`table "${q.name}"`);
      this.engine.accounts.checkDatabaseAccess(this.login, db);
      return { internal: AccountCatalog.internalTableName(db, q.name), display: q.database === undefined ? q.name : `${db}.${q.name}` };
    } catch (e) {
      throw atToken(e, q.token);
    }
  }

  private tableOf(q: QualifiedName): { internal: string; table: Table } {
    const { internal, display } = this.resolve(q);
    const table = this.engine.catalog.find(internal);
    if (!table) throw atToken(Errors.tableNotFound(display), q.token);
    return { internal, table };
  }

  private column(table: Table, name: string, token: QualifiedName['token']): ColumnDef {
    const c = table.schema.def.columns.find((x) => x.name === name);
    if (!c) throw atToken(Errors.undefinedColumn(table.name, name), token);
    return c;
  }
}

/** SHOW PITR's filter columns (a Map: a column named like an Object.prototype member is no filter). */
const SHOW_PITR_FIELDS: ReadonlyMap<string, keyof PitrFilter> = new Map([
  ['pitr_name', 'name'],
  ['pitr_level', 'level'],
  ['account_name', 'account'],
  ['database_name', 'database'],
  ['table_name', 'table'],
]);

/**
 * A column's value in a row, read as an own property only: a column named `constructor` or
 * `toString` that a row lacks must read as NULL, never as the inherited Object.prototype member.
 */
function valueOf(row: Record<string, Value>, column: string): Value {
  return Object.hasOwn(row, column) ? (row[column] ?? null) : null;
}

/** How a wrong argument reads in an error message. */
function describeArgument(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `a string`;
  if (typeof v === 'object') return Object.getPrototypeOf(v) === null ? 'an object with no prototype' : `an object (${(v as object).constructor?.name ?? 'Object'})`;
  return `${typeof v} ${String(v)}`;
}

/** Functions that return rows (used in FROM). */
const TABLE_FUNCTIONS = new Set(['mot_global_memory_detail', 'mot_local_memory_detail', 'mot_session_memory_detail']);

function tag(command: string): SqlResult {
  return { command, columns: [], rows: [] };
}

function listing(column: string, names: string[]): SqlResult {
  return { command: `SELECT ${names.length}`, columns: [column], rows: names.map((n) => [n]) };
}

function literalText(l: Literal): string {
  switch (l.kind) {
    case 'string':
      return l.value;
    case 'number':
      return (l.negative ? '-' : '') + l.text;
    case 'bool':
      return String(l.value);
    case 'null':
      return '';
  }
}

function holds(v: Value, op: Predicate['op'], w: Value): boolean {
  if (v === null || w === null) return false;
  const c = compareValues(v, w);
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function nullsLast(a: Value, b: Value): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return compareValues(a, b);
}
