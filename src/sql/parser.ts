// A recursive-descent parser for motsim's small SQL dialect (grammar below), from tokens to the AST of
// ast.ts. Every error names the offending token's line and column and shows it under a caret
// (SQLSTATE 42601); a recognised but unsupported form (VACUUM FREEZE...) is 0A000 instead.
//
//   script      := statement? (';' statement?)*
//   statement   := create_table | drop_table | insert | update | delete | select | BEGIN [WORK|TRANSACTION]
//                | START TRANSACTION | COMMIT | END | ROLLBACK | ABORT | vacuum | CREATE DATABASE ... | DROP DATABASE ...
//                | USE name | CREATE ACCOUNT name ADMIN_NAME 'admin' [IDENTIFIED BY 'pw'] | DROP ACCOUNT name
//                | CREATE USER name [IDENTIFIED BY 'pw'] | DROP USER name | SHOW TABLES|DATABASES|ACCOUNTS|USERS
//                | SHOW (INDEXES | INDEX | COLUMNS) FROM qname
//   create_table:= CREATE TABLE [IF NOT EXISTS] qname '(' element (',' element)* ')'
//   create_index:= CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON qname '(' column (',' column)* ')'
//   drop_index  := DROP INDEX [IF EXISTS] [database '.'] name [ON qname]
//   element     := column type [NOT NULL | NULL | PRIMARY KEY]* | PRIMARY KEY '(' column (',' column)* ')'
//   type        := int | integer | int4 | bigint | int8 | float8 | double precision | bool | boolean
//                | varchar '(' n ')' | character varying '(' n ')' | bytea '(' n ')'
//   insert      := INSERT INTO qname ['(' column, ... ')'] VALUES '(' literal, ... ')' (',' '(' ... ')')*
//   update      := UPDATE qname SET column '=' literal (',' ...)* [WHERE conj]
//   delete      := DELETE FROM qname [WHERE conj]
//   select      := SELECT item (',' item)* [FROM qname | FROM function '(' args ')'] [WHERE conj]
//                  [ORDER BY column [ASC|DESC]] [LIMIT n]
//   item        := '*' | column | function '(' [literal (',' literal)*] ')'
//   conj        := cond (AND cond)*;  cond := column op literal | column BETWEEN literal AND literal
//   vacuum      := VACUUM [FULL] [ANALYZE] [qname]  |  VACUUM '(' option, ... ')' [qname]
//   truncate    := TRUNCATE [TABLE] qname;   checkpoint := CHECKPOINT
//   create_pitr := CREATE PITR name FOR target RANGE ['-'] n ['unit'];  alter_pitr := ALTER PITR pitr RANGE ['-'] n ['unit']
//   drop_pitr   := DROP PITR [IF EXISTS] pitr;  show_pitr := SHOW PITR [WHERE conj];  pitr := [account '.'] name
//   target      := CLUSTER | ACCOUNT [name] | DATABASE db [TABLE t] | TABLE db TABLE t | TABLE db.t
//   restore     := RESTORE (CLUSTER | ACCOUNT name | DATABASE db | TABLE db.t | TABLE db TABLE t) FROM PITR pitr TIMESTAMP 'ts'

import type { ColumnSpec, ComparisonOp, FunctionCall, Literal, ParsedStatement, PitrTargetSpec, Predicate, QualifiedName, SelectItem, SqlTypeName, Statement } from './ast.js';
import { describeToken, syntaxErrorAt, tokenize, type Token } from './lexer.js';
import { Errors, MotError } from '../errors.js';

/** Statements in one script, rows in one INSERT, items in one list: bounds on what one parse builds. */
export const SQL_STATEMENTS_MAX = 10_000;
export const SQL_LIST_ITEMS_MAX = 100_000;

