// Typed errors for everything a user (or the machine) can cause. Every error carries MOT's internal
// error code, the return code (RC_*) reported to users and its SQLSTATE, and a message naming the
// table, column, key, parameter or file involved. Programmer errors use `assert` instead.
//
// Codes and SQLSTATEs follow openGauss's MOT FDW mapping (fdw_adapter/mot_fdw_error.cpp) and
// openGauss's errcodes table; the HV0xx codes are openGauss's FDW-specific classes.

/** MOT's internal error codes (MOT_ERROR_*). */
export const MotCode = {
  MOT_NO_ERROR: 0,
  MOT_ERROR_OOM: 1,
  MOT_ERROR_INVALID_CFG: 2,
  MOT_ERROR_INVALID_ARG: 3,
  MOT_ERROR_SYSTEM_FAILURE: 4,
  MOT_ERROR_RESOURCE_LIMIT: 5,
  MOT_ERROR_INTERNAL: 6,
  MOT_ERROR_RESOURCE_UNAVAILABLE: 7,
  MOT_ERROR_UNIQUE_VIOLATION: 8,
  MOT_ERROR_INVALID_MEMORY_SIZE: 9,
  MOT_ERROR_INDEX_OUT_OF_RANGE: 10,
  MOT_ERROR_INVALID_STATE: 11,
} as const;
export type MotCodeName = keyof typeof MotCode;

/** SQLSTATEs used by motsim, by their PostgreSQL/openGauss condition names. */
export const SqlState = {
  successful_completion: '00000',
  fdw_error: 'HV000',
  fdw_operation_not_supported: 'HV025',
  fdw_too_many_indexes: 'HV029',
  fdw_key_size_exceeds_max_allowed: 'HV030',
  fdw_too_many_ddl_changes_in_transaction_not_allowed: 'HV034',
  serialization_failure: '40001',
  invalid_column_definition: '42611',
  feature_not_supported: '0A000',
  unique_violation: '23505',
  undefined_table: '42P01',
  undefined_column: '42703',
  out_of_logical_memory: 'YY006',
  invalid_parameter_value: '22023',
  config_file_error: 'F0000',
  too_many_connections: '53300',
  disk_full: '53100',
  io_error: '58030',
  data_corrupted: 'XX001',
  internal_error: 'XX000',
  read_only_sql_transaction: '25006',
  invalid_transaction_state: '25000',
  insufficient_privilege: '42501',
  datatype_mismatch: '42804',
  string_data_right_truncation: '22001',
  numeric_value_out_of_range: '22003',
  object_not_in_prerequisite_state: '55000',
  duplicate_table: '42P07',
  syntax_error: '42601',
  invalid_name: '42602',
  name_too_long: '42622',
  lock_not_available: '55P03',
  object_in_use: '55006',
  invalid_catalog_name: '3D000',
  duplicate_database: '42P04',
  duplicate_object: '42710',
  undefined_object: '42704',
  invalid_authorization_specification: '28000',
  active_sql_transaction: '25001',
  no_active_sql_transaction: '25P01',
  undefined_file: '58P01',
  duplicate_file: '58P02',
  system_error: '58000',
  wrong_object_type: '42809',
  transaction_resolution_unknown: '08007',
} as const;
export type SqlStateName = keyof typeof SqlState;

/** Return codes reported to users (MOT's RC enum, the ones that reach a client). */
export type ReturnCode =
  | 'RC_OK'
  | 'RC_ERROR'
  | 'RC_ABORT'
  | 'RC_SERIALIZATION_FAILURE'
  | 'RC_UNSUPPORTED_COL_TYPE'
  | 'RC_UNSUPPORTED_COL_TYPE_ARR'
  | 'RC_EXCEEDS_MAX_ROW_SIZE'
  | 'RC_COL_NAME_EXCEEDS_MAX_SIZE'
  | 'RC_COL_SIZE_INVLALID'
  | 'RC_TABLE_EXCEEDS_MAX_DECLARED_COLS'
  | 'RC_INDEX_EXCEEDS_MAX_SIZE'
  | 'RC_TABLE_EXCEEDS_MAX_INDEXES'
  | 'RC_TXN_EXCEEDS_MAX_DDLS'
  | 'RC_UNIQUE_VIOLATION'
  | 'RC_TABLE_NOT_FOUND'
  | 'RC_INDEX_NOT_FOUND'
  | 'RC_MEMORY_ALLOCATION_ERROR'
  | 'RC_NULL_VIOLATION'
  | 'RC_PANIC'
  | 'RC_NA';

export interface MotErrorFields {
  code: MotCodeName;
  rc: ReturnCode;
  sqlstate: SqlStateName;
  message: string;
  detail?: string;
  cause?: unknown;
}

