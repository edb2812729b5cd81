// Renders ReportData as one self-contained HTML file: Chart.js (chart.umd.min.js from node_modules)
// and the data (JSON) are inlined, so the page opens offline. Each chart has a two-sentence caption
// (what it shows, what to notice) whose figures come from the data.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Errors } from '../errors.js';
import type { ReportData } from './build-report.js';
import { MODE_COLORS, REPORT_CLIENT_SCRIPT } from './report-client.js';

/** Every canvas the page draws (the browser test expects a Chart with data on each). */
export const REPORT_CHART_IDS = [
  'chart-throughput',
  'chart-latency',
  'chart-cdf',
  'chart-timeline-0',
  'chart-timeline-1',
  'chart-crash',
  'chart-sweep-throughput',
  'chart-sweep-p99',
  'chart-recovery',
] as const;

export function chartJsSource(): string {
  const entry = createRequire(import.meta.url).resolve('chart.js'); // .../chart.js/dist/chart.cjs
  const path = join(dirname(entry), 'chart.umd.min.js');
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw Errors.invalidState(`cannot read Chart.js from "${path}" (is chart.js installed? run npm ci): ${(e as Error).message}`);
  }
}

export function renderReportHtml(data: ReportData): string {
  const captions = captionsFor(data);
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const script = (s: string): string => s.replace(/<\/script/gi, '<\\/script');
  const modes = Object.entries(MODE_COLORS)
    .filter(([m]) => m !== 'off')
    .map(([m, c]) => `<span class="chip"><i style="background:${c}"></i>${m}</span>`)
    .join('');
  const timelineRows = (s: number): number => data.timeline.transactions.filter((t) => t.socket === s).length;
  const section = (n: number, title: string, body: string, caption: string): string =>
    `<section class="card" id="s${n}"><h2><span class="num">${n}</span>${esc(title)}</h2>${body}<p class="caption">${caption}</p></section>`;
  const canvas = (id: string, heightPx: number): string => `<div class="chart" style="height:${heightPx}px"><canvas id="${id}" role="img" aria-label="${id}"></canvas></div>`;
  const b = data.bench;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)}</title>
