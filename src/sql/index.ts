// The SQL face: parse (lexer.ts, parser.ts), run against the engine (executor.ts), print (format.ts).

export { parseSql } from './parser.js';
export { tokenize, type Token } from './lexer.js';
export { executeSql, SqlRunner, type SqlResult } from './executor.js';
export { formatResult, formatError, formatValue } from './format.js';
export type { Statement, ParsedStatement } from './ast.js';
