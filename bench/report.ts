// Shared output for bench/ scripts: an aligned two-column or multi-column table on stdout, and the
// same figures as JSON in bench/results/<name>.json (so runs can be compared by scripts).

import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function resultsDir(): string {
  // dist/bench/report.js -> <root>/bench/results
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return join(root, 'bench', 'results');
}

export function writeResult(name: string, result: unknown): string {
  const dir = resultsDir();
  fs.mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  fs.writeFileSync(path, JSON.stringify({ when: new Date().toISOString(), node: process.version, result }, null, 2) + '\n');
  process.stdout.write(`wrote ${path}\n`);
  return path;
}

export function printTable(title: string, rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  process.stdout.write(`\n${title}\n`);
  for (const r of rows) process.stdout.write(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + '\n');
}
