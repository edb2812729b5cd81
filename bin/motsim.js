#!/usr/bin/env node
// motsim command-line entry: runs the compiled CLI (npm run build compiles src/ into dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('motsim is not built yet: run `npm run build` (or `npm ci`, then `npm start`).\n');
  process.exit(2);
}
// A reader that went away (`motsim waldump DIR | head`) ends the output quietly, not with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv);
