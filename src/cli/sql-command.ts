// `motsim sql DIR -c "..."` (or -f FILE): open the data directory, run a SQL script as one session,
// print each result psql-style, close. Stops at the first error: one line on stderr, exit status 1.
// A missing directory is refused unless --create is given (a mistyped path is not a new database).

import fs from 'node:fs';
import type { Command } from 'commander';
import { Engine } from '../engine.js';
import { parseSql } from '../sql/parser.js';
import { SqlRunner } from '../sql/executor.js';
import { formatResult } from '../sql/format.js';
import { Errors, isMotError } from '../errors.js';
import { EXIT, UsageError, oneLine } from './cli-errors.js';

export interface SqlCommandOptions {
  command?: string;
  file?: string;
  conf?: string;
  account?: string;
  user?: string;
  /** Create the data directory if it does not exist. */
  create?: boolean;
}

/** Hint given with a missing data directory by the commands that can create one. */
export const CREATE_HINT = 'pass --create to make a new data directory there';

export async function sqlCommand(
  dir: string,
  o: SqlCommandOptions,
  out: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  err: (s: string) => void = (s) => process.stderr.write(s + '\n'),
): Promise<number> {
  const text = sqlText(o);
  const engine = await openForCli(dir, o);
  try {
    const session = engine.openSession({ account: o.account, user: o.user });
    const runner = new SqlRunner(engine, session);
    try {
      for (const p of parseSql(text)) out(formatResult(await runner.run(p)));
    } catch (e) {
      if (!isMotError(e)) throw e;
      err(`motsim: ${oneLine(e)}`);
      return EXIT.runtimeError;
    }
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

/** The script from -c or -f (exactly one of them), read before the directory is opened. */
function sqlText(o: SqlCommandOptions): string {
  if (o.command !== undefined && o.file !== undefined) throw new UsageError('motsim sql', 'give the SQL with -c or with -f, not both');
  if (o.command !== undefined) return o.command;
  if (o.file === undefined) throw new UsageError('motsim sql', 'give the SQL with -c "..." or -f FILE');
  try {
    return fs.readFileSync(o.file, 'utf8');
  } catch (e) {
    throw Errors.fileAccess('read SQL file', o.file, e);
  }
}

/** Engine.open for sql and shell: --conf, and a missing directory refused unless --create. */
export async function openForCli(dir: string, o: { conf?: string; create?: boolean }): Promise<Engine> {
  try {
    return await Engine.open(dir, { create: o.create === true, ...(o.conf ? { confFile: o.conf } : {}) });
  } catch (e) {
    if (isMotError(e) && e.condition === 'undefined_file' && o.create !== true && e.message.startsWith('data directory')) {
      throw Errors.directoryMissing('data directory', dir, CREATE_HINT);
    }
    throw e;
  }
}

export function addSqlCommand(program: Command): void {
  program
    .command('sql')
    .description('Run a SQL script against a data directory (recovering it first) and print each result psql-style; stops at the first error.')
    .argument('<dir>', 'data directory (must exist unless --create; refused while another engine has it open)')
    .option('-c, --command <sql>', 'the SQL to run (several statements separated by ";")')
    .option('-f, --file <file>', 'read the SQL from this file')
    .option('--account <name>', 'log in to this account (default: sys)')
    .option('--user <name>', "log in as this user (default: the account's administrator)")
    .option('--conf <file>', 'mot.conf to use')
    .option('--create', 'create the data directory if it does not exist (otherwise a missing directory is an error)')
    .action(async (dir: string, o: SqlCommandOptions) => {
      const status = await sqlCommand(dir, o);
      if (status !== 0) process.exitCode = status;
    });
}