/** The one error class users catch. `rc`, `code` and `sqlstate` say what happened; `message` says where. */
export class MotError extends Error {
  /** MOT internal code name, e.g. 'MOT_ERROR_INVALID_CFG'. */
  readonly code: MotCodeName;
  /** MOT internal code number, e.g. 2. */
  readonly codeNumber: number;
  /** Return code reported to users, e.g. 'RC_UNIQUE_VIOLATION'. */
  readonly rc: ReturnCode;
  /** Five-character SQLSTATE, e.g. '23505'. */
  readonly sqlstate: string;
  /** SQLSTATE condition name, e.g. 'unique_violation'. */
  readonly condition: SqlStateName;
  readonly detail: string | undefined;

  constructor(fields: MotErrorFields) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'MotError';
    this.code = fields.code;
    this.codeNumber = MotCode[fields.code];
    this.rc = fields.rc;
    this.condition = fields.sqlstate;
    this.sqlstate = SqlState[fields.sqlstate];
    this.detail = fields.detail;
  }

  /** One line for logs and CLIs: `ERROR 23505 (RC_UNIQUE_VIOLATION): message. detail`. */
  toLine(): string {
    const detail = this.detail ? ` DETAIL: ${this.detail}` : '';
    return `ERROR ${this.sqlstate} (${this.rc}, ${this.code}): ${this.message}${detail}`;
  }
}

export function isMotError(e: unknown): e is MotError {
  return e instanceof MotError;
}

