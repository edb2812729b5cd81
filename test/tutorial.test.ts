// docs/tutorial.md cannot rot: every fenced `sh runnable` block is run (with the built CLI, in a
// scratch directory) and must exit 0, and every line of the `text` block after it must appear in its
// output, matched loosely (numbers may differ, spaces are flexible, `...` matches anything).

import fs from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const TUTORIAL = join(ROOT, 'docs', 'tutorial.md');
/** The tutorial's scratch paths all start with this; the test runs them under a fresh temporary directory. */
const TUTORIAL_TMP_PREFIX = '/tmp/motsim-tutorial';
const BLOCK_TIMEOUT_MS = 90_000;

export interface TutorialStep {
  /** Line of the opening fence, for messages. */
  line: number;
  commands: string[];
  expected: string[];
}

/** `sh runnable` blocks, each with the lines of the `text` block that follows it (if any). */
export function tutorialSteps(markdown: string): TutorialStep[] {
  const lines = markdown.split('\n');
  const steps: TutorialStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh runnable') continue;
    const step: TutorialStep = { line: i + 1, commands: [], expected: [] };
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) if (lines[i]!.trim()) step.commands.push(lines[i]!);
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    if (lines[j]?.trim() === '```text') {
      for (j++; j < lines.length && lines[j]!.trim() !== '```'; j++) if (lines[j]!.trim()) step.expected.push(lines[j]!.trim());
      i = j;
    }
    steps.push(step);
  }
  return steps;
}

/** A quoted line as a regular expression: any number for a number, flexible spaces, `...` for anything. */
export function loosePattern(quoted: string): RegExp {
  const parts = quoted.split('...').map((part) =>
    part
      .split(/(\d[\d,]*(?:\.\d+)?)/)
      .map((piece, k) => (k % 2 === 1 ? '-?[\\d,]+(?:\\.\\d+)?' : piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+')))
      .join(''),
  );
  return new RegExp(parts.join('.*'));
}

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'motsim-tutorial-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function localize(text: string): string {
  return text.replaceAll(TUTORIAL_TMP_PREFIX, join(scratch, 'tutorial')).replaceAll('npx motsim', `"${process.execPath}" "${join(ROOT, 'bin', 'motsim.js')}"`);
}

describe('docs/tutorial.md', () => {
  const steps = tutorialSteps(fs.readFileSync(TUTORIAL, 'utf8'));

  it('has runnable steps with quoted output', () => {
    expect(steps.length).toBeGreaterThanOrEqual(6);
    expect(steps.every((s) => s.commands.every((c) => c.startsWith('npx motsim ') || c.startsWith('rm -rf /tmp/motsim-tutorial')))).toBe(true);
  });

  it('matches quoted lines loosely', () => {
    expect(loosePattern('lost 175 (175 inside ...), recovered').test('  lost 3 (3 inside the window), recovered')).toBe(true);
    expect(loosePattern('group | insert |   64 | ... |      16.0 | ...').test('group        | insert   |   64 |    2 | 9 |      15.5 | 184')).toBe(true);
    expect(loosePattern('lost 0 (must be 0)').test('lost 2 (must be 0)')).toBe(true); // numbers are loose by design
    expect(loosePattern('clean end at LSN 520').test('torn tail at LSN 520')).toBe(false);
  });

  for (const step of steps) {
    it(`step at line ${step.line} exits 0 and prints what the tutorial quotes: ${step.commands.map((c) => c.replace(/^npx motsim /, '')).join(' && ').slice(0, 90)}`, () => {
      const script = step.commands.map(localize).join('\n');
      const r = spawnSync('sh', ['-e', '-c', script], { cwd: scratch, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS, env: { ...process.env, NO_COLOR: '1' } });
      const output = `${r.stdout}\n${r.stderr}`;
      expect(r.status, `exit status of:\n${script}\n--- output ---\n${output}`).toBe(0);
      const outputLines = output.split('\n');
      for (const quoted of step.expected) {
        const pattern = loosePattern(localize(quoted));
        expect(outputLines.some((l) => pattern.test(l)), `the tutorial quotes (line ${step.line}):\n  ${quoted}\nnot found in the output:\n${output}`).toBe(true);
      }
    }, BLOCK_TIMEOUT_MS + 10_000);
  }
});
