// The syntax tree of motsim's SQL dialect, produced by parser.ts and run by executor.ts. Nodes keep
// the token that names them, so that errors found while executing can point at the source too.

import type { Token } from './lexer.js';

/** A literal as written; it gets its type from the column it is compared with or stored into. */
export type Literal =
  | { kind: 'number'; text: string; negative: boolean; token: Token }
  | { kind: 'string'; value: string; token: Token }
  | { kind: 'bool'; value: boolean; token: Token }
  | { kind: 'null'; token: Token };

/** `name` or `database.name`. */
export interface QualifiedName {
  database: string | undefined;
  name: string;
  token: Token;
}

export type SqlTypeName = 'int32' | 'int64' | 'float64' | 'bool' | 'varchar' | 'bytes';

export interface ColumnSpec {
  name: string;
  type: SqlTypeName;
  size: number | undefined;
  notNull: boolean;
  primaryKey: boolean;
  token: Token;
}

export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** One conjunct of a WHERE clause: `column op literal` (BETWEEN becomes two of these). */
export interface Predicate {
  column: string;
  op: ComparisonOp;
  value: Literal;
  token: Token;
}

export interface FunctionCall {
  name: string;
  args: Literal[];
  token: Token;
}

export type SelectItem = { kind: 'star'; token: Token } | { kind: 'column'; name: string; token: Token } | { kind: 'call'; call: FunctionCall };

export type Statement =
  | { kind: 'create_table'; table: QualifiedName; columns: ColumnSpec[]; primaryKey: string[]; ifNotExists: boolean }
  | { kind: 'drop_table'; table: QualifiedName; ifExists: boolean }
  | { kind: 'create_index'; name: string; table: QualifiedName; columns: string[]; unique: boolean; ifNotExists: boolean; token: Token }
  | { kind: 'drop_index'; index: QualifiedName; on: QualifiedName | undefined; ifExists: boolean }
  | { kind: 'show_table'; what: 'indexes' | 'columns'; table: QualifiedName }
  | { kind: 'insert'; table: QualifiedName; columns: string[] | undefined; rows: Literal[][] }
  | { kind: 'update'; table: QualifiedName; assignments: { column: string; value: Literal; token: Token }[]; where: Predicate[] }
  | { kind: 'delete'; table: QualifiedName; where: Predicate[] }
  | {
      kind: 'select';
      items: SelectItem[];
      from: { kind: 'table'; table: QualifiedName } | { kind: 'function'; call: FunctionCall } | undefined;
      where: Predicate[];
      orderBy: { column: string; descending: boolean; token: Token } | undefined;
      limit: number | undefined;
    }
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'vacuum'; analyze: boolean; table: QualifiedName | undefined; token: Token }
  | { kind: 'create_database'; name: string; ifNotExists: boolean; token: Token }
  | { kind: 'drop_database'; name: string; ifExists: boolean; token: Token }
  | { kind: 'use'; database: string; token: Token }
  | { kind: 'create_account'; name: string; adminName: string; token: Token }
  | { kind: 'drop_account'; name: string; token: Token }
  | { kind: 'create_user'; name: string; token: Token }
  | { kind: 'drop_user'; name: string; token: Token }
  | { kind: 'show'; what: 'tables' | 'databases' | 'accounts' | 'users'; token: Token }
  | { kind: 'truncate'; table: QualifiedName }
  | { kind: 'checkpoint'; token: Token }
  | { kind: 'create_pitr'; name: string; target: PitrTargetSpec; rangeValue: number; rangeUnit: string | undefined; token: Token }
  | { kind: 'alter_pitr'; name: string; account: string | undefined; rangeValue: number; rangeUnit: string | undefined; token: Token }
  | { kind: 'drop_pitr'; name: string; account: string | undefined; ifExists: boolean; token: Token }
  | { kind: 'show_pitr'; where: Predicate[]; token: Token }
  | { kind: 'restore'; target: PitrTargetSpec; pitr: string; pitrAccount: string | undefined; timestamp: string; token: Token };

/** The object of a PITR or a RESTORE, as written (the account defaults to the session's). */
export interface PitrTargetSpec {
  level: 'cluster' | 'account' | 'database' | 'table';
  account?: string;
  database?: string;
  table?: string;
}

/** A parsed statement and where it sits in the source. */
export interface ParsedStatement {
  statement: Statement;
  /** The statement's text (for error messages and the shell's history). */
  text: string;
  token: Token;
}
