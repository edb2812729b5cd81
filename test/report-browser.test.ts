// The HTML report in a real browser: `motsim report --quick` (built CLI), opened from file:// in headless
// Chromium (Debian's chromium, driven by playwright-core) with the network blocked; every chart must
// render with data and the console must stay free of errors. Saves a screenshot to .tmp/. Skipped, with
// the reason printed, where no chromium executable exists (CI installs it: .ci/run).

import fs from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_CHART_IDS } from '../src/report/report-html.js';
import { chromiumMissing as missing, chromiumSkipReason, openOfflinePage, type OfflinePage } from './helpers/offline-browser.js';

const ROOT = resolve(import.meta.dirname, '..');
const SKIP_REASON = chromiumSkipReason("the report's browser test");
if (missing) process.stderr.write(`\n*** ${SKIP_REASON} ***\n\n`);

const SCREENSHOT = join(ROOT, '.tmp', 'report-screenshot.png');

describe(missing ? `report in a browser (skipped: ${SKIP_REASON})` : 'report in a browser', () => {
  let browser: OfflinePage | undefined;
  let reportPath = '';

  beforeAll(() => {
    if (missing) return;
    fs.mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    reportPath = join(ROOT, '.tmp', 'report-browser-test.html');
    execFileSync(process.execPath, [join(ROOT, 'bin', 'motsim.js'), 'report', '--quick', '--out', reportPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it.skipIf(missing)('every chart renders with data, offline, and the console has no errors', async () => {
    browser = await openOfflinePage();
    const { page, problems, requests } = browser;

    await page.goto(pathToFileURL(reportPath).href);
    await page.waitForSelector('body[data-charts-ready]');
    const charts = await page.evaluate(() => {
      const w = globalThis as unknown as { motsimCharts: Record<string, { data: { datasets: { data: unknown[] }[] }; canvas: { width: number; height: number } }> };
      return Object.fromEntries(
        Object.entries(w.motsimCharts).map(([id, c]) => [
          id,
          { datasets: c.data.datasets.length, points: c.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0), width: c.canvas.width, height: c.canvas.height },
        ]),
      );
    });
    for (const id of REPORT_CHART_IDS) {
      expect(await page.locator(`canvas#${id}`).count(), `canvas ${id}`).toBe(1);
      expect(charts[id], `Chart instance on ${id}`).toBeDefined();
      expect(charts[id]!.datasets, `datasets of ${id}`).toBeGreaterThan(0);
      expect(charts[id]!.points, `data points of ${id}`).toBeGreaterThan(0);
      expect(charts[id]!.width * charts[id]!.height, `drawn size of ${id}`).toBeGreaterThan(0);
    }
    expect(Object.keys(charts).sort()).toEqual([...REPORT_CHART_IDS].sort());
    expect(await page.locator('p.caption').count()).toBe(6);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    expect(requests, 'the report must not touch the network').toEqual([]);
    expect(problems).toEqual([]);
  });
});
