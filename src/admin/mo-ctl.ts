// mo_ctl control functions (MatrixOne's names and result shapes). Only flush_table exists so far;
// increment_checkpoint and global_checkpoint come with checkpoints. Every call needs the `sys` account.

import type { Engine } from '../engine.js';
import { Errors } from '../errors.js';
import { AccountCatalog, type Login } from './accounts.js';

/** The result of a control call, exactly as MatrixOne prints it. */
export interface MoCtlResult {
  method: string;
  result: { returnStr: string }[];
}

export type MoCtlCall = { name: 'flush_table'; database: string; table: string };

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
  const shown = args.map((x) => `'${x}'`).join(', ');
  throw Errors.notSupported(`mo_ctl(${shown}): the only control call so far is flush_table (mo_ctl('dn', 'flush', 'db.table') or mo_ctl('flush_table', 'db', 'table'))`);
}
