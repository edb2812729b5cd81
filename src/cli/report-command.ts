// `motsim report`: gather the report's data (src/report/) and write one self-contained HTML file.
// Also called at the end of `motsim bench`, which passes its own results for charts 1-2.

import fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { BenchSuiteResult } from '../bench/bench-suite.js';
import { Errors } from '../errors.js';
import { int } from './cli-options.js';
import { buildReportData } from '../report/build-report.js';
import { renderReportHtml } from '../report/report-html.js';

export const REPORT_FILE_DEFAULT = 'motsim-report.html';

export interface WriteReportOptions {
  out?: string;
  quick?: boolean;
  fromJson?: string;
  bench?: BenchSuiteResult;
  seed?: number;
  /** Print stages on stderr (default true). */
  progress?: boolean;
}

/** Build the report and write it; returns the absolute path written. */
export async function writeReport(o: WriteReportOptions): Promise<string> {
  const out = resolve(o.out ?? REPORT_FILE_DEFAULT);
  if (!fs.existsSync(dirname(out))) throw Errors.invalidArgument('--out', `the directory of "${out}" does not exist`);
  if (o.fromJson !== undefined) {
    try {
      fs.accessSync(o.fromJson, fs.constants.R_OK); // before minutes of work, not after
    } catch (e) {
      throw Errors.fileAccess('read --from-json file', o.fromJson, e);
    }
  }
  const progress = o.progress ?? true;
  const data = await buildReportData({
    bench: o.bench,
    fromJson: o.fromJson,
    quick: o.quick,
    seed: o.seed,
    onStage: progress ? (s) => process.stderr.write(`report: ${s} ...\n`) : undefined,
  });
  try {
    fs.writeFileSync(out, renderReportHtml(data));
  } catch (e) {
    throw Errors.invalidArgument('--out', `cannot write the report to "${out}": ${(e as Error).message}`);
  }
  return out;
}

export function addReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'Write one self-contained HTML report (Chart.js and the data inlined; opens offline): throughput and latency per mode against the disk ceiling, ' +
        'latency distributions, a group-commit timeline per socket, a simulated crash per mode, a group size x timeout sweep, and recovery time against checkpoint interval and WAL length.',
    )
    .option('--out <file>', 'the HTML file to write', REPORT_FILE_DEFAULT)
    .option('--quick', 'short runs everywhere (seconds; rough figures): for tests and a first look')
    .option('--from-json <file>', 'take charts 1-2 from a file written by `motsim bench --json` instead of running the benchmark now')
    .option('--seed <n>', 'seed of the simulated parts', int('--seed', 0, 2 ** 31))
    .action(async (o: { out: string; quick?: boolean; fromJson?: string; seed?: number }) => {
      const path = await writeReport({ out: o.out, quick: o.quick === true, fromJson: o.fromJson, seed: o.seed });
      process.stdout.write(`wrote report: ${path}\n`);
    });
}
