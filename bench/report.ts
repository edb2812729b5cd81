// Shared by the bench/ scripts: the smoke switch, an aligned table on stdout, the same figures as JSON
// in bench/results/<name>.json (so runs can be compared by scripts), and `runBench`, which turns any
// failure into one line on stderr and exit status 1. A smoke run never writes over real results.

import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMotError } from '../src/errors.js';

/**
 * Smoke mode: `--smoke` on a script's command line (run-all passes it on). Every size a script uses
 * (rows, repeats, durations, scenario counts, tinybench time) is cut down so the script runs each of
 * its sections in seconds; the figures mean nothing. CI runs it so that a benchmark cannot rot.
 */
export const SMOKE: boolean = process.argv.slice(2).includes('--smoke');

export const SMOKE_NOTICE = 'SMOKE RUN: sizes cut down to check that this script still works; its figures mean nothing';

/** `full` normally, `smoke` in smoke mode: every size a script uses goes through this. */
export function sized<T>(full: T, smoke: T): T {
  return SMOKE ? smoke : full;
}

/** The script's own command-line arguments, without `--smoke`. */
export function scriptArgs(): string[] {
  return process.argv.slice(2).filter((a) => a !== '--smoke');
}

export function resultsDir(): string {
  // dist/bench/report.js -> <root>/bench/results
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return join(root, 'bench', 'results');
}

/** Writes bench/results/<name>.json (bench/results/smoke/<name>.json in smoke mode); refuses a NaN figure. */
export function writeResult(name: string, result: unknown): string {
  const nan = findNaN(result, name);
  if (nan !== undefined) throw new Error(`${nan} is NaN: a figure was never measured, so the results would be garbage`);
  const dir = SMOKE ? join(resultsDir(), 'smoke') : resultsDir();
  fs.mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  const body = SMOKE ? { when: new Date().toISOString(), node: process.version, smoke: true, result } : { when: new Date().toISOString(), node: process.version, result };
  fs.writeFileSync(path, JSON.stringify(body, null, 2) + '\n');
  process.stdout.write(`wrote ${path}\n`);
  return path;
}

/** The path (`name.a.b[2]`) of the first NaN inside `value`, if any. Bounded by the value's size. */
function findNaN(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findNaN(v, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = findNaN(v, `${path}.${k}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export function printTable(title: string, rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  process.stdout.write(`\n${SMOKE ? '[smoke] ' : ''}${title}\n`);
  for (const r of rows) process.stdout.write(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + '\n');
}

/**
 * Runs a script's `main`: in smoke mode it first says so; any failure (a rejection of `main`, an
 * unhandled rejection or an uncaught exception anywhere, or the process running out of work while
 * `main` still waits on a promise nothing will settle) prints `bench/<name>: FAILED: <reason>` on one
 * line (the stack too with MOTSIM_DEBUG=1) and exits with status 1, so run-all and CI see it instead
 * of a table of garbage.
 */
export function runBench(name: string, main: () => Promise<void>): void {
  const fail = (e: unknown): void => {
    const debug = process.env.MOTSIM_DEBUG !== undefined && process.env.MOTSIM_DEBUG !== '' && process.env.MOTSIM_DEBUG !== '0';
    process.stderr.write(`bench/${name}: FAILED: ${oneLine(e)}${debug ? '' : ' (MOTSIM_DEBUG=1 prints the stack trace)'}\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  };
  let finished = false;
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // `main` is not a top-level await (whose hang Node reports as exit 13), so a hang must be caught here.
  process.on('exit', (code) => {
    if (finished || code !== 0) return;
    process.stderr.write(`bench/${name}: FAILED: the process ran out of work before the benchmark finished (a promise nothing settles)\n`);
    process.exitCode = 1;
  });
  if (SMOKE) process.stdout.write(`${SMOKE_NOTICE}\n`);
  main().then(() => {
    finished = true;
  }, fail);
}

function oneLine(e: unknown): string {
  let text: string;
  if (isMotError(e)) text = `ERROR ${e.sqlstate} (${e.rc}, ${e.code}): ${e.message}`;
  else if (e instanceof Error) text = `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`;
  else text = String(e);
  return text.replace(/\s*\n\s*/g, ' | ');
}
