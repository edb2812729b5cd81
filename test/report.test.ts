// The report's data and page without a browser: the group-commit timeline is deterministic and shows
// groups closed by size and by timeout; the crash experiment loses acknowledged commits only in
// asynchronous mode; the page is self-contained (no external URL) with six captions and every canvas;
// a file that is not `motsim bench --json` output is refused naming the file.

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordGroupTimeline } from '../src/report/group-timeline.js';
import { runCrashExperiment } from '../src/report/crash-experiment.js';
import { runGroupSweep } from '../src/report/group-sweep.js';
import { measureRecoveryTiming } from '../src/report/recovery-timing.js';
import { readBenchJson, type ReportData } from '../src/report/build-report.js';
import { REPORT_CHART_IDS, renderReportHtml } from '../src/report/report-html.js';
import { isMotError } from '../src/errors.js';

describe('report data', () => {
  it('group-commit timeline: same seed, same events; groups close by size and by timeout; the lone transaction waits the timeout', async () => {
    const a = await recordGroupTimeline({ seed: 3 });
    const b = await recordGroupTimeline({ seed: 3 });
    expect(b).toEqual(a);
    expect(a.transactions.length).toBeGreaterThanOrEqual(24);
    expect(new Set(a.transactions.map((t) => t.socket))).toEqual(new Set([0, 1]));
    expect(a.groups.some((g) => g.reason === 'size')).toBe(true);
    expect(a.groups.some((g) => g.reason === 'timeout')).toBe(true);
    for (const g of a.groups) expect(g.openedUs <= g.closedUs && g.closedUs <= g.loggedUs && g.loggedUs < g.durableUs).toBe(true);
    for (const t of a.transactions) expect(t.ackUs).toBeGreaterThanOrEqual(a.groups.find((g) => g.id === t.groupId)!.durableUs);
    const lone = a.transactions.at(-1)!;
    const loneGroup = a.groups.find((g) => g.id === lone.groupId)!;
    expect(loneGroup).toMatchObject({ members: 1, reason: 'timeout' });
    expect(loneGroup.closedUs - lone.joinUs).toBe(a.groupCommitTimeoutUs);
  });

  it('crash per mode: synchronous and group keep every acknowledged commit, asynchronous loses its unflushed window', async () => {
    const c = await runCrashExperiment();
    const by = Object.fromEntries(c.runs.map((r) => [r.mode, r]));
    for (const r of c.runs) expect(r.violations).toEqual([]);
    expect(by.synchronous!.ackedLost).toBe(0);
    expect(by.group!.ackedLost).toBe(0);
    expect(by.asynchronous!.ackedLost).toBeGreaterThan(0);
    expect(by.asynchronous!.ackedLostAllowed).toBe(by.asynchronous!.ackedLost);
    for (const p of by.asynchronous!.points.filter((q) => q.outcome === 'lost')) expect(p.atUs).toBeGreaterThanOrEqual(by.asynchronous!.lastDurableRoundStartUs!);
  });

  it('refuses a file that is not motsim bench --json output, naming it', () => {
    const path = join(os.tmpdir(), `motsim-not-bench-${process.pid}.json`);
    fs.writeFileSync(path, '{"hello": 1}');
    try {
      let err: unknown;
      try {
        readBenchJson(path);
      } catch (e) {
        err = e;
      }
      expect(isMotError(err) && err.message).toContain(path);
    } finally {
      fs.rmSync(path, { force: true });
    }
  });
});

describe('report page', () => {
  it('is self-contained: data and Chart.js inlined, no external URL, a canvas per chart and six captions', async () => {
    const data: ReportData = {
      title: 't',
      generatedAt: 'now',
      host: 'h',
      quick: true,
      bench: {
        source: 'test',
        machine: { cpus: 2, cpuModel: 'x', node: 'v20', when: '' },
        ceiling: { commitsPerSec: 500, fdatasyncUsAvg: 2000 },
        runs: ['synchronous', 'group', 'asynchronous'].map((mode, i) => ({
          mode, workload: 'insert', sessions: 64, sockets: 2, commitsPerSec: 400 * 10 ** i, avgGroupSize: null,
          latencyUs: { avg: 10, p50: 10, p99: 20, max: 30 }, latencyHistogram: [{ upToUs: 10, count: 5 }, { upToUs: 20, count: 1 }],
        })),
      },
      timeline: await recordGroupTimeline(),
      crash: await runCrashExperiment({ modes: ['asynchronous'] }),
      sweep: await runGroupSweep({ sizes: [2, 8], timeoutsUs: [1000], durationMs: 20 }),
      recovery: await measureRecoveryTiming({ rows: 200, historiesTx: [100], intervalsTx: [50], repeats: 1 }),
      timingsMs: {},
    };
    const html = renderReportHtml(data);
    for (const id of REPORT_CHART_IDS) expect(html).toContain(`<canvas id="${id}"`);
    expect(html.match(/<p class="caption">/g)).toHaveLength(6);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toMatch(/Chart\.js v4\./); // Chart.js itself, inlined
    const json = /<script id="report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json).sweep.points).toHaveLength(2);
  });
});
