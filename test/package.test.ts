// The package installs: `npm pack` in a clean copy of the checkout (what git tracks, nothing built)
// makes a tarball that a scratch project installs, imports with strict types, runs, and whose
// `npx motsim --version` answers. A tarball without dist/ (no prepack), a missing file in `files`,
// a type that does not resolve for a consumer or a runtime dependency left in devDependencies fails
// here, not in a user's project.

import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** What a fresh clone holds: the files git tracks, and the untracked ones it does not ignore. */
function cleanCopy(to: string): void {
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT).split('\0').filter((f) => f !== '');
  for (const f of files) {
    const from = path.join(ROOT, f);
    // Deleted in the working tree (not yet committed), or a link (a node_modules link in a worktree).
    if (!fs.existsSync(from) || !fs.lstatSync(from).isFile()) continue;
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    fs.copyFileSync(from, path.join(to, f));
  }
  // The toolchain prepack needs (tsc), as `npm ci` would install it.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(to, 'node_modules'), 'dir');
}

const CONSUMER = `import { Engine, isMotError, SqlState, type CommitResult, type TableDef } from 'motsim';
import { scenarioArbitrary, crashRecoveryProperty } from 'motsim/fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const table: TableDef = {
  name: 't',
  columns: [{ name: 'k', type: 'int32' }, { name: 'v', type: 'varchar', size: 8, nullable: true }],
  primaryKey: ['k'],
};
const dir = mkdtempSync(join(tmpdir(), 'motsim-consumer-'));
try {
  const engine = await Engine.open(join(dir, 'db'), { config: { synchronous_commit: true } });
  await engine.createTable(table);
  const s = engine.openSession();
  const r: { commit: CommitResult } = await s.transaction((tx) => tx.insert('t', { k: 1, v: 'one' }));
  let refused = '';
  try {
    await s.transaction((tx) => tx.insert('t', { k: 1 }));
  } catch (e) {
    if (isMotError(e)) refused = e.sqlstate;
  }
  await engine.close();
  const again = await Engine.open(join(dir, 'db'));
  const row = await again.openSession().transaction((tx) => tx.get('t', 1));
  await again.close();
  const fastCheck = typeof scenarioArbitrary === 'function' && typeof crashRecoveryProperty === 'function';
  console.log(JSON.stringify({ csn: r.commit.csn, refused, unique: SqlState.unique_violation, row: row.value, fastCheck }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
`;

describe('the package installs', () => {
  it('npm pack in a clean copy makes a tarball a scratch project installs, imports with strict types and runs; npx motsim --version answers', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'motsim-pack-'));
    try {
      const clone = path.join(work, 'clone');
      cleanCopy(clone);
      expect(fs.existsSync(path.join(clone, 'dist')), 'the copy starts unbuilt').toBe(false);
      const packed = JSON.parse(run(NPM, ['pack', '--json', '--pack-destination', work], clone)) as { filename: string; files: { path: string }[] }[];
      const files = packed[0]!.files.map((f) => f.path);
      expect(files).toContain('dist/src/index.js');
      expect(files).toContain('dist/src/index.d.ts');
      expect(files).toContain('bin/motsim.js');
      expect(files.filter((f) => f.startsWith('test/') || f.startsWith('.ci/') || f.startsWith('src/') || f.startsWith('bench/')), 'only what users need').toEqual([]);

      const scratch = path.join(work, 'scratch');
      fs.mkdirSync(scratch);
      fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', type: 'module', private: true }));
      const nodeTypes = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string };
      // --prefer-offline: `npm ci` filled the cache with every dependency; the registry only if it did not.
      run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, packed[0]!.filename), `@types/node@${nodeTypes.version}`], scratch);

      fs.writeFileSync(path.join(scratch, 'consumer.ts'), CONSUMER);
      fs.writeFileSync(
        path.join(scratch, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'out', skipLibCheck: false, types: ['node'] },
          files: ['consumer.ts'],
        }),
      );
      run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], scratch);
      const out = JSON.parse(run(process.execPath, ['out/consumer.js'], scratch)) as { csn: number; refused: string; unique: string; row: unknown; fastCheck: boolean };
      expect(out.fastCheck, "the 'motsim/fast-check' entry point").toBe(true);
      expect(out.csn).toBeGreaterThan(0);
      expect(out.refused).toBe(out.unique);
      expect(out.row).toEqual({ k: 1, v: 'one' });

      const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(run(NPM, ['exec', '--offline', '--', 'motsim', '--version'], scratch).trim()).toBe(version.version);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
