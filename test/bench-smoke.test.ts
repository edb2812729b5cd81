// No benchmark may rot: every script in bench/ runs in smoke mode (`run-all --smoke`, sizes cut down,
// figures meaningless) and must exit 0 having printed its section and written its smoke result.
// Nothing here looks at a figure, so the machine's speed cannot fail it. Needs dist/ (`npm test` builds).

import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUN_ALL = join(ROOT, 'dist', 'bench', 'run-all.js');
/** bench/ files that are not benchmarks, as in run-all.ts. */
const NOT_BENCHMARKS = new Set(['run-all', 'report']);
/**
 * A smoke run is bounded by its sizes (seconds of work on a loaded 2-core machine); this only stops a
 * hung script from hanging the suite, and is far above any smoke run seen.
 */
const SMOKE_RUN_TIMEOUT_MS = 600_000;

/** Every benchmark in the source tree, so a script added to bench/ is covered without touching this test. */
function benchmarkNames(): string[] {
  return fs
    .readdirSync(join(ROOT, 'bench'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .filter((name) => !NOT_BENCHMARKS.has(name))
    .sort();
}

function runAll(args: string[], timeoutMs: number): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
  if (!fs.existsSync(RUN_ALL)) throw new Error(`${RUN_ALL} is missing: build first (npm test does, or npx tsc -p .)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN_ALL, ...args], {
      cwd: ROOT,
      env: { ...process.env, MOTSIM_DEBUG: '1' }, // a failing script prints its stack trace into the assertion message
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

describe('bench/ smoke', () => {
  it(
    'every bench/ script runs in smoke mode: exit 0, its section printed, its result written under bench/results/smoke/',
    async () => {
      const names = benchmarkNames();
      expect(names.length).toBeGreaterThan(0);
      const r = await runAll(['--smoke'], SMOKE_RUN_TIMEOUT_MS - 10_000);
      const transcript = `status ${r.status}, signal ${r.signal}\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout}`;
      expect(r.status, transcript).toBe(0);
      for (const name of names) {
        expect(r.stdout, `bench/${name}: no section\n${transcript}`).toContain(`=== bench/${name} ===`);
        expect(r.stdout, `bench/${name}: no smoke result written\n${transcript}`).toMatch(new RegExp(`wrote \\S*/bench/results/smoke/${name}\\.json\\n`));
      }
      // A smoke run never writes over real results.
      expect(r.stdout, transcript).not.toMatch(/wrote \S*\/bench\/results\/[^/\s]+\.json/);
      expect(r.stdout).toContain('SMOKE RUN');
    },
    SMOKE_RUN_TIMEOUT_MS,
  );

  it('an unknown benchmark name or option is a usage error: exit 2 and one line naming it', async () => {
    for (const [args, named] of [
      [['--smoke', 'nosuch'], 'nosuch'],
      [['--fast'], '--fast'],
    ] as const) {
      const r = await runAll([...args], 60_000);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(named);
      expect(r.stdout).toBe('');
    }
  });
});
