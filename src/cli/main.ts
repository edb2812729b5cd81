// The motsim command line: one subcommand per job, each with --help. Errors print as one line with
// the SQLSTATE and MOT code; exit statuses 1 (runtime), 2 (usage), 3 (lost data found): cli-errors.ts.

import { Command, CommanderError, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import { benchJson, formatBenchTable, runBenchSuite } from '../bench/bench-suite.js';
import { DataCheckFailed, EXIT, EXIT_CODES_HELP, UsageError, reportCliError } from './cli-errors.js';
import { recoverCommand } from './recover-command.js';
import { addShellCommand } from './shell-command.js';
import { addSqlCommand } from './sql-command.js';
import { addMoCtlCommand } from './mo-ctl-command.js';
import { checkpointCommand } from './checkpoint-command.js';
import { addCrashTestCommand } from './crash-test-command.js';
import { addSimulateCommand } from './simulate-command.js';
import { walDumpCommand } from './waldump-command.js';
import { addReportCommand, REPORT_FILE_DEFAULT, writeReport } from './report-command.js';
import { inspectCommand } from './inspect-command.js';
import { addWorkloadOptions, int, workloadOptionsFrom } from './cli-options.js';
import { packageVersion } from '../io/worker-url.js';

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  const args = argv.slice(2);
  const commandOf = (): string => commandLineOf(program, args);
  try {
    checkCommandName(program, args);
    await program.parseAsync(argv);
    // A command may set it: sql (1 after a SQL error). Data checks that fail throw DataCheckFailed (3).
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    // --help, `motsim help [command]`: the help went to stdout as asked.
    if (e instanceof CommanderError && ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(e.code)) return EXIT.ok;
    return reportCliError(e, commandOf);
  }
}

/**
 * An unknown command is a usage error even with --help after it (commander would print the root
 * help and exit 0), and so is no command at all.
 */
function checkCommandName(program: Command, args: string[]): void {
  const first = args[0];
  if (first === undefined) throw new UsageError('motsim', 'no command given');
  if (first.startsWith('-')) return; // --help, --version: commander's
  const known = (name: string): boolean => program.commands.some((c) => c.name() === name || c.aliases().includes(name));
  const named = first === 'help' ? args[1] : first;
  if (named !== undefined && !named.startsWith('-') && !known(named)) {
    const names = program.commands.map((c) => c.name()).join(', ');
    throw new UsageError('motsim', `unknown command "${named}" (commands: ${names})`);
  }
}

