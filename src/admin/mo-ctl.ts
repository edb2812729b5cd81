// mo_ctl control functions (MatrixOne's names and result shapes): flush_table, increment_checkpoint
// (an incremental checkpoint chained to the last full one) and global_checkpoint (a full checkpoint
// across every socket). Every call needs the `sys` account; others get 42501 naming their account.

import type { Engine } from '../engine.js';
import { Errors } from '../errors.js';
import { AccountCatalog, type Login } from './accounts.js';

/** The result of a control call, exactly as MatrixOne prints it. */
export interface MoCtlResult {
  method: string;
  result: { returnStr: string }[];
}

export type MoCtlCall = { name: 'flush_table'; database: string; table: string } | { name: 'increment_checkpoint' } | { name: 'global_checkpoint' };

/** The call named on the command line (`motsim mo-ctl DIR CALL ARGS...`). */
export function moCtlCallFromCli(call: string, args: readonly string[]): MoCtlCall {
  if (call === 'flush_table' && args.length === 2) return { name: 'flush_table', database: args[0]!, table: args[1]! };
  if ((call === 'increment_checkpoint' || call === 'global_checkpoint') && args.length === 0) return { name: call };
  throw Errors.invalidArgument('mo-ctl call', `expected "flush_table DATABASE TABLE", "increment_checkpoint" or "global_checkpoint", got "${[call, ...args].join(' ')}"`);
}

/**
 * Run a control call as `caller`. flush_table returns once every commit acknowledged so far,
 * including those on that table, is durable (also in asynchronous mode).
 */
export async function moCtl(engine: Engine, caller: Login, call: MoCtlCall): Promise<MoCtlResult> {
  engine.accounts.requireSys(caller, `mo_ctl ${call.name}`);
  switch (call.name) {
    case 'flush_table': {
      engine.accounts.checkDatabaseAccess(caller, call.database);
      const internal = AccountCatalog.internalTableName(call.database, call.table);
      if (!engine.catalog.find(internal)) throw Errors.tableNotFound(`${call.database}.${call.table}`);
      await engine.flush();
      return { method: 'Flush', result: [{ returnStr: 'OK' }] };
    }
    case 'increment_checkpoint':
      await engine.incrementCheckpoint();
      return { method: 'Checkpoint', result: [{ returnStr: 'OK' }] };
    case 'global_checkpoint':
      await engine.checkpoint();
      return { method: 'GlobalCheckpoint', result: [{ returnStr: 'OK' }] };
  }
}

/**
 * The call named by SQL arguments, in MatrixOne's form `mo_ctl('dn', 'flush', 'db.table')` or in
 * motsim's `mo_ctl('flush_table', 'db', 'table')`.
 */
export function moCtlCallFromArgs(args: readonly string[]): MoCtlCall {
  const [a, b, c] = args;
  if (args.length === 3 && a?.toLowerCase() === 'dn' && b?.toLowerCase() === 'flush') {
    const dot = c!.indexOf('.');
    if (dot <= 0 || dot === c!.length - 1) throw Errors.invalidArgument("mo_ctl('dn', 'flush', ...) argument", `"${c}" is not "database.table"`);
    return { name: 'flush_table', database: c!.slice(0, dot), table: c!.slice(dot + 1) };
  }
  if (args.length === 3 && a?.toLowerCase() === 'flush_table') return { name: 'flush_table', database: b!, table: c! };
  // MatrixOne: mo_ctl('dn', 'checkpoint', '') and mo_ctl('dn', 'globalcheckpoint', '').
  const dnCall = a?.toLowerCase() === 'dn' && (args.length === 2 || (args.length === 3 && c === '')) ? b?.toLowerCase() : undefined;
  if (dnCall === 'checkpoint' || (args.length === 1 && a?.toLowerCase() === 'increment_checkpoint')) return { name: 'increment_checkpoint' };
  if (dnCall === 'globalcheckpoint' || (args.length === 1 && a?.toLowerCase() === 'global_checkpoint')) return { name: 'global_checkpoint' };
  const shown = args.map((x) => `'${x}'`).join(', ');
  throw Errors.notSupported(
    `mo_ctl(${shown}): the control calls are flush_table (mo_ctl('dn', 'flush', 'db.table')), increment_checkpoint (mo_ctl('dn', 'checkpoint', '')) and global_checkpoint (mo_ctl('dn', 'globalcheckpoint', ''))`,
  );
}
