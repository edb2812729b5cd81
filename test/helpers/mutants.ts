// Broken builds ("mutants") for showing that the oracle catches a class of bug by itself: a copy of
// the compiled build (dist/, bin/) with one deliberate defect spliced into its JavaScript, run in
// place of the real engine. The engine has no switch for any of them: a mutant is a different build.
// Each edit must match exactly once, so a mutant cannot silently stop applying when the code moves.

import fs from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Edit {
  /** File under dist/, e.g. 'src/transaction/transaction.js'. */
  file: string;
  find: string;
  replace: string;
}

export interface Mutant {
  name: string;
  edits: Edit[];
}

const ROOT = resolve(import.meta.dirname, '../..');
/** Under the project, so that the copies resolve the project's node_modules. */
const MUTANTS_DIR = join(ROOT, '.tmp', 'mutants');

/** Occurrences of `find` in the real build's file (a mutant's edits must each match once). */
export function occurrences(edit: Edit): number {
  const text = fs.readFileSync(join(ROOT, 'dist', edit.file), 'utf8');
  return text.split(edit.find).length - 1;
}

/** Build the mutant: copies dist/ and bin/ to .tmp/mutants/<slug>/ and applies the edits. Returns its root. */
export function buildMutant(m: Mutant): string {
  const root = join(MUTANTS_DIR, m.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  fs.cpSync(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  fs.cpSync(join(ROOT, 'bin'), join(root, 'bin'), { recursive: true });
  // dist's source maps name ../src: link it, so loading a mutant does not warn of missing sources.
  fs.symlinkSync(join(ROOT, 'src'), join(root, 'src'), 'dir');
  for (const e of m.edits) {
    const path = join(root, 'dist', e.file);
    const text = fs.readFileSync(path, 'utf8');
    const n = text.split(e.find).length - 1;
    if (n !== 1) throw new Error(`mutant "${m.name}": the edit of ${e.file} matches ${n} times, not once: ${JSON.stringify(e.find)}`);
    fs.writeFileSync(path, text.replace(e.find, e.replace));
  }
  return root;
}

/** The real build's root (dist/ and bin/ of the project). */
export const REAL_BUILD = ROOT;

/** Import a module of a build, e.g. importFrom(root, 'src/sim/crash-test.js'). */
export async function importFrom<T>(root: string, module: string): Promise<T> {
  return (await import(pathToFileURL(join(root, 'dist', module)).href)) as T;
}
