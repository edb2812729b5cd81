// Issue 14, crash-test's report: a run never stops silently (violationsMax / --max-violations, and
// the summary says what was planned, run, and why it stopped); a mode contradicted by a setting is
// refused (22023; the CLI exits 2); violations are data (structured ledger entries, JSON that
// validates against docs/schemas/crash-test-summary.schema.json with ajv); and --html writes one
// self-contained timeline page per violation. Real violations come from a broken build (a mutant,
// test/helpers/mutants.ts): the synchronous handler acknowledging before its flush. Runs the built
// CLI and dist/ (`npm run build` first). Every run prints its seed and replay line when it fails.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildMutant, importFrom, REAL_BUILD, type Mutant } from './helpers/mutants.js';
import { chromiumMissing, chromiumSkipReason, openOfflinePage } from './helpers/offline-browser.js';
import { crashTest, formatCrashTestSummary, modeConflict, type CrashTestSummary, type CrashTestMode } from '../src/sim/crash-test.js';
import { formatEntryData } from '../src/sim/entry-data.js';
import { violationTimelineFileName, violationTimelineHtml } from '../src/index.js';
import { isMotError } from '../src/errors.js';

type CrashTestModule = typeof import('../src/sim/crash-test.js');

const ROOT = resolve(import.meta.dirname, '..');
const SCHEMA = JSON.parse(fs.readFileSync(join(ROOT, 'docs', 'schemas', 'crash-test-summary.schema.json'), 'utf8')) as object;

/** The same defect as test/broken-builds.test.ts's, under its own name (its own copy of dist/). */
const ACK_BEFORE_FLUSH: Mutant = {
  name: 'crash-test report: synchronous commit acknowledged before its flush',
  edits: [{ file: 'src/commit-group/sync-handler.js', find: '        return done;', replace: '        done.catch(() => undefined);\n        return Promise.resolve();' }],
};
/** A seed and run count where that mutant is caught within the first scenarios (found by a run; any would do). */
const MUTANT_SEED = 1;
const MUTANT_RUNS = 8;

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'motsim-ct-report-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(SCHEMA);
}

/** Validates the JSON text of `summary` (what --json prints); returns ajv's errors as text ('' if valid). */
function schemaErrors(json: unknown): string {
  const validate = validator();
  return validate(json) ? '' : JSON.stringify(validate.errors, null, 1).slice(0, 4000);
}

function motsim(root: string, args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'motsim.js'), ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, MOTSIM_DEBUG: '' } });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('a mode contradicted by a setting is refused, naming both', () => {
  const cases: { mode: CrashTestMode; config: Record<string, string | number | boolean>; names: string; becomes: string }[] = [
    { mode: 'synchronous', config: { synchronous_commit: 'off' }, names: 'synchronous_commit', becomes: 'asynchronous' },
    { mode: 'synchronous', config: { enable_group_commit: true }, names: 'enable_group_commit', becomes: 'group' },
    { mode: 'group', config: { synchronous_commit: false }, names: 'synchronous_commit', becomes: 'asynchronous' },
    { mode: 'group', config: { enableGroupCommit: false }, names: 'enableGroupCommit', becomes: 'synchronous' },
    { mode: 'asynchronous', config: { synchronous_commit: true }, names: 'synchronous_commit', becomes: 'synchronous' },
    { mode: 'asynchronous', config: { enable_redo_log: false, group_commit_size: 8 }, names: 'enable_redo_log', becomes: 'off' },
  ];
  for (const c of cases) {
    it(`crashTest({ mode: '${c.mode}', config: ${JSON.stringify(c.config)} }) is refused with 22023 (it makes the mode ${c.becomes})`, async () => {
      const e: unknown = await crashTest({ mode: c.mode, seed: 1, runs: 1, config: c.config }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isMotError(e), String(e)).toBe(true);
      if (!isMotError(e)) return;
      expect(e.sqlstate).toBe('22023');
      expect(e.message).toContain(`"${c.names}"`);
      expect(e.message).toContain(`mode is "${c.mode}"`);
      expect(e.message).toContain(`logging mode ${c.becomes}`);
      expect(e.message).not.toContain('group_commit_size'); // only the culprit is named
    });
  }

  it('settings that agree with the mode, or do not touch it, are accepted', () => {
    expect(modeConflict('group', { enable_group_commit: true, group_commit_size: 8 })).toBeUndefined();
    expect(modeConflict('synchronous', { synchronous_commit: 'on', enable_group_commit: false })).toBeUndefined();
    // Asynchronous whatever enable_group_commit says (config.loggingMode): not a contradiction.
    expect(modeConflict('asynchronous', { synchronous_commit: false, enable_group_commit: true })).toBeUndefined();
    expect(modeConflict('synchronous', {})).toBeUndefined();
  });

  it('motsim crash-test --mode synchronous --set synchronous_commit=off exits 2 with one line naming both, before running anything', () => {
    const r = motsim(REAL_BUILD, ['crash-test', '--mode', 'synchronous', '--seed', '1', '--runs', '4', '--set', 'synchronous_commit=off']);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^motsim: ERROR 22023 \(/);
    expect(lines[0]).toContain('--set synchronous_commit=off contradicts --mode synchronous');
    expect(lines[0]).toContain('logging mode asynchronous');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  });

  it('violationsMax must be an integer from 1 (22023 naming it); --max-violations 0 is a usage error', async () => {
    await expect(crashTest({ mode: 'group', seed: 1, runs: 1, violationsMax: 0 })).rejects.toThrow(/violationsMax/);
    const r = motsim(REAL_BUILD, ['crash-test', '--mode', 'group', '--max-violations', '0']);
    expect(r.stderr).toMatch(/^motsim: ERROR 22023 .*--max-violations/);
    expect(r.status).toBe(2);
  });
});

