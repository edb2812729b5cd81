// `motsim sql DIR -c "..."` (or -f FILE): open the data directory, run a SQL script as one session,
// print each result psql-style, close. Stops at the first error (non-zero exit).

import fs from 'node:fs';
import type { Command } from 'commander';
import { Engine } from '../engine.js';
import { parseSql } from '../sql/parser.js';
import { SqlRunner } from '../sql/executor.js';
import { formatError, formatResult } from '../sql/format.js';
import { isMotError } from '../errors.js';

export interface SqlCommandOptions {
  command?: string;
  file?: string;
  conf?: string;
  account?: string;
  user?: string;
}

export async function sqlCommand(dir: string, o: SqlCommandOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const text = o.command ?? (o.file !== undefined ? fs.readFileSync(o.file, 'utf8') : undefined);
  if (text === undefined) throw new Error('give the SQL with -c "..." or -f FILE');
  const engine = await Engine.open(dir, o.conf ? { confFile: o.conf } : {});
  try {
    const session = engine.openSession({ account: o.account, user: o.user });
    const runner = new SqlRunner(engine, session);
    try {
      for (const p of parseSql(text)) out(formatResult(await runner.run(p)));
    } catch (e) {
      if (!isMotError(e)) throw e;
      out(formatError(e));
      return 1;
    }
    return 0;
  } finally {
    await engine.close();
  }
}

export function addSqlCommand(program: Command): void {
  program
    .command('sql')
    .description('Run a SQL script against a data directory (recovering it first) and print each result psql-style; stops at the first error.')
    .argument('<dir>', 'data directory')
    .option('-c, --command <sql>', 'the SQL to run (several statements separated by ";")')
    .option('-f, --file <file>', 'read the SQL from this file')
    .option('--account <name>', 'log in to this account (default: sys)')
    .option('--user <name>', "log in as this user (default: the account's administrator)")
    .option('--conf <file>', 'mot.conf to use')
    .action(async (dir: string, o: SqlCommandOptions) => {
      const status = await sqlCommand(dir, o);
      if (status !== 0) process.exitCode = status;
    });
}