<style>
  :root { --ink: #1f2933; --muted: #52606d; --bg: #f4f5f7; --card: #ffffff; --line: #e4e7eb; }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
  header { background: #1f2933; color: #f5f7fa; padding: 28px 32px 22px; }
  header h1 { margin: 0 0 6px; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
  header p { margin: 2px 0; color: #cbd2d9; font-size: 14px; }
  .chip { display: inline-flex; align-items: center; gap: 6px; margin-right: 16px; font-size: 14px; color: #f5f7fa; }
  .chip i { width: 14px; height: 14px; border-radius: 3px; display: inline-block; }
  .legend { margin-top: 12px; }
  main { max-width: 1280px; margin: 0 auto; padding: 24px 24px 48px; display: grid; gap: 22px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px 16px; box-shadow: 0 1px 2px rgba(31,41,51,0.05); }
  h2 { margin: 0 0 12px; font-size: 19px; font-weight: 640; display: flex; align-items: center; gap: 10px; }
  .num { display: inline-grid; place-items: center; width: 28px; height: 28px; border-radius: 50%; background: #1f2933; color: #fff; font-size: 14px; }
  .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
  .chart { position: relative; width: 100%; }
  .caption { margin: 12px 0 0; color: var(--muted); max-width: 980px; }
  .caption b { color: var(--ink); }
  .sub { margin: 8px 0 4px; font-size: 13px; font-weight: 600; color: var(--muted); }
  footer { text-align: center; color: var(--muted); font-size: 13px; padding-bottom: 32px; }
  @media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1>${esc(data.title)}</h1>
  <p>Generated ${esc(data.generatedAt)} on ${esc(data.host)}${data.quick ? ' · <b>--quick</b>: short runs, figures are rough' : ''}</p>
  <p>Charts 1–2: ${esc(b.source)}. Charts 3–5: deterministic simulation (virtual time). Chart 6: ${esc(data.recovery.where)}.</p>
  <div class="legend">${modes}</div>
</header>
<main>
${section(1, 'Throughput and latency per logging mode', `<div class="pair">${canvas('chart-throughput', 340)}${canvas('chart-latency', 340)}</div>`, captions.c1)}
${section(2, 'Latency distribution per run', canvas('chart-cdf', 360), captions.c2)}
${section(
  3,
  'A group-commit timeline, per socket',
  `<div class="sub">socket 0</div>${canvas('chart-timeline-0', 120 + 21 * timelineRows(0))}<div class="sub">socket 1</div>${canvas('chart-timeline-1', 70 + 21 * timelineRows(1))}`,
  captions.c3,
)}
${section(4, 'A power cut in each mode', canvas('chart-crash', 320), captions.c4)}
${section(5, 'group_commit_size × group_commit_timeout', `<div class="pair">${canvas('chart-sweep-throughput', 320)}${canvas('chart-sweep-p99', 320)}</div>`, captions.c5)}
${section(6, 'Recovery time: checkpoint load and WAL replay', canvas('chart-recovery', 340), captions.c6)}
</main>
<footer>motsim report · every figure above is inlined in this file (no network needed) · computed in ${Object.entries(data.timingsMs).map(([k, ms]) => `${esc(k)} ${(ms / 1000).toFixed(1)} s`).join(', ')}</footer>
<script id="report-data" type="application/json">${json}</script>
<script>${script(chartJsSource())}</script>
<script>${script(REPORT_CLIENT_SCRIPT)}</script>
</body>
</html>
`;
}

interface Captions {
  c1: string;
  c2: string;
  c3: string;
  c4: string;
  c5: string;
  c6: string;
}

function captionsFor(d: ReportData): Captions {
  const b = d.bench;
  const best = (mode: string): number => Math.max(0, ...b.runs.filter((r) => r.mode === mode).map((r) => r.commitsPerSec));
  const ratio = (x: number): string => (b.ceiling.commitsPerSec > 0 ? `${(x / b.ceiling.commitsPerSec).toFixed(1)}×` : '-');
  const groupOne = b.runs.find((r) => r.mode === 'group' && r.sessions === 1);
  const t = d.timeline;
  const lone = t.transactions[t.transactions.length - 1];
  const durableAt = new Map(t.groups.map((g) => [g.id, g.durableUs]));
  const heldBack = t.transactions.some((x) => x.ackUs - (durableAt.get(x.groupId) ?? x.ackUs) > 1);
  const c = d.crash;
  const async = c.runs.find((r) => r.mode === 'asynchronous');
  const strict = c.runs.filter((r) => r.mode !== 'asynchronous');
  const w = d.sweep;
  const top = [...w.points].sort((x, y) => y.commitsPerSec - x.commitsPerSec)[0];
  const rec = d.recovery.points;
  const none = rec.filter((p) => p.checkpointEveryTx === undefined).at(-1);
  const withCk = rec.filter((p) => p.checkpointEveryTx !== undefined).at(-1);
  const ms = (x: number): string => `${fmt(x / 1000)} ms`;
  return {
    c1:
      `Commits per second of each run on this disk (left, log scale; the dashed line is the disk's ceiling of ${fmt(b.ceiling.commitsPerSec)} single-thread 100-byte appends with fdatasync, ${fmt(b.ceiling.fdatasyncUsAvg)} µs each) and the median and 99th-percentile commit latency (right). ` +
      `Notice that synchronous commit cannot beat the ceiling (best ${ratio(best('synchronous'))}), group commit goes past it by sharing one flush among many commits (best ${ratio(best('group'))}), and asynchronous commit (best ${ratio(best('asynchronous'))}) is fast because it waits for no flush at all.`,
    c2:
      `The share of commits that finished within a given latency, one line per run (solid: insert with 64 sessions, dotted: 1 session, dashed: update-mix). ` +
      (groupOne
        ? `Notice the group line of the 1-session run: alone, every commit waits for group_commit_timeout (median ${fmt(groupOne.latencyUs.p50)} µs), the light-load price of group commit, while the steps of the 64-session lines show the flush cost.`
        : `Notice how far right each mode's line sits: that is the flush each commit waits for, which asynchronous commit does not wait for.`),
    c3:
      `${t.transactions.length} transactions committing on ${t.sockets} sockets (simulated ${esc(t.disk)} disk, group_commit_size ${t.groupCommitSize}, group_commit_timeout ${ms(t.groupCommitTimeoutUs)}): each row is a transaction waiting in its socket's open group (blue: closed when full, amber: closed by the timeout), then its group's one write + fdatasync (grey), then the acknowledgement (green tick). ` +
      `Notice that groups fill by size in bursts, that a trickle is closed by the timeout, that the lone last transaction (tx ${lone?.n ?? '?'}) waits the whole ${ms(t.groupCommitTimeoutUs)} alone, and that ${heldBack ? 'a group is acknowledged only once every earlier group is durable (purple)' : "on this one-channel disk a group's flush queues behind the flushes ahead of it (long grey bars), so acknowledgements come in log order"}.`,
    c4:
      `${c.sessions} sessions insert rows in each mode on a simulated ${esc(c.disk)} disk until the power is cut at ${ms(c.runs[0]?.crashAtUs ?? 0)}; the real recovery then runs and the ledger of src/sim says, for each acknowledged commit, whether it survived (green) or was lost (red cross). ` +
      `Notice that synchronous and group commit lost ${strict.map((r) => r.ackedLost).join(' and ')} acknowledged commits, while asynchronous commit lost ${async?.ackedLost ?? 0}: everything acknowledged after the last background flush that reached the disk had taken its redo (the amber line; wal_writer_delay ${c.walWriterDelayMs} ms), the window it trades for speed.`,
    c5:
      `Throughput (left) and p99 latency (right) of group commit with ${w.sessions} sessions on ${w.sockets} sockets, for each group_commit_size and group_commit_timeout, simulated in virtual time on the ${esc(w.disk)} disk preset (${w.durationMs} ms per point). ` +
      `Notice that throughput rises with the group size until a group no longer fills (${w.sessions / w.sockets} sessions per socket), after which every group waits for the timeout and the p99 climbs to it${top ? `; the best point here is size ${top.groupCommitSize} with a ${ms(top.groupCommitTimeoutUs)} timeout (${fmt(top.commitsPerSec)} commits/s)` : ''}.`,
    c6:
      `Recovery (cold start) of small databases of ${fmt(d.recovery.rows)} rows on ${esc(d.recovery.where)}, split into loading the last checkpoint and replaying the WAL written after it; without a checkpoint the WAL grows with the history, with one it is at most one interval long (recovery just before the next checkpoint). ` +
      (none && withCk
        ? `Notice that replaying ${fmt(none.walTxReplayed)} transactions takes ${fmt(none.walReplayMs)} ms while a checkpoint every ${fmt(withCk.checkpointEveryTx ?? 0)} transactions bounds replay to ${fmt(withCk.walReplayMs)} ms, at the price of a checkpoint load (${fmt(withCk.checkpointLoadMs)} ms) that grows with the database, not the history.`
        : `Notice how replay time follows the WAL length while checkpoint load follows the database size.`),
  };
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return (Math.round(x * 10) / 10).toString();
}

/** Text made safe inside HTML text and double-quoted attributes. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
