// `npm run bench [-- [--smoke] [name ...]]`: runs every benchmark script in dist/bench/ (or the ones
// named, e.g. `npm run bench -- memory micro`), each in its own process so memory figures are not
// polluted by another benchmark; each prints its table and writes bench/results/<name>.json.
// `--smoke` is passed on to every script: each runs all its sections at sizes cut down to seconds,
// writes bench/results/smoke/<name>.json instead (never over real results), and says its figures mean
// nothing. CI runs `run-all --smoke` (test/bench-smoke.test.ts), so a benchmark that stops working
// fails the build. Exit status: 0 every script ran, 1 one or more failed (each named), 2 usage error
// (an unknown option or benchmark name). The logging-mode benchmark itself is `npm start` / `motsim bench`.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const NOT_BENCHMARKS = new Set(['run-all', 'report']);
/** Node flags a benchmark needs. */
const FLAGS: Record<string, string[]> = { memory: ['--expose-gc'] };
const USAGE = 'usage: npm run bench -- [--smoke] [name ...]';

const all = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .filter((name) => !NOT_BENCHMARKS.has(name))
  .sort();

function usageError(reason: string): never {
  process.stderr.write(`run-all: ${reason}; ${USAGE} (benchmarks: ${all.join(', ')})\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${USAGE}\nbenchmarks: ${all.join(', ')}\n--smoke: every size cut down to check that each script still runs; results go to bench/results/smoke/\n`);
  process.exit(0);
}
const smoke = args.includes('--smoke');
const options = args.filter((a) => a.startsWith('-'));
const unknownOptions = options.filter((a) => a !== '--smoke');
if (unknownOptions.length > 0) usageError(`unknown option(s): ${unknownOptions.join(', ')}`);
const wanted = args.filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) usageError(`unknown benchmark(s): ${unknown.join(', ')}`);

const names = wanted.length > 0 ? [...new Set(wanted)] : all;
if (smoke) process.stdout.write(`smoke run of ${names.join(', ')}: sizes cut down to check that each script still works; the figures mean nothing\n`);
const failed: string[] = [];
for (const name of names) {
  process.stdout.write(`\n=== bench/${name} ===\n`);
  const r = spawnSync(process.execPath, [...(FLAGS[name] ?? []), join(here, `${name}.js`), ...(smoke ? ['--smoke'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) {
    const how = r.error ? `could not start: ${r.error.message}` : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    failed.push(`${name} (${how})`);
    process.stderr.write(`run-all: bench/${name} FAILED (${how})\n`);
  }
}
if (failed.length > 0) {
  process.stderr.write(`run-all: ${failed.length} of ${names.length} benchmark(s) failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
process.stdout.write(`\nrun-all: ${names.length} benchmark(s) ran${smoke ? ' (smoke)' : ''}: ${names.join(', ')}\n`);