describe('the summary says what was planned and run (real build: no violation, nothing stopped)', () => {
  it('random mode: scenarios planned and run, stoppedEarly null, and --json validates against the schema', () => {
    const r = motsim(REAL_BUILD, ['crash-test', '--mode', 'group', '--seed', '3', '--runs', '2', '--json']);
    expect(r.status, `${r.stderr}\nreplay: motsim crash-test --mode group --seed 3 --runs 2`).toBe(0);
    const json = JSON.parse(r.stdout) as CrashTestSummary;
    expect(schemaErrors(json)).toBe('');
    expect(json).toMatchObject({ runsPlanned: 2, runsStarted: 2, scenarios: 2, violationsFound: 0, violationsMax: 10, stoppedEarly: null, violations: [] });
  });

  it('exhaustive mode with one crash point: one planned and tried; the text says so', async () => {
    const r = await crashTest({ mode: 'group', seed: 5, runs: 1, exhaustive: true, crashModel: 'torn', crashPoint: 17 });
    expect(schemaErrors(JSON.parse(JSON.stringify(r))), r.replay).toBe('');
    expect(r).toMatchObject({ runsPlanned: 1, runsStarted: 1, crashPointsPlanned: 1, scenarios: 1, stoppedEarly: null });
    expect(formatCrashTestSummary(r)).toContain('scenarios 1 (one per crash point; 1 counted in 1 of 1 workload(s) planned)');
  });
});