/** Programmer error: an impossible state. Never used for anything a user can cause. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`motsim assertion failed: ${message}`);
}

// ---- Factories: one per situation, so messages stay consistent. ----

export const Errors = {
  serializationFailure(table: string, key: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_STATE',
      rc: 'RC_SERIALIZATION_FAILURE',
      sqlstate: 'serialization_failure',
      message: 'could not serialize access due to concurrent update',
      detail: `table "${table}", key ${key}`,
    });
  },
  uniqueViolation(table: string, index: string, key: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_UNIQUE_VIOLATION',
      rc: 'RC_UNIQUE_VIOLATION',
      sqlstate: 'unique_violation',
      message: `duplicate key value violates unique constraint "${index}"`,
      detail: `Key ${key} already exists in table "${table}".`,
    });
  },
  nullViolation(table: string, column: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_NULL_VIOLATION',
      sqlstate: 'fdw_error',
      message: 'Null constraint violated',
      detail: `NULL value cannot be inserted into non-null column ${column} at table ${table}`,
    });
  },
  tableNotFound(table: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_TABLE_NOT_FOUND',
      sqlstate: 'undefined_table',
      message: `Table "${table}" doesn't exist`,
    });
  },
  indexNotFound(index: string, table?: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_INDEX_NOT_FOUND',
      sqlstate: 'undefined_table',
      message: table === undefined ? `Index "${index}" doesn't exist` : `Index "${index}" of table "${table}" doesn't exist`,
    });
  },
  invalidConfig(parameter: string, reason: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_CFG',
      rc: 'RC_ERROR',
      sqlstate: 'invalid_parameter_value',
      message: `invalid configuration parameter "${parameter}": ${reason}`,
    });
  },
  invalidArgument(what: string, reason: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'invalid_parameter_value',
      message: `invalid ${what}: ${reason}`,
    });
  },
  outOfLogicalMemory(what: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_OOM',
      rc: 'RC_MEMORY_ALLOCATION_ERROR',
      sqlstate: 'out_of_logical_memory',
      message: 'Memory is temporarily unavailable',
      detail: `reached the maximum logical memory capacity: ${what}`,
    });
  },
  tooManyClients(max: number): MotError {
    return new MotError({
      code: 'MOT_ERROR_RESOURCE_LIMIT',
      rc: 'RC_ERROR',
      sqlstate: 'too_many_connections',
      message: `sorry, too many clients already (max_connections = ${max})`,
    });
  },
  /** The WAL could not be written or flushed: the commit is NOT durable and was not acknowledged. */
  walFailure(file: string, operation: string, cause: unknown): MotError {
    const diskFull = (cause as { code?: string } | undefined)?.code === 'ENOSPC';
    return new MotError({
      code: 'MOT_ERROR_SYSTEM_FAILURE',
      rc: 'RC_ERROR',
      sqlstate: diskFull ? 'disk_full' : 'io_error',
      message: `could not ${operation} redo log file "${file}": ${describeCause(cause)}; the transaction was not committed`,
      cause,
    });
  },
  /**
   * The commit's redo may have reached the disk, but its durability could not be confirmed (an fsync
   * that failed, or a failed write whose partial bytes could not be cleaned away): after recovery the
   * transaction may be there or not (SQLSTATE 08007, transaction_resolution_unknown, as PostgreSQL
   * reports a connection lost during COMMIT). Every other commit rejection means "not committed".
   */
  commitOutcomeUnknown(file: string, reason: string, cause?: unknown): MotError {
    return new MotError({
      code: 'MOT_ERROR_SYSTEM_FAILURE',
      rc: 'RC_ERROR',
      sqlstate: 'transaction_resolution_unknown',
      message: `the outcome of the commit is unknown: ${reason} (redo log file "${file}"${cause === undefined ? '' : `: ${describeCause(cause)}`}); after recovery the transaction may or may not be present`,
      cause,
    });
  },
  /** The engine refuses writes after an earlier WAL failure, until it is reopened. */
  engineReadOnly(reason: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_STATE',
      rc: 'RC_ERROR',
      sqlstate: 'read_only_sql_transaction',
      message: `the engine is read-only until it is reopened: ${reason}`,
    });
  },
  corruption(file: string, offset: number, reason: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INTERNAL',
      rc: 'RC_PANIC',
      sqlstate: 'data_corrupted',
      message: `corrupt data in "${file}" at offset ${offset}: ${reason}`,
    });
  },
  invalidState(what: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_STATE',
      rc: 'RC_ERROR',
      sqlstate: 'invalid_transaction_state',
      message: what,
    });
  },
  notSupported(what: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'feature_not_supported',
      message: `${what} is not supported`,
    });
  },
  checkpointInProgressTruncate(table: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_STATE',
      rc: 'RC_NA',
      sqlstate: 'fdw_operation_not_supported',
      message: 'A checkpoint is in progress - cannot truncate table.',
      detail: `table "${table}"`,
    });
  },
  /** MOT's checkpoint refusal for another DDL statement (`what`: "create index", "drop index"). */
  checkpointInProgressDdl(table: string, what: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_STATE',
      rc: 'RC_NA',
      sqlstate: 'fdw_operation_not_supported',
      message: `A checkpoint is in progress - cannot ${what}.`,
      detail: `table "${table}"`,
    });
  },
  permissionDenied(account: string, what: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'insufficient_privilege',
      message: `permission denied for account "${account}": ${what}`,
    });
  },
  recoveryFailed(reason: string, cause?: unknown): MotError {
    return new MotError({
      code: 'MOT_ERROR_INTERNAL',
      rc: 'RC_PANIC',
      sqlstate: 'data_corrupted',
      message: `recovery failed: ${reason}`,
      cause,
    });
  },
  undefinedColumn(table: string, column: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'undefined_column',
      message: `column "${column}" of relation "${table}" does not exist`,
    });
  },
  /** A value of the wrong type for its column (or a malformed key). */
  datatypeMismatch(table: string, column: string, expected: string, got: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'datatype_mismatch',
      message: `column "${column}" of table "${table}" is of type ${expected} but the value is ${got}`,
    });
  },
  valueTooLong(table: string, column: string, type: string, bytes: number): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'string_data_right_truncation',
      message: `value too long for type ${type}`,
      detail: `column "${column}" of table "${table}": ${bytes} bytes`,
    });
  },
  valueOutOfRange(table: string, column: string, type: string, value: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'numeric_value_out_of_range',
      message: `value ${value} is out of range for type ${type}`,
      detail: `column "${column}" of table "${table}"`,
    });
  },
  // ---- SQL face, accounts and administration (src/sql/, src/admin/) ----
  /** A SQL syntax error; `position` is "line L, column C" and `context` the source line with a caret. */
  syntaxError(what: string, position: string, context: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'syntax_error',
      message: `syntax error at ${position}: ${what}`,
      detail: `\n${context}`,
    });
  },
  undefinedDatabase(database: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'invalid_catalog_name',
      message: `database "${database}" does not exist`,
    });
  },
  duplicateDatabase(database: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'duplicate_database',
      message: `database "${database}" already exists`,
    });
  },
  /** An account or user that exists already (kind: 'account' | 'user'). */
  duplicateObject(kind: string, name: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'duplicate_object',
      message: `${kind} "${name}" already exists`,
    });
  },
  undefinedObject(kind: string, name: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'undefined_object',
      message: `${kind} "${name}" does not exist`,
    });
  },
  /** A login to an account or as a user that does not exist. */
  invalidLogin(account: string, user: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'invalid_authorization_specification',
      message: `login refused: account "${account}" has no user "${user}"`,
    });
  },
  /** A statement that may not run inside a transaction block (VACUUM, DDL). */
  notInTransactionBlock(statement: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_STATE',
      rc: 'RC_ERROR',
      sqlstate: 'active_sql_transaction',
      message: `${statement} cannot run inside a transaction block`,
    });
  },
  /** The WAL device is full: writes are refused until a probe finds space again (SQLSTATE 53100). */
  diskFullReadOnly(reason: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_RESOURCE_UNAVAILABLE',
      rc: 'RC_ERROR',
      sqlstate: 'disk_full',
      message: `the engine is read-only until disk space returns: ${reason}`,
    });
  },
  /** A durable transaction could not be applied in memory (a bug: every check runs before logging). */
  applyFailed(txId: number, cause: unknown): MotError {
    return new MotError({
      code: 'MOT_ERROR_INTERNAL',
      rc: 'RC_PANIC',
      sqlstate: 'internal_error',
      message: `internal error: transaction ${txId} was logged but applying it in memory failed (${describeCause(cause)}); its redo is in the WAL, and the engine refuses writes until it is reopened (recovery replays the log)`,
      cause,
    });
  },
  /** A DDL or catalog change refused because another change in flight uses the object (nothing waits). */
  objectInUse(what: string, by: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_RESOURCE_UNAVAILABLE',
      rc: 'RC_ERROR',
      sqlstate: 'object_in_use',
      message: `${what} is being used by ${by}; retry`,
    });
  },
  // ---- Data directories and files (src/engine.ts, src/cli/) ----
  /** Another engine (this process or another) has the directory open (PostgreSQL's postmaster.pid rule). */
  directoryInUse(what: string, dir: string, pid: number, thisProcess: boolean, lockFile: string): MotError {
    const by = thisProcess ? `this process (pid ${pid}), by an engine not closed yet` : `process ${pid}`;
    return new MotError({
      code: 'MOT_ERROR_RESOURCE_UNAVAILABLE',
      rc: 'RC_ERROR',
      sqlstate: 'object_in_use',
      message: `${what} "${dir}" is in use by ${by}`,
      detail: `lock file "${lockFile}"; one engine per data directory: close the other one first (a lock left by a process that has exited is taken over)`,
    });
  },
  /** A directory that must exist does not. */
  directoryMissing(what: string, dir: string, hint?: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'undefined_file',
      message: `${what} "${dir}" does not exist`,
      ...(hint ? { detail: hint } : {}),
    });
  },
  /** A path that must be a directory is a file. */
  notADirectory(what: string, path: string): MotError {
    return new MotError({
      code: 'MOT_ERROR_INVALID_ARG',
      rc: 'RC_ERROR',
      sqlstate: 'wrong_object_type',
      message: `${what} "${path}" is not a directory`,
    });
  },
  /** A file operation failed (permission denied, not found, ...); the SQLSTATE follows the errno. */
  fileAccess(operation: string, path: string, cause: unknown): MotError {
    const errno = (cause as { code?: string } | undefined)?.code;
    const condition = fileAccessCondition(errno);
    const why = condition === 'insufficient_privilege' ? 'permission denied' : errnoText(cause);
    return new MotError({
      code: 'MOT_ERROR_SYSTEM_FAILURE',
      rc: 'RC_ERROR',
      sqlstate: condition,
      message: `could not ${operation} "${path}": ${why}${errno ? ` (${errno})` : ''}`,
      cause,
    });
  },
  /** VACUUM could not take its exclusive table lock within its bound. */
  tableLockTimeout(table: string, statement: string, waitedMs: number): MotError {
    return new MotError({
      code: 'MOT_ERROR_RESOURCE_UNAVAILABLE',
      rc: 'RC_ERROR',
      sqlstate: 'lock_not_available',
      message: `${statement} could not lock table "${table}" exclusively: transactions were still open or committing after ${waitedMs} ms`,
    });
  },
};

