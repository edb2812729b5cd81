// Splits SQL text into tokens, each with its offset, line and column so that every error can point
// at the token that caused it. Unquoted identifiers and keywords are folded to lower case (as in
// PostgreSQL); "quoted" identifiers keep their case. Input length and token count are bounded.

import { Errors, MotError } from '../errors.js';

/** Longest statement text accepted (a bound on lexing work and on the token array). */
export const SQL_TEXT_CHARS_MAX = 1_000_000;

export type TokenKind = 'ident' | 'quoted_ident' | 'number' | 'string' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** ident: lower-cased name; quoted_ident: the name; number: digits as written; string: the value; op: the operator. */
  text: string;
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
}

const OPERATORS = ['<=', '>=', '<>', '!=', '(', ')', ',', ';', '*', '=', '<', '>', '.', '-', '+'];

export function tokenize(source: string): Token[] {
  if (source.length > SQL_TEXT_CHARS_MAX) {
    throw Errors.invalidArgument('SQL text', `${source.length} characters is more than ${SQL_TEXT_CHARS_MAX}`);
  }
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (offset: number): { line: number; column: number } => ({ line, column: offset - lineStart + 1 });
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '-' && source[i + 1] === '-') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < source.length && isIdentPart(source[i]!)) i++;
      tokens.push({ kind: 'ident', text: source.slice(start, i).toLowerCase(), offset: start, ...at(start) });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      while (i < source.length && isDigit(source[i]!)) i++;
      if (source[i] === '.') for (i++; i < source.length && isDigit(source[i]!); ) i++;
      if (source[i] === 'e' || source[i] === 'E') {
        const save = i;
        i++;
        if (source[i] === '+' || source[i] === '-') i++;
        if (!isDigit(source[i] ?? '')) i = save;
        else while (i < source.length && isDigit(source[i]!)) i++;
      }
      tokens.push({ kind: 'number', text: source.slice(start, i), offset: start, ...at(start) });
      continue;
    }
    if (c === "'" || c === '"') {
      const pos = at(start);
      const { value, end, lines, lastLineStart } = readQuoted(source, start, c, pos);
      tokens.push({ kind: c === "'" ? 'string' : 'quoted_ident', text: value, offset: start, ...pos });
      if (c === '"' && value.length === 0) throw syntaxErrorAt(source, { offset: start, ...pos }, 'zero-length delimited identifier');
      line += lines;
      if (lines > 0) lineStart = lastLineStart;
      i = end;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined) throw syntaxErrorAt(source, { offset: start, ...at(start) }, `unexpected character "${c}"`);
    tokens.push({ kind: 'op', text: op === '!=' ? '<>' : op, offset: start, ...at(start) });
    i += op.length;
  }
  tokens.push({ kind: 'eof', text: '', offset: source.length, ...at(source.length) });
  return tokens;
}

function readQuoted(
  source: string,
  start: number,
  quote: string,
  pos: { line: number; column: number },
): { value: string; end: number; lines: number; lastLineStart: number } {
  let value = '';
  let lines = 0;
  let lastLineStart = 0;
  for (let i = start + 1; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === quote) {
      if (source[i + 1] === quote) {
        value += quote;
        i++;
        continue;
      }
      return { value, end: i + 1, lines, lastLineStart };
    }
    if (ch === '\n') {
      lines++;
      lastLineStart = i + 1;
    }
    value += ch;
  }
  const what = quote === "'" ? 'unterminated quoted string' : 'unterminated quoted identifier';
  throw syntaxErrorAt(source, { offset: start, ...pos }, what);
}

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c) || c === '$';
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** A syntax error (SQLSTATE 42601) at a token: message with line and column, detail with the line and a caret. */
export function syntaxErrorAt(source: string, where: { offset: number; line: number; column: number }, what: string): MotError {
  const lineText = source.split('\n')[where.line - 1] ?? '';
  const caret = `${' '.repeat(Math.max(0, where.column - 1))}^`;
  return Errors.syntaxError(what, `line ${where.line}, column ${where.column}`, `${lineText}\n${caret}`);
}

/** How a token reads in an error message. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'string':
      return `'${t.text}'`;
    case 'quoted_ident':
      return `"${t.text}"`;
    default:
      return `"${t.text}"`;
  }
}