/** Parse a script of one or more statements separated by ';'. */
export function parseSql(source: string): ParsedStatement[] {
  return new Parser(source, tokenize(source)).script();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  script(): ParsedStatement[] {
    const out: ParsedStatement[] = [];
    for (;;) {
      while (this.acceptOp(';'));
      if (this.peek().kind === 'eof') return out;
      if (out.length >= SQL_STATEMENTS_MAX) throw this.error(this.peek(), `more than ${SQL_STATEMENTS_MAX} statements in one script`);
      const first = this.peek();
      const statement = this.statement();
      const last = this.tokens[this.pos - 1]!;
      const next = this.peek();
      if (next.kind !== 'eof' && !(next.kind === 'op' && next.text === ';')) throw this.unexpected(next, 'end of statement (";")');
      out.push({ statement, text: this.source.slice(first.offset, last.offset + tokenLength(this.source, last)).trim(), token: first });
    }
  }

  private statement(): Statement {
    const t = this.peek();
    if (t.kind !== 'ident') throw this.unexpected(t, 'a statement');
    switch (t.text) {
      case 'create':
        return this.create();
      case 'drop':
        return this.drop();
      case 'insert':
        return this.insert();
      case 'update':
        return this.update();
      case 'delete':
        return this.delete();
      case 'select':
        return this.select();
      case 'begin':
        this.next();
        if (!this.acceptWord('work')) this.acceptWord('transaction');
        return { kind: 'begin' };
      case 'start':
        this.next();
        this.expectWord('transaction');
        return { kind: 'begin' };
      case 'commit':
      case 'end':
        this.next();
        if (!this.acceptWord('work')) this.acceptWord('transaction');
        return { kind: 'commit' };
      case 'rollback':
      case 'abort':
        this.next();
        if (!this.acceptWord('work')) this.acceptWord('transaction');
        return { kind: 'rollback' };
      case 'vacuum':
        return this.vacuum();
      case 'use':
        this.next();
        return { kind: 'use', database: this.name('a database name'), token: t };
      case 'show':
        return this.show();
      case 'truncate':
        this.next();
        this.acceptWord('table');
        return { kind: 'truncate', table: this.qualifiedName('a table name') };
      case 'checkpoint':
        this.next();
        return { kind: 'checkpoint', token: t };
      case 'alter': {
        this.next();
        this.expectWord('pitr');
        const { name, account } = this.pitrName();
        return { kind: 'alter_pitr', name, account, ...this.pitrRange(), token: t };
      }
      case 'restore':
        return this.restore();
      default:
        throw this.unexpected(t, 'a statement');
    }
  }

  // ---- DDL ----

  private create(): Statement {
    const create = this.next();
    const what = this.peek();
    if (this.acceptWord('table')) return this.createTable();
    if (this.acceptWord('database')) {
      const ifNotExists = this.acceptWords('if', 'not', 'exists');
      return { kind: 'create_database', name: this.name('a database name'), ifNotExists, token: what };
    }
    if (this.acceptWord('account')) {
      const name = this.name('an account name');
      this.expectWord('admin_name');
      const adminName = this.stringOrName('the administrator name');
      if (this.acceptWord('identified')) {
        this.expectWord('by');
        this.stringOrName('a password');
      }
      return { kind: 'create_account', name, adminName, token: what };
    }
    if (this.acceptWord('pitr')) {
      const name = this.name('a PITR name');
      this.expectWord('for');
      const target = this.pitrTarget(true);
      return { kind: 'create_pitr', name, target, ...this.pitrRange(), token: what };
    }
    if (this.acceptWord('user')) {
      const name = this.name('a user name');
      if (this.acceptWord('identified')) {
        this.expectWord('by');
        this.stringOrName('a password');
      }
      return { kind: 'create_user', name, token: what };
    }
    if (this.acceptWord('unique')) {
      this.expectWord('index');
      return this.createIndex(true, what);
    }
    if (this.acceptWord('index')) return this.createIndex(false, what);
    throw this.unexpected(what.kind === 'eof' ? what : what, `TABLE, [UNIQUE] INDEX, DATABASE, ACCOUNT or USER after ${describeToken(create)}`);
  }

  private createIndex(unique: boolean, token: Token): Statement {
    const ifNotExists = this.acceptWords('if', 'not', 'exists');
    const name = this.name('an index name');
    this.expectWord('on');
    const table = this.qualifiedName('a table name');
    const columns = this.nameList('a column name');
    return { kind: 'create_index', name, table, columns, unique, ifNotExists, token };
  }

  private createTable(): Statement {
    const ifNotExists = this.acceptWords('if', 'not', 'exists');
    const table = this.qualifiedName('a table name');
    this.expectOp('(');
    const columns: ColumnSpec[] = [];
    let primaryKey: string[] | undefined;
    do {
      const t = this.peek();
      if (t.kind === 'ident' && t.text === 'primary') {
        this.next();
        this.expectWord('key');
        if (primaryKey !== undefined) throw this.error(t, 'multiple primary keys for the table are not allowed');
        primaryKey = this.nameList('a column name');
        continue;
      }
      this.bound(columns.length, t);
      columns.push(this.columnSpec());
    } while (this.acceptOp(','));
    this.expectOp(')');
    const inline = columns.filter((c) => c.primaryKey);
    if (inline.length > 0 && primaryKey !== undefined) throw this.error(inline[0]!.token, 'multiple primary keys for the table are not allowed');
    if (inline.length > 1) throw this.error(inline[1]!.token, 'multiple primary keys for the table are not allowed (use PRIMARY KEY (a, b))');
    return { kind: 'create_table', table, columns, primaryKey: primaryKey ?? inline.map((c) => c.name), ifNotExists };
  }

  private columnSpec(): ColumnSpec {
    const token = this.peek();
    const name = this.name('a column name');
    const { type, size } = this.typeName();
    let notNull = false;
    let primaryKey = false;
    for (let n = 0; n < 8; n++) {
      if (this.acceptWords('not', 'null')) notNull = true;
      else if (this.acceptWord('null')) notNull = false;
      else if (this.acceptWords('primary', 'key')) primaryKey = true;
      else break;
    }
    return { name, type, size, notNull: notNull || primaryKey, primaryKey, token };
  }

  private typeName(): { type: SqlTypeName; size: number | undefined } {
    const t = this.next();
    if (t.kind !== 'ident') throw this.unexpected(t, 'a column type');
    switch (t.text) {
      case 'int':
      case 'integer':
      case 'int4':
        return { type: 'int32', size: undefined };
      case 'bigint':
      case 'int8':
        return { type: 'int64', size: undefined };
      case 'float8':
        return { type: 'float64', size: undefined };
      case 'double':
        this.expectWord('precision');
        return { type: 'float64', size: undefined };
      case 'bool':
      case 'boolean':
        return { type: 'bool', size: undefined };
      case 'varchar':
        return { type: 'varchar', size: this.typeSize(t) };
      case 'character':
        this.expectWord('varying');
        return { type: 'varchar', size: this.typeSize(t) };
      case 'bytea':
        return { type: 'bytes', size: this.typeSize(t) };
      default:
        throw this.error(t, `type "${t.text}" is not supported (int, bigint, float8, boolean, varchar(n), bytea(n))`);
    }
  }

  private typeSize(typeToken: Token): number {
    if (!this.acceptOp('(')) throw this.error(this.peek(), `${typeToken.text} needs a size, e.g. ${typeToken.text}(32)`);
    const n = this.integer('a size');
    this.expectOp(')');
    return n;
  }

  private drop(): Statement {
    this.next();
    const what = this.peek();
    if (this.acceptWord('table')) {
      const ifExists = this.acceptWords('if', 'exists');
      return { kind: 'drop_table', table: this.qualifiedName('a table name'), ifExists };
    }
    if (this.acceptWord('index')) {
      const ifExists = this.acceptWords('if', 'exists');
      const index = this.qualifiedName('an index name');
      const on = this.acceptWord('on') ? this.qualifiedName('a table name') : undefined;
      return { kind: 'drop_index', index, on, ifExists };
    }
    if (this.acceptWord('database')) {
      const ifExists = this.acceptWords('if', 'exists');
      return { kind: 'drop_database', name: this.name('a database name'), ifExists, token: what };
    }
    if (this.acceptWord('account')) return { kind: 'drop_account', name: this.name('an account name'), token: what };
    if (this.acceptWord('user')) return { kind: 'drop_user', name: this.name('a user name'), token: what };
    if (this.acceptWord('pitr')) {
      const ifExists = this.acceptWords('if', 'exists');
      return { kind: 'drop_pitr', ...this.pitrName(), ifExists, token: what };
    }
    throw this.unexpected(what, 'TABLE, INDEX, DATABASE, ACCOUNT, USER or PITR');
  }

  // ---- DML ----

  private insert(): Statement {
    this.next();
    this.expectWord('into');
    const table = this.qualifiedName('a table name');
    const columns = this.peekOp('(') ? this.nameList('a column name') : undefined;
    this.expectWord('values');
    const rows: Literal[][] = [];
    do {
      this.bound(rows.length, this.peek());
      this.expectOp('(');
      const row: Literal[] = [];
      do {
        this.bound(row.length, this.peek());
        row.push(this.literal());
      } while (this.acceptOp(','));
      this.expectOp(')');
      rows.push(row);
    } while (this.acceptOp(','));
    return { kind: 'insert', table, columns, rows };
  }

  private update(): Statement {
    this.next();
    const table = this.qualifiedName('a table name');
    this.expectWord('set');
    const assignments: { column: string; value: Literal; token: Token }[] = [];
    do {
      const token = this.peek();
      this.bound(assignments.length, token);
      const column = this.name('a column name');
      this.expectOp('=');
      assignments.push({ column, value: this.literal(), token });
    } while (this.acceptOp(','));
    return { kind: 'update', table, assignments, where: this.where() };
  }

  private delete(): Statement {
    this.next();
    this.expectWord('from');
    const table = this.qualifiedName('a table name');
    return { kind: 'delete', table, where: this.where() };
  }

  private select(): Statement {
    this.next();
    const items: SelectItem[] = [];
    do {
      this.bound(items.length, this.peek());
      items.push(this.selectItem());
    } while (this.acceptOp(','));
    let from: Extract<Statement, { kind: 'select' }>['from'];
    if (this.acceptWord('from')) {
      const t = this.peek();
      const qname = this.qualifiedName('a table or function name');
      if (this.peekOp('(')) {
        if (qname.database !== undefined) throw this.error(t, 'a function name cannot be qualified');
        from = { kind: 'function', call: this.callArgs(qname.name, t) };
      } else {
        from = { kind: 'table', table: qname };
      }
    }
    const where = this.where();
    let orderBy: Extract<Statement, { kind: 'select' }>['orderBy'];
    if (this.acceptWord('order')) {
      this.expectWord('by');
      const token = this.peek();
      const column = this.name('a column name');
      const descending = this.acceptWord('desc');
      if (!descending) this.acceptWord('asc');
      orderBy = { column, descending, token };
    }
    let limit: number | undefined;
    if (this.acceptWord('limit')) limit = this.integer('a row count');
    return { kind: 'select', items, from, where, orderBy, limit };
  }

  private selectItem(): SelectItem {
    const t = this.peek();
    if (this.acceptOp('*')) return { kind: 'star', token: t };
    const name = this.name('a column, "*" or a function call');
    if (this.peekOp('(')) return { kind: 'call', call: this.callArgs(name, t) };
    return { kind: 'column', name, token: t };
  }

  private callArgs(name: string, token: Token): FunctionCall {
    this.expectOp('(');
    const args: Literal[] = [];
    if (!this.acceptOp(')')) {
      do {
        this.bound(args.length, this.peek());
        args.push(this.literal());
      } while (this.acceptOp(','));
      this.expectOp(')');
    }
    return { name, args, token };
  }

  private where(): Predicate[] {
    if (!this.acceptWord('where')) return [];
    const out: Predicate[] = [];
    do {
      const token = this.peek();
      this.bound(out.length, token);
      const column = this.name('a column name');
      if (this.acceptWord('between')) {
        const lo = this.literal();
        this.expectWord('and');
        const hi = this.literal();
        out.push({ column, op: '>=', value: lo, token }, { column, op: '<=', value: hi, token });
        continue;
      }
      const opTok = this.next();
      if (opTok.kind !== 'op' || !['=', '<>', '<', '<=', '>', '>='].includes(opTok.text)) {
        if (opTok.kind === 'ident' && (opTok.text === 'or' || opTok.text === 'in' || opTok.text === 'like' || opTok.text === 'is')) {
          throw this.notSupported(opTok, `${opTok.text.toUpperCase()} in WHERE (only comparisons joined by AND)`);
        }
        throw this.unexpected(opTok, 'a comparison (=, <>, <, <=, >, >=) or BETWEEN');
      }
      out.push({ column, op: opTok.text as ComparisonOp, value: this.literal(), token });
    } while (this.acceptWord('and'));
    const t = this.peek();
    if (t.kind === 'ident' && t.text === 'or') throw this.notSupported(t, 'OR in WHERE (only comparisons joined by AND)');
    return out;
  }

  // ---- maintenance and administration ----

  private vacuum(): Statement {
    const token = this.next();
    let analyze = false;
    if (this.acceptOp('(')) {
      do {
        const opt = this.next();
        analyze = this.vacuumOption(opt, true) || analyze;
      } while (this.acceptOp(','));
      this.expectOp(')');
    } else {
      for (let n = 0; n < 8; n++) {
        const t = this.peek();
        if (t.kind !== 'ident' || !['full', 'analyze', 'analyse', 'freeze', 'verbose', 'lazy'].includes(t.text)) break;
        this.next();
        analyze = this.vacuumOption(t, false) || analyze;
      }
    }
    let table: QualifiedName | undefined;
    if (this.peek().kind === 'ident' || this.peek().kind === 'quoted_ident') table = this.qualifiedName('a table name');
    const t = this.peek();
    if (t.kind === 'op' && t.text === '(') throw this.notSupported(t, 'VACUUM with a column list (MOT vacuums whole tables)');
    return { kind: 'vacuum', analyze, table, token };
  }

  /** Returns true for ANALYZE; FULL is accepted; everything MOT does not do is refused. */
  private vacuumOption(opt: Token, parenthesized: boolean): boolean {
    if (opt.kind !== 'ident') throw this.unexpected(opt, 'a VACUUM option');
    switch (opt.text) {
      case 'full':
        if (parenthesized && this.peek().kind === 'ident' && ['false', 'off'].includes(this.peek().text)) {
          throw this.notSupported(this.peek(), 'lazy VACUUM (FULL false): MOT always runs VACUUM FULL');
        }
        if (parenthesized) this.acceptWord('true') || this.acceptWord('on');
        return false;
      case 'analyze':
      case 'analyse':
        return true;
      case 'freeze':
        throw this.notSupported(opt, 'VACUUM FREEZE (MOT runs VACUUM FULL only)');
      case 'verbose':
        throw this.notSupported(opt, 'VACUUM VERBOSE (MOT runs VACUUM FULL only)');
      case 'lazy':
        throw this.notSupported(opt, 'lazy VACUUM: MOT always runs VACUUM FULL');
      default:
        throw this.error(opt, `unrecognized VACUUM option "${opt.text}"`);
    }
  }

  /** CLUSTER | ACCOUNT [name] | DATABASE db [TABLE t] | TABLE db TABLE t | TABLE db.t */
  private pitrTarget(accountOptional: boolean): PitrTargetSpec {
    const t = this.next();
    if (t.kind === 'ident' && t.text === 'cluster') return { level: 'cluster' };
    if (t.kind === 'ident' && t.text === 'account') {
      const n = this.peek();
      if (accountOptional && (n.kind !== 'ident' || n.text === 'range') && n.kind !== 'quoted_ident') return { level: 'account' };
      return { level: 'account', account: this.name('an account name') };
    }
    if (t.kind === 'ident' && t.text === 'database') {
      const database = this.name('a database name');
      if (this.acceptWord('table')) return { level: 'table', database, table: this.name('a table name') };
      return { level: 'database', database };
    }
    if (t.kind === 'ident' && t.text === 'table') {
      const q = this.qualifiedName('a database name');
      if (q.database !== undefined) return { level: 'table', database: q.database, table: q.name };
      this.expectWord('table');
      return { level: 'table', database: q.name, table: this.name('a table name') };
    }
    throw this.unexpected(t, 'CLUSTER, ACCOUNT, DATABASE or TABLE');
  }

  /** RANGE n ['unit']: the value keeps its sign, so 0 or -1 gets the range error, not a syntax error. */
  private pitrRange(): { rangeValue: number; rangeUnit: string | undefined } {
    this.expectWord('range');
    const negative = this.acceptOp('-');
    const rangeValue = this.integer('a range value') * (negative ? -1 : 1);
    const u = this.peek();
    if (u.kind === 'string' || (u.kind === 'ident' && !['and', 'for'].includes(u.text))) {
      this.next();
      return { rangeValue, rangeUnit: u.text };
    }
    return { rangeValue, rangeUnit: undefined };
  }

  private restore(): Statement {
    const token = this.next();
    const target = this.pitrTarget(false);
    this.expectWord('from');
    this.expectWord('pitr');
    const { name: pitr, account: pitrAccount } = this.pitrName();
    this.expectWord('timestamp');
    const ts = this.next();
    if (ts.kind !== 'string') throw this.unexpected(ts, "a timestamp string ('YYYY-MM-DD HH:MM:SS')");
    return { kind: 'restore', target, pitr, pitrAccount, timestamp: ts.text, token };
  }

  private show(): Statement {
    const token = this.next();
    if (this.acceptWord('pitr')) return { kind: 'show_pitr', where: this.where(), token };
    const t = this.next();
    if (t.kind === 'ident' && ['tables', 'databases', 'accounts', 'users'].includes(t.text)) {
      return { kind: 'show', what: t.text as 'tables' | 'databases' | 'accounts' | 'users', token };
    }
    if (t.kind === 'ident' && ['indexes', 'index', 'columns'].includes(t.text)) {
      if (!this.acceptWord('from')) this.expectWord('in');
      return { kind: 'show_table', what: t.text === 'columns' ? 'columns' : 'indexes', table: this.qualifiedName('a table name') };
    }
    throw this.unexpected(t, 'TABLES, DATABASES, ACCOUNTS, USERS, PITR, INDEXES FROM t or COLUMNS FROM t');
  }

  // ---- pieces ----

  private literal(): Literal {
    const t = this.next();
    if (t.kind === 'number') return { kind: 'number', text: t.text, negative: false, token: t };
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      const n = this.next();
      if (n.kind !== 'number') throw this.unexpected(n, 'a number');
      return { kind: 'number', text: n.text, negative: t.text === '-', token: t };
    }
    if (t.kind === 'string') return { kind: 'string', value: t.text, token: t };
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'false') return { kind: 'bool', value: t.text === 'true', token: t };
      if (t.text === 'null') return { kind: 'null', token: t };
    }
    throw this.unexpected(t, 'a value (number, \'string\', TRUE, FALSE or NULL)');
  }

  private qualifiedName(what: string): QualifiedName {
    const token = this.peek();
    const first = this.name(what);
    if (this.acceptOp('.')) return { database: first, name: this.name(what), token };
    return { database: undefined, name: first, token };
  }

  /** A PITR named in ALTER, DROP or RESTORE: `name`, or `account.name` (PITR names are per account). */
  private pitrName(): { name: string; account: string | undefined } {
    const q = this.qualifiedName('a PITR name');
    return { name: q.name, account: q.database };
  }

  private nameList(what: string): string[] {
    this.expectOp('(');
    const out: string[] = [];
    do {
      this.bound(out.length, this.peek());
      out.push(this.name(what));
    } while (this.acceptOp(','));
    this.expectOp(')');
    return out;
  }

  private name(what: string): string {
    const t = this.next();
    if (t.kind === 'ident' || t.kind === 'quoted_ident') return t.text;
    throw this.unexpected(t, what);
  }

  private stringOrName(what: string): string {
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'ident' || t.kind === 'quoted_ident') return t.text;
    throw this.unexpected(t, what);
  }

  private integer(what: string): number {
    const t = this.next();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text) || !Number.isSafeInteger(Number(t.text))) throw this.unexpected(t, `${what} (a whole number)`);
    return Number(t.text);
  }

  private bound(count: number, t: Token): void {
    if (count >= SQL_LIST_ITEMS_MAX) throw this.error(t, `more than ${SQL_LIST_ITEMS_MAX} items in one list`);
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private peekOp(op: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === op;
  }
  private acceptOp(op: string): boolean {
    if (!this.peekOp(op)) return false;
    this.pos++;
    return true;
  }
  private expectOp(op: string): void {
    if (!this.acceptOp(op)) throw this.unexpected(this.peek(), `"${op}"`);
  }
  private acceptWord(word: string): boolean {
    const t = this.peek();
    if (t.kind !== 'ident' || t.text !== word) return false;
    this.pos++;
    return true;
  }
  /** Accepts the words only all together (IF NOT EXISTS); consumes nothing otherwise. */
  private acceptWords(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.tokens[this.pos + k]!;
      if (t.kind !== 'ident' || t.text !== words[k]) {
        if (k > 0) throw this.unexpected(t, words[k]!.toUpperCase());
        return false;
      }
    }
    this.pos += words.length;
    return true;
  }
  private expectWord(word: string): void {
    if (!this.acceptWord(word)) throw this.unexpected(this.peek(), word.toUpperCase());
  }

  private unexpected(t: Token, expected: string): MotError {
    return this.error(t, `expected ${expected}, found ${describeToken(t)}`);
  }
  private error(t: Token, what: string): MotError {
    return syntaxErrorAt(this.source, t, what);
  }
  private notSupported(t: Token, what: string): MotError {
    const e = Errors.notSupported(what);
    return new MotError({ code: e.code, rc: e.rc, sqlstate: e.condition, message: `${e.message} (line ${t.line}, column ${t.column})` });
  }
}

/** Characters the token spans in the source (for slicing a statement's text). */
function tokenLength(source: string, t: Token): number {
  if (t.kind === 'string' || t.kind === 'quoted_ident') {
    const q = source[t.offset]!;
    let i = t.offset + 1;
    for (; i < source.length; i++) {
      if (source[i] === q) {
        if (source[i + 1] === q) i++;
        else break;
      }
    }
    return i + 1 - t.offset;
  }
  if (t.kind === 'ident') {
    let i = t.offset;
    while (i < source.length && /[A-Za-z0-9_$]/.test(source[i]!)) i++;
    return i - t.offset;
  }
  return t.text.length;
}
