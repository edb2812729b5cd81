// Where a worker thread's compiled script lives. Workers always run compiled JavaScript from dist/,
// also when the caller runs from TypeScript sources (vitest), so `npm test` builds first.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let distSrc: string | undefined;

/** file: URL of `dist/src/<relative>` (e.g. 'io/flush-worker.js'). */
export function workerUrl(relative: string): string {
  distSrc ??= findDistSrc();
  const path = join(distSrc, relative);
  if (!existsSync(path)) {
    throw new Error(`worker script ${path} is missing: run \`npm run build\` first`);
  }
  return pathToFileURL(path).href;
}

function findDistSrc(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'src');
    dir = dirname(dir);
  }
  throw new Error('cannot find the motsim package root (package.json) above ' + fileURLToPath(import.meta.url));
}