/** "motsim sql" when the command line names a known command, else "motsim": where --help will help. */
function commandLineOf(program: Command, args: string[]): string {
  const name = args.find((a) => !a.startsWith('-'));
  return name !== undefined && program.commands.some((c) => c.name() === name) ? `motsim ${name}` : 'motsim';
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('motsim')
    .description('A simulator of the durability machinery of MOT (openGauss memory-optimized tables): redo logging modes, group commit, recovery.')
    .version(packageVersion(), '-V, --version', "print motsim's version")
    .exitOverride()
    // Errors are printed by runCli, as one line with a hint (not the whole help).
    .configureOutput({ outputError: () => undefined })
    .addHelpText('afterAll', EXIT_CODES_HELP);

  addWorkloadOptions(
    program
      .command('bench')
    .description("Benchmark the logging modes on this machine's disk: measures the disk's fdatasync ceiling, then runs each mode on the default workloads and prints commits/s, latency percentiles, flushes, group sizes and WAL bytes per commit.")
    .option('--duration-ms <ms>', 'duration of each run in milliseconds', int('--duration-ms', 100, 3_600_000), 3000)
    .option('--sockets <n>', 'simulated NUMA sockets (sessions are spread equally over them)', int('--sockets', 1, 64), 2)
    .option('--flusher <kind>', 'wal_flusher: auto, committer (the committing thread flushes), thread-pool (libuv), socket-threads (a pinned piscina worker per socket)', (v: string) => {
      if (!['auto', 'committer', 'thread-pool', 'socket-threads'].includes(v)) throw new InvalidArgumentError('--flusher must be auto, committer, thread-pool or socket-threads');
      return v;
    }, 'auto')
    .option('--ceiling-ms <ms>', 'how long to measure the disk ceiling', int('--ceiling-ms', 100, 600_000), 2000)
    .option('--dir <path>', 'directory to run in (default: a new temporary directory, removed afterwards)')
      .option('--seed <n>', 'seed for the workload', int('--seed', 0, 2 ** 31), 1),
  )
    .option('--report <file>', 'at the end, write the HTML report (these results + quick simulated parts) to this file', REPORT_FILE_DEFAULT)
    .option('--no-report', 'do not write the HTML report')
    .action(async (o) => {
      const result = await runBenchSuite({
        ...workloadOptionsFrom(o),
        durationMs: o.durationMs,
        sockets: o.sockets,
        flusher: o.flusher,
        dir: o.dir,
        seed: o.seed,
        ceilingMs: o.ceilingMs,
        progress: true,
      });
      process.stdout.write(formatBenchTable(result) + '\n');
      if (o.json) {
        fs.writeFileSync(o.json, JSON.stringify(benchJson(result), null, 2) + '\n');
        process.stdout.write(`\nwrote ${o.json}\n`);
      }
      if (o.report !== false) {
        const path = await writeReport({ out: o.report, bench: result }); // the simulated parts and recovery timing take ~10 s
        process.stdout.write(`\nwrote report: ${path} (open it in a browser)\n`);
      }
      if (result.runs.some((r) => r.verify && !r.verify.ok)) {
        throw new DataCheckFailed('an acknowledged commit was lost: see the "verified" column');
      }
    });

  program
    .command('waldump')
    .description('Print the redo entries of a data directory\'s WAL (read-only, like pg_waldump): LSN, length, transaction, CSN, operation, table, key, changed columns.')
    .argument('<dir>', 'data directory (must exist; read without taking its lock, so an engine may have it open)')
    .option('--conf <file>', 'mot.conf (for wal_segment_size; otherwise read from the segment files)')
    .option('--tx <id>', 'only this transaction', int('--tx', 0, Number.MAX_SAFE_INTEGER))
    .option('--table <name|id>', 'only this table')
    .option('--from-lsn <lsn>', 'only records at or after this LSN', int('--from-lsn', 0, Number.MAX_SAFE_INTEGER))
    .option('--to-lsn <lsn>', 'only records at or before this LSN', int('--to-lsn', 0, Number.MAX_SAFE_INTEGER))
    .option('--stats', 'summarise by operation instead of listing records')
    .option('--json', 'print JSON')
    .action(async (dir: string, o) => {
      await walDumpCommand(dir, o);
    });

  program
    .command('recover')
    .description('Open a data directory as a cold start would (replaying the WAL) and print what recovery did.')
    .argument('<dir>', 'data directory (must exist; refused while another engine has it open)')
    .option('--conf <file>', 'mot.conf to use')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, o) => {
      await recoverCommand(dir, o);
    });

  program
    .command('checkpoint')
    .description('Open a data directory (recovering it), take a checkpoint without stopping commits, print what it wrote (rows, segments, MB, the RESOLVE pause) and what it removed (older checkpoints, WAL below its LSN).')
    .argument('<dir>', 'data directory (must exist; refused while another engine has it open)')
    .option('--conf <file>', 'mot.conf to use (checkpoint_dir, checkpoint_segsize, checkpoint_workers...)')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, o) => {
      await checkpointCommand(dir, o);
    });

  program
    .command('inspect')
    .description('Describe a data directory without changing it: control file (checkpoint id, LSN, CSN), checkpoints (complete or not), WAL segments and size, and what recovery would do.')
    .argument('<dir>', 'data directory (must exist; read without taking its lock, so an engine may have it open)')
    .option('--conf <file>', 'mot.conf (for checkpoint_dir and wal_segment_size)')
    .option('--json', 'print JSON')
    .action(async (dir: string, o) => {
      await inspectCommand(dir, o);
    });

  addReportCommand(program);
  addCrashTestCommand(program);
  addSimulateCommand(program);
  addShellCommand(program);
  addSqlCommand(program);
  addMoCtlCommand(program);
  return program;
}