/**
 * The SQLSTATE of a failed file operation, by errno, as PostgreSQL's errcode_for_file_access()
 * chooses it (src/backend/utils/error/elog.c).
 */
export function fileAccessCondition(errno: string | undefined): SqlStateName {
  switch (errno) {
    case 'EPERM':
    case 'EACCES':
    case 'EROFS':
      return 'insufficient_privilege';
    case 'ENOENT':
      return 'undefined_file';
    case 'EEXIST':
      return 'duplicate_file';
    case 'ENOTDIR':
    case 'EISDIR':
    case 'ENAMETOOLONG':
    case 'ELOOP':
      return 'wrong_object_type';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'disk_full';
    case 'EIO':
      return 'io_error';
    default:
      return 'system_error';
  }
}

/** An error from the file system (Node's or a Disk's): it has an errno `code` such as 'EACCES'. */
export function isFileSystemError(e: unknown): e is Error & { code: string; syscall?: string; path?: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && /^E[A-Z0-9]+$/.test((e as unknown as { code: string }).code);
}

/** "no such file or directory" from Node's "ENOENT: no such file or directory, open '/x'". */
function errnoText(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.replace(/^E[A-Z0-9]+: /, '').replace(/, [a-z_]+ '[^']*'( -> '[^']*')?$/, '').replace(/, [a-z_]+$/, '');
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: string }).code;
    return code && !cause.message.startsWith(`${code}:`) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}
