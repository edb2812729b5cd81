// `motsim shell DIR`: an interactive SQL shell (node:readline, with history kept in DIR/.motsim_history)
// over one session. A statement runs when a line ends with ';'. Backslash commands: \q quits, \dt
// lists tables, \l databases, \? helps. Errors print psql-style and the shell goes on.

import readline from 'node:readline';
import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { openForCli } from './sql-command.js';
import { parseSql } from '../sql/parser.js';
import { SqlRunner } from '../sql/executor.js';
import { formatError, formatResult } from '../sql/format.js';
import { isMotError } from '../errors.js';

/** Lines of history kept between runs. */
export const SHELL_HISTORY_LINES_MAX = 1000;
/** Characters a statement may grow to across lines before the shell discards it. */
export const SHELL_STATEMENT_CHARS_MAX = 1_000_000;

export const SHELL_HELP = [
  'General',
  '  \\q            quit',
  '  \\?            this help',
  'Informational',
  '  \\dt           list tables of the current database (SHOW TABLES)',
  '  \\l            list databases (SHOW DATABASES)',
  '  \\d TABLE      columns and indexes of a table (SHOW COLUMNS FROM t; SHOW INDEXES FROM t)',
  'SQL (end each statement with ";")',
  '  CREATE TABLE t (id bigint PRIMARY KEY, name varchar(32) NOT NULL, ...); DROP TABLE t;',
  '  CREATE [UNIQUE] INDEX i ON t (name, ...); DROP INDEX [IF EXISTS] i [ON t];',
  '  INSERT INTO t VALUES (...), (...); UPDATE t SET c = v WHERE id = 1; DELETE FROM t WHERE id = 1;',
  '  SELECT * FROM t [WHERE id BETWEEN 1 AND 9] [ORDER BY id] [LIMIT n]; BEGIN; COMMIT; ROLLBACK;',
  '  VACUUM [FULL | ANALYZE] [t]; CREATE DATABASE d; USE d; CREATE ACCOUNT a ADMIN_NAME \'admin\';',
  "  SELECT * FROM mot_global_memory_detail(); SELECT pg_relation_size('t'); SELECT mo_ctl('dn', 'flush', 'db.t');",
].join('\n');

export interface ShellOptions {
  conf?: string;
  account?: string;
  user?: string;
  create?: boolean;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export async function shellCommand(dir: string, o: ShellOptions): Promise<void> {
  const output = o.output ?? process.stdout;
  const print = (s: string): void => void output.write(s + '\n');
  const engine = await openForCli(dir, o);
  const historyFile = path.join(dir, '.motsim_history');
  const history = readHistory(historyFile);
  const rl = readline.createInterface({ input: o.input ?? process.stdin, output, terminal: (o.input ?? process.stdin) === process.stdin && process.stdin.isTTY, history, historySize: SHELL_HISTORY_LINES_MAX });
  try {
    const session = engine.openSession({ account: o.account, user: o.user });
    const runner = new SqlRunner(engine, session);
    print(`motsim shell on ${dir} as account "${runner.account}" (${engine.mode} logging). Type \\? for help, \\q to quit.`);
    let pending = '';
    const prompt = (): void => {
      const db = runner.database ?? '';
      rl.setPrompt(pending ? `${db}-> ` : runner.inTransactionBlock ? `${db}*=> ` : `${db}=> `);
      rl.prompt();
    };
    prompt();
    for await (const line of rl) {
      const trimmed = line.trim();
      if (pending === '' && trimmed.startsWith('\\')) {
        if (trimmed === '\\q') break;
        await backslash(trimmed, runner, print);
        prompt();
        continue;
      }
      pending = pending ? `${pending}\n${line}` : line;
      if (pending.length > SHELL_STATEMENT_CHARS_MAX) {
        print(`ERROR:  statement longer than ${SHELL_STATEMENT_CHARS_MAX} characters; discarded`);
        pending = '';
      } else if (trimmed.endsWith(';')) {
        await runText(pending, runner, print);
        pending = '';
      }
      prompt();
    }
    if (pending.trim() !== '') await runText(pending, runner, print);
  } finally {
    writeHistory(historyFile, (rl as unknown as { history?: string[] }).history ?? []);
    rl.close();
    await engine.close();
  }
}

async function backslash(cmd: string, runner: SqlRunner, print: (s: string) => void): Promise<void> {
  if (cmd === '\\?') return print(SHELL_HELP);
  if (cmd === '\\dt') return runText('SHOW TABLES;', runner, print);
  if (cmd === '\\l') return runText('SHOW DATABASES;', runner, print);
  // Only a plain (optionally database-qualified) name goes into the SQL: nothing else can ride along.
  const describe = /^\\d\s+([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)$/.exec(cmd);
  if (describe !== null) return runText(`SHOW COLUMNS FROM ${describe[1]}; SHOW INDEXES FROM ${describe[1]};`, runner, print);
  print(`invalid command ${cmd}\nTry \\? for help.`);
}

async function runText(text: string, runner: SqlRunner, print: (s: string) => void): Promise<void> {
  try {
    for (const p of parseSql(text)) print(formatResult(await runner.run(p)));
  } catch (e) {
    if (!isMotError(e)) throw e;
    print(formatError(e));
  }
}

function readHistory(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).slice(0, SHELL_HISTORY_LINES_MAX);
  } catch {
    return [];
  }
}

function writeHistory(file: string, lines: string[]): void {
  try {
    fs.writeFileSync(file, lines.slice(0, SHELL_HISTORY_LINES_MAX).join('\n') + '\n');
  } catch {
    // history is a convenience: a read-only directory must not fail the shell
  }
}

export function addShellCommand(program: Command): void {
  program
    .command('shell')
    .description('An interactive SQL shell on a data directory (recovering it first): psql-style output, history, \\q to quit, \\dt tables, \\? help.')
    .argument('<dir>', 'data directory (must exist unless --create; refused while another engine has it open)')
    .option('--account <name>', 'log in to this account (default: sys)')
    .option('--user <name>', "log in as this user (default: the account's administrator)")
    .option('--conf <file>', 'mot.conf to use')
    .option('--create', 'create the data directory if it does not exist (otherwise a missing directory is an error)')
    .action(async (dir: string, o: ShellOptions) => {
      await shellCommand(dir, o);
    });
}
