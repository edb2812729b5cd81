// How the motsim command line ends: its exit statuses, the errors that choose them, and the one line
// every failure prints on stderr (`motsim: ERROR <sqlstate> ...`). A stack trace only with MOTSIM_DEBUG=1.

import { CommanderError } from 'commander';
import { Errors, MotError, isFileSystemError } from '../errors.js';

/** Exit statuses of every motsim command (documented in README.md and in each command's --help). */
export const EXIT = {
  ok: 0,
  /** Something failed while running: a missing or locked directory, bad configuration, a SQL error, I/O. */
  runtimeError: 1,
  /** The command line itself is wrong: unknown command or option, a missing or malformed argument. */
  usageError: 2,
  /** The run worked and found lost or violated data: crash-test violations, bench/simulate verification. */
  dataCheckFailed: 3,
} as const;

export const EXIT_CODES_HELP = [
  '',
  'Exit status:',
  `  ${EXIT.ok}  success`,
  `  ${EXIT.runtimeError}  runtime error (a missing, locked or unreadable directory, bad configuration, a SQL error, I/O)`,
  `  ${EXIT.usageError}  usage error (unknown command or option, missing or malformed argument)`,
  `  ${EXIT.dataCheckFailed}  a check found lost or violated data (crash-test violations, bench/simulate verification)`,
  'Errors print one line on stderr: "motsim: ERROR <sqlstate> (...): <message>"; MOTSIM_DEBUG=1 adds stack traces.',
].join('\n');

/** A command line that cannot be run as given: exit status 2. */
export class UsageError extends MotError {
  constructor(command: string, reason: string) {
    const e = Errors.invalidArgument('command line', `${reason}; see "${command} --help"`);
    super({ code: e.code, rc: e.rc, sqlstate: e.condition, message: e.message });
    this.name = 'UsageError';
  }
}

/** A run that worked and found lost or violated data: exit status 3. */
export class DataCheckFailed extends MotError {
  constructor(message: string) {
    super({ code: 'MOT_ERROR_INTERNAL', rc: 'RC_ERROR', sqlstate: 'data_corrupted', message });
    this.name = 'DataCheckFailed';
  }
}

/** Prints the one error line (and the stack when MOTSIM_DEBUG is set); returns the exit status. */
export function reportCliError(e: unknown, commandOf: () => string, write: (line: string) => void = (l) => process.stderr.write(l)): number {
  const debug = process.env.MOTSIM_DEBUG !== undefined && process.env.MOTSIM_DEBUG !== '' && process.env.MOTSIM_DEBUG !== '0';
  const { error, status } = classify(e, commandOf);
  write(`motsim: ${oneLine(error)}\n`);
  if (debug && e instanceof Error && e.stack) write(`${e.stack}\n`);
  return status;
}

function classify(e: unknown, commandOf: () => string): { error: MotError; status: number } {
  if (e instanceof CommanderError) {
    const reason = e.message.replace(/^error: /, '').replace(/\n[\s\S]*$/, '');
    return { error: new UsageError(commandOf(), reason), status: EXIT.usageError };
  }
  if (e instanceof UsageError) return { error: e, status: EXIT.usageError };
  if (e instanceof DataCheckFailed) return { error: e, status: EXIT.dataCheckFailed };
  if (e instanceof MotError) return { error: e, status: EXIT.runtimeError };
  // A file system error that no layer turned into a MotError still names its file and gets its errno's SQLSTATE.
  if (isFileSystemError(e)) return { error: Errors.fileAccess(e.syscall ?? 'access', e.path ?? '?', e), status: EXIT.runtimeError };
  const message = e instanceof Error ? e.message : String(e);
  const internal = new MotError({
    code: 'MOT_ERROR_INTERNAL',
    rc: 'RC_ERROR',
    sqlstate: 'internal_error',
    message: `internal error (a bug in motsim, please report it): ${message}; MOTSIM_DEBUG=1 prints the stack trace`,
  });
  return { error: internal, status: EXIT.runtimeError };
}

/** The error on one line: a multi-line detail (a SQL syntax error's context) is joined with " | ". */
export function oneLine(e: MotError): string {
  const detail = e.detail
    ?.trim()
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .join(' | ');
  return `ERROR ${e.sqlstate} (${e.rc}, ${e.code}): ${e.message.replace(/\s*\n\s*/g, ' | ')}${detail ? ` DETAIL: ${detail}` : ''}`;
}
