// The one rule for names of objects a user creates (tables, indexes, databases, accounts, users,
// PITRs), checked wherever such a name enters, from SQL or the library API. PostgreSQL's NAMEDATALEN
// rule: at most 63 bytes of UTF-8. PostgreSQL truncates a longer identifier with a NOTICE; motsim
// refuses it (42622), because a silently truncated name is a different name, and two long names
// would collide. Control characters (NUL, newline, escape, DEL, C1) and lone surrogates are refused
// (42602): NUL cannot cross PostgreSQL's wire protocol at all, the others would forge lines and
// terminal escapes in error messages, SHOW output and the shell, and a lone surrogate has no UTF-8
// form (it would come back as U+FFFD after a restart: another name). Column names keep MOT's own
// length limit (83 bytes, src/store/schema.ts) and get the same character check.
// Names already on disk are not re-checked when a directory opens, so older directories still open.

import { MotError } from './errors.js';

/** NAMEDATALEN - 1: bytes of UTF-8 in a name. */
export const NAME_BYTES_MAX = 63;

/** Throws 42622 (too long), 42602 (bad character) or 22023 (empty, not a string) naming the kind and the name. */
export function checkName(kind: string, name: unknown, bytesMax: number = NAME_BYTES_MAX): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new MotError({ code: 'MOT_ERROR_INVALID_ARG', rc: 'RC_ERROR', sqlstate: 'invalid_parameter_value', message: `invalid ${kind} name ${describeName(name)}: a name is a non-empty string` });
  }
  checkNameCharacters(kind, name);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > bytesMax) {
    throw new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'name_too_long',
      message: `${kind} name ${describeName(name)} is too long: ${bytes} bytes of UTF-8, at most ${bytesMax}`,
    });
  }
  return name;
}

/** Throws 42602 if the name holds a control character or a lone surrogate. */
export function checkNameCharacters(kind: string, name: string): void {
  const bad = /[\u0000-\u001f\u007f-\u009f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(name);
  if (bad === null) return;
  const code = bad[0].charCodeAt(0);
  const what = code >= 0xd800 ? 'a lone surrogate' : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  throw new MotError({
    code: 'MOT_ERROR_INVALID_ARG',
    rc: 'RC_ERROR',
    sqlstate: 'invalid_name',
    message: `invalid ${kind} name ${describeName(name)}: it contains ${what} at position ${bad.index}`,
  });
}

/** A name as an error message shows it: quoted, control characters escaped, long names cut. */
export function describeName(name: unknown): string {
  if (typeof name !== 'string') return name === null ? 'null' : typeof name;
  const cut = name.length > 64 ? `${name.slice(0, 64)}...` : name;
  // JSON escapes control characters and lone surrogates; C1 controls and DEL are escaped by hand.
  return JSON.stringify(cut).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
