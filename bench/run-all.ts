// `npm run bench`: runs every benchmark script in dist/bench/ in its own process (so memory figures
// are not polluted by another benchmark), each printing its table and writing
// bench/results/<name>.json. The logging-mode benchmark itself is `npm start` / `motsim bench`.
// Run one: `npm run bench -- memory micro`.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const NOT_BENCHMARKS = new Set(['run-all', 'report']);
/** Node flags a benchmark needs. */
const FLAGS: Record<string, string[]> = { memory: ['--expose-gc'] };

const wanted = process.argv.slice(2);
const all = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .filter((name) => !NOT_BENCHMARKS.has(name))
  .sort();
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}\n`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : all;
let failed = 0;
for (const name of names) {
  process.stdout.write(`\n=== bench/${name} ===\n`);
  const r = spawnSync(process.execPath, [...(FLAGS[name] ?? []), join(here, `${name}.js`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`bench/${name} exited with ${r.status ?? r.signal}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
