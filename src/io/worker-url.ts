// Where a worker thread's compiled script lives. Workers always run compiled JavaScript from dist/,
// also when the caller runs from TypeScript sources (vitest), so `npm test` builds first. Also the
// package's root and version (the CLI's --version), found the same way.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let root: string | undefined;
let distSrc: string | undefined;

/** file: URL of `dist/src/<relative>` (e.g. 'io/flush-worker.js'). */
export function workerUrl(relative: string): string {
  distSrc ??= join(packageRoot(), 'dist', 'src');
  const path = join(distSrc, relative);
  if (!existsSync(path)) {
    throw new Error(`worker script ${path} is missing: run \`npm run build\` first`);
  }
  return pathToFileURL(path).href;
}

/** The directory holding motsim's package.json (the checkout, or node_modules/motsim once installed). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return (root = dir);
    dir = dirname(dir);
  }
  throw new Error('cannot find the motsim package root (package.json) above ' + fileURLToPath(import.meta.url));
}

/** motsim's version, from its package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
