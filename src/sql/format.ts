// Results as psql prints them: a header centred over each column, numbers right-aligned, text
// left-aligned, a "(N rows)" footer; statements without rows print their command tag.

import type { Value } from '../store/schema.js';
import type { SqlResult } from './executor.js';
import type { MotError } from '../errors.js';

/** A value as psql shows it: NULL empty, booleans t/f, bytea as \x hex. */
export function formatValue(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  return String(v);
}

export function formatResult(r: SqlResult): string {
  if (r.columns.length === 0) return r.command;
  const cells = r.rows.map((row) => row.map(formatValue));
  const numeric = r.columns.map((_, i) => r.rows.length > 0 && r.rows.every((row) => row[i] === null || typeof row[i] === 'number' || typeof row[i] === 'bigint'));
  const widths = r.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => maxLineLength(row[i]!))));
  const header = r.columns.map((c, i) => centre(c, widths[i]!)).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w + 2)).join('+');
  const lines = cells.map((row) => row.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | '));
  const n = r.rows.length;
  return [` ${header} `.trimEnd(), rule, ...lines.map((l) => ` ${l} `.trimEnd()), `(${n} ${n === 1 ? 'row' : 'rows'})`].join('\n');
}

/** An error as psql prints it: ERROR, DETAIL, and the SQLSTATE with MOT's codes. */
export function formatError(e: MotError): string {
  const lines = [`ERROR:  ${e.message}`];
  if (e.detail) lines.push(e.detail.startsWith('\n') ? e.detail.slice(1) : `DETAIL:  ${e.detail}`);
  lines.push(`SQLSTATE: ${e.sqlstate} (${e.rc}, ${e.code})`);
  return lines.join('\n');
}

function centre(s: string, width: number): string {
  const left = Math.floor((width - s.length) / 2);
  return ' '.repeat(left) + s + ' '.repeat(width - s.length - left);
}

function maxLineLength(s: string): number {
  return s.split('\n').reduce((m, l) => Math.max(m, l.length), 0);
}
