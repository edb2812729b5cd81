// Reading a column's value out of a row object. Rows are plain objects keyed by column name, and a
// plain object inherits `constructor`, `toString`, `valueOf`... from Object.prototype: a column with
// such a name that a row does not set must read as absent, never as a function. Every reader of row
// objects (compiled codecs and checks included) goes through these two helpers, so no other code
// needs to know which names are dangerous.

import type { Row, Value } from './value.js';

/** Names a plain object answers without owning them (`constructor`, `toString`, `__proto__`, ...). */
export function isInheritedName(name: string): boolean {
  return name in Object.prototype;
}

/** `row[name]`, or undefined when the row does not own a name it would otherwise inherit. */
export function columnValue(row: Readonly<Row>, name: string): Value | undefined {
  const v = row[name];
  if (v === undefined || !isInheritedName(name) || Object.hasOwn(row, name)) return v;
  return undefined;
}

/**
 * JavaScript source that reads column `name` of the object in variable `rowVar`, for compiled codecs:
 * a plain property load for ordinary names, an own-property check for inherited ones.
 */
export function columnReadSource(rowVar: string, name: string): string {
  const key = JSON.stringify(name);
  return isInheritedName(name) ? `(Object.hasOwn(${rowVar}, ${key}) ? ${rowVar}[${key}] : undefined)` : `${rowVar}[${key}]`;
}