describe('violations as data, from a broken build (synchronous commit acknowledged before its flush)', () => {
  let mutantRoot = '';
  let mutant: CrashTestModule;
  let summary: CrashTestSummary;
  const replay = `a mutant build: motsim crash-test --mode synchronous --seed ${MUTANT_SEED} --runs ${MUTANT_RUNS} --max-violations 1`;

  beforeAll(async () => {
    mutantRoot = buildMutant(ACK_BEFORE_FLUSH);
    mutant = await importFrom<CrashTestModule>(mutantRoot, 'src/sim/crash-test.js');
    summary = await mutant.crashTest({ mode: 'synchronous', seed: MUTANT_SEED, runs: MUTANT_RUNS, violationsMax: 1 });
  }, 300_000);

  it('violationsMax 1: the run stops at the first violation and says so (never a silent stop)', () => {
    expect(summary.violationsFound, replay).toBeGreaterThanOrEqual(1);
    expect(summary.violations).toHaveLength(1);
    expect(summary.violationsMax).toBe(1);
    expect(summary.runsPlanned).toBe(MUTANT_RUNS);
    expect(summary.runsStarted, `${replay}: caught only in the last scenario; pick a seed that catches it earlier`).toBeLessThan(MUTANT_RUNS);
    expect(summary.stoppedEarly?.reason).toBe('violations-max');
    expect(summary.stoppedEarly?.message).toContain(`${summary.runsStarted} of ${MUTANT_RUNS} scenarios were run, the other ${MUTANT_RUNS - summary.runsStarted} were not`);
    const text = formatCrashTestSummary(summary);
    expect(text).toContain(`scenarios ${summary.runsStarted} of ${MUTANT_RUNS} planned`);
    expect(text).toContain('STOPPED EARLY: violationsMax (--max-violations) 1 reached');
    expect(summary.replay).toContain('--max-violations 1');
  });

  it('exhaustive mode: the stop names the crash points tried of those counted, and the workloads not started', async () => {
    const r = await mutant.crashTest({ mode: 'synchronous', seed: 5, runs: 2, exhaustive: true, violationsMax: 1 });
    const again = 'a mutant build: motsim crash-test --mode synchronous --seed 5 --runs 2 --exhaustive --max-violations 1';
    expect(r.violations, again).toHaveLength(1);
    expect(r.runsStarted, again).toBe(1);
    expect(r.scenarios).toBeLessThanOrEqual(r.crashPointsPlanned!);
    expect(r.stoppedEarly?.message, again).toContain(`${r.scenarios} of the ${r.crashPointsPlanned} crash points counted were tried, in 1 of 2 workload(s)`);
    expect(schemaErrors(JSON.parse(JSON.stringify(r))), again).toBe('');
    const v = r.violations[0]!;
    expect(violationTimelineFileName(v, 0)).toBe(`violation-01-${v.kind}-seed-5-point-${v.crashPoint}.html`);
  });

  it('each violation carries structured ledger entries; the text prints each as its one line', () => {
    const v = summary.violations[0]!;
    expect(v.mode).toBe('synchronous');
    expect(v.entries.length, `${v.kind}: ${v.message}; ${v.replay}`).toBeGreaterThan(0);
    const acked = v.entries.filter((e) => e.result === 'acked' && e.ddl === undefined);
    expect(acked.length).toBeGreaterThan(0);
    for (const e of acked) {
      expect(typeof e.session).toBe('number');
      expect(typeof e.transactionId).toBe('number');
      expect(typeof e.csn).toBe('number');
      expect(typeof e.lsn).toBe('number');
      expect(typeof e.acknowledgedAtUs).toBe('number');
      expect(Array.isArray(e.operations)).toBe(true);
      expect(e.operations.length).toBeGreaterThan(0);
      expect(typeof e.operations[0]!.table).toBe('string');
    }
    const text = formatCrashTestSummary(summary);
    for (const e of v.entries) expect(text).toContain(`    ${formatEntryData(e)}`);
    // The timeline names them, and says what became of each transaction of the incarnation.
    const drawn = v.timeline.transactions.filter((t) => t.violating).map((t) => t.id);
    expect(drawn.sort()).toEqual(v.entries.map((e) => e.id).sort());
    expect(v.timeline.crashAtUs).toBeTypeOf('number');
    expect(v.timeline.flushes.length).toBeGreaterThan(0);
    if (v.kind === 'acknowledged-commit-lost') {
      expect(v.timeline.transactions.some((t) => t.fate === 'lost' && t.violating)).toBe(true);
      // The counts agree with the violation (they once said "lost 0" next to it).
      expect(summary.commits.lost).toBeGreaterThan(0);
    }
  });

  it('the API summary, as JSON, validates against the documented schema; a field the schema lacks does not', () => {
    const json = JSON.parse(JSON.stringify(summary)) as CrashTestSummary;
    expect(schemaErrors(json), replay).toBe('');
    // The schema is closed at every level, so the output cannot grow a field the docs do not have.
    const entryWithExtra = structuredClone(json);
    (entryWithExtra.violations[0]!.entries[0] as unknown as Record<string, unknown>).undocumented = 1;
    expect(schemaErrors(entryWithExtra)).toContain('undocumented');
    const timelineWithExtra = structuredClone(json);
    (timelineWithExtra.violations[0]!.timeline.transactions[0] as unknown as Record<string, unknown>).undocumented = 1;
    expect(schemaErrors(timelineWithExtra)).toContain('undocumented');
  });

  it('violationTimelineHtml: self-contained (no URL, no script), names the violating transactions and the replay line', () => {
    const v = summary.violations[0]!;
    const html = violationTimelineHtml(v);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    for (const e of v.entries) expect(html).toContain(e.ddl === undefined ? `tx#${e.id}` : `ddl ${e.ddl.ddl} ${e.ddl.table}`);
    expect(html).toContain(v.replay.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    expect(html).toContain('crash ');
  });

  it('motsim crash-test --json --html DIR (the mutant\'s CLI): exit 3, JSON valid, one page per violation', () => {
    const dir = join(scratch, 'timelines');
    const args = ['crash-test', '--mode', 'synchronous', '--seed', String(MUTANT_SEED), '--runs', String(MUTANT_RUNS), '--max-violations', '1', '--json', '--html', dir];
    const r = motsim(mutantRoot, args);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^motsim: ERROR XX001 .*violation.*stopped early/);
    expect(r.status).toBe(3);
    const json = JSON.parse(r.stdout) as CrashTestSummary;
    expect(schemaErrors(json), replay).toBe('');
    expect(json.fingerprint).toBe(summary.fingerprint); // the CLI runs the same scenarios
    const pages = fs.readdirSync(dir);
    expect(pages).toHaveLength(json.violations.length);
    const page = fs.readFileSync(join(dir, pages[0]!), 'utf8');
    expect(pages[0]).toMatch(new RegExp(`^violation-01-${json.violations[0]!.kind}-seed-\\d+\\.html$`));
    expect(page).not.toMatch(/https?:\/\/|<script/i);
    for (const e of json.violations[0]!.entries) if (e.ddl === undefined) expect(page).toContain(`tx#${e.id}`);
  });

  if (chromiumMissing) process.stderr.write(`\n*** ${chromiumSkipReason("the timeline page's browser check")} ***\n\n`);
  it.skipIf(chromiumMissing)('the timeline page renders in Chromium offline, with its SVG and no console error', async () => {
    const path = join(scratch, 'timeline-browser.html');
    fs.writeFileSync(path, violationTimelineHtml(summary.violations[0]!));
    const { page, problems, requests, close } = await openOfflinePage();
    try {
      await page.goto(pathToFileURL(path).href);
      const box = await page.locator('svg[aria-label="timeline of the crashed incarnation"]').boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(500);
      expect(await page.locator('svg rect').count()).toBeGreaterThan(summary.violations[0]!.timeline.transactions.length);
      fs.mkdirSync(join(ROOT, '.tmp'), { recursive: true });
      await page.screenshot({ path: join(ROOT, '.tmp', 'violation-timeline.png'), fullPage: true });
      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
