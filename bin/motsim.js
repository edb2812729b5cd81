#!/usr/bin/env node
// motsim command-line entry: runs the compiled CLI (npm run build compiles src/ into dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('motsim is not built yet: run `npm run build` (or `npm ci`, then `npm start`).\n');
  process.exit(2);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv);
