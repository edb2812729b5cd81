// One crash-test violation as a self-contained HTML page, in the manner of a Jepsen timeline: the
// crashed incarnation's sessions as lanes on the virtual time axis, each transaction a bar from its
// begin to its acknowledgement (or rejection, or the crash), the flushes the engine reported, the
// crash, what recovery kept and lost, and the violating transactions outlined.
// Invariants: the page is static SVG and CSS generated here (no script, no URL, nothing fetched), so
// it opens offline and anywhere; every figure on it comes from the ViolationReport alone.

import type { TimelineTransaction, TransactionFate, ViolationReport } from '../sim/crash-test.js';
import { entryLabel, formatEntryData } from '../sim/entry-data.js';
import { esc } from './report-html.js';

/** Fill of a transaction's bar by what became of it. */
export const FATE_COLORS: Readonly<Record<TransactionFate, string>> = {
  survived: '#2f9e44',
  lost: '#e03131',
  'not-logged': '#adb5bd',
  'read-only': '#74c0fc',
  unknown: '#f59f00',
};

const FATE_TEXT: Readonly<Record<TransactionFate, string>> = {
  survived: 'survived: in the log prefix recovery kept',
  lost: 'lost: in the log, past what recovery kept',
  'not-logged': 'never in the log (rejected, rolled back: a bar with no end mark, or not yet placed at the crash)',
  'read-only': 'read-only (nothing to keep)',
  unknown: 'unknown (recovery failed, or no log prefix matched)',
};

const VIOLATING_COLOR = '#7048e8';
const CRASH_COLOR = '#c92a2a';
const FLUSH_COLOR = '#1c7ed6';

/** Layout, in px. */
const LABEL_WIDTH_PX = 170;
const RIGHT_PX = 130;
const ROW_PX = 15;
const BAR_PX = 9;
const LANE_GAP_PX = 8;
const FLUSH_LANE_PX = 26;
const AXIS_PX = 30;
const PLOT_WIDTH_PX_MIN = 900;
const PLOT_WIDTH_PX_MAX = 4000;
/** Horizontal scale before clamping: px per µs of virtual time. */
const PX_PER_US = 0.4;

/** File name of a violation's page: its place in the list, kind and seed ("violation-01-acknowledged-commit-lost-seed-7.html"). */
export function violationTimelineFileName(v: ViolationReport, index: number): string {
  return `violation-${String(index + 1).padStart(2, '0')}-${v.kind}-seed-${v.seed}${v.crashPoint === undefined ? '' : `-point-${v.crashPoint}`}.html`;
}

export function violationTimelineHtml(v: ViolationReport): string {
  const t = v.timeline;
  const violating = t.transactions.filter((x) => x.violating);
  const title = `crash-test violation: ${v.kind}`;
  const notShown = [
    t.transactionsNotShown > 0 ? `${t.transactionsNotShown} earlier transaction(s) of the incarnation are not drawn` : '',
    t.flushesNotShown > 0 ? `${t.flushesNotShown} earlier flush(es) are not drawn` : '',
  ].filter((x) => x !== '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} (seed ${v.seed})</title>
<style>
  :root { --ink: #1f2933; --muted: #52606d; --bg: #f4f5f7; --card: #ffffff; --line: #e4e7eb; }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
  header { background: #1f2933; color: #f5f7fa; padding: 22px 28px 18px; }
  header h1 { margin: 0 0 6px; font-size: 22px; font-weight: 650; }
  header p { margin: 2px 0; color: #cbd2d9; }
  main { padding: 18px 24px 40px; display: grid; gap: 18px; }
  .card { min-width: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; }
  h2 { margin: 0 0 10px; font-size: 17px; }
  .scroll { overflow-x: auto; }
  code, pre { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  pre { white-space: pre-wrap; word-break: break-word; margin: 6px 0; }
  .replay { background: #f1f3f5; border-radius: 6px; padding: 8px 10px; display: block; }
  .legend { display: flex; flex-wrap: wrap; gap: 8px 22px; margin: 10px 0 0; color: var(--muted); }
  .legend span { display: inline-flex; align-items: center; gap: 6px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  .muted { color: var(--muted); }
  svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
</style>
</head>
<body>
<header>
  <h1>${esc(title)}</h1>
  <p>mode ${esc(v.mode)} · scenario ${v.scenario} · seed ${v.seed} · incarnation (epoch) ${v.epoch}${v.crashPoint === undefined ? '' : ` · crash point ${v.crashPoint}`}</p>
  <p>${esc(v.message)}</p>
</header>
<main>
<section class="card">
  <h2>Replay</h2>
  <code class="replay">${esc(v.replay)}</code>
</section>
<section class="card">
  <h2>Timeline of the crashed incarnation (virtual time)</h2>
  <p class="muted">${esc(summaryLine(v))}</p>
  <div class="scroll">${timelineSvg(v)}</div>
  <div class="legend">${legend()}</div>
  ${notShown.length > 0 ? `<p class="muted">${esc(notShown.join('; '))}.</p>` : ''}
</section>
<section class="card">
  <h2>Violating transactions (${violating.length})</h2>
  ${violating.length === 0 ? '<p class="muted">This violation names no transaction (it is about the log or recovery as a whole).</p>' : violatingTable(v)}
</section>
</main>
</body>
</html>
`;
}

function summaryLine(v: ViolationReport): string {
  const t = v.timeline;
  const count = (f: TransactionFate): number => t.transactions.filter((x) => x.fate === f).length;
  const crash = t.crashAtUs === undefined ? 'no crash yet (the violation came first)' : `crash at ${us(t.crashAtUs)}`;
  const lsns = t.placedLsn === undefined ? '' : `; at the crash the log was placed up to LSN ${t.placedLsn}, durable up to LSN ${t.durableLsn ?? 0}`;
  const recovery = { recovered: 'recovery opened the directory', failed: 'recovery failed', 'not-run': 'recovery had not run' }[t.recovery];
  return (
    `${t.transactions.length} transaction(s) drawn: ${count('survived')} survived, ${count('lost')} lost, ${count('not-logged')} never logged, ` +
    `${count('read-only')} read-only, ${count('unknown')} unknown; ${t.flushes.length} flush completion(s); ${crash}${lsns}; ${recovery}.`
  );
}

interface Lane {
  label: string;
  rows: TimelineTransaction[][];
}

/** Sessions (and DDL) as lanes; in a lane, bars that overlap in time go to separate rows. */
function lanes(v: ViolationReport, endOf: (x: TimelineTransaction) => number): Lane[] {
  const byLane = new Map<string, TimelineTransaction[]>();
  for (const x of v.timeline.transactions) {
    const key = x.ddl !== undefined ? 'DDL statements' : `session ${x.session} (socket ${x.socket})`;
    byLane.set(key, [...(byLane.get(key) ?? []), x]);
  }
  const keys = [...byLane.keys()].sort((a, b) => (a.startsWith('DDL') ? 1 : b.startsWith('DDL') ? -1 : sessionOf(a) - sessionOf(b)));
  return keys.map((label) => {
    const rows: TimelineTransaction[][] = [];
    const rowEnds: number[] = [];
    for (const x of byLane.get(label)!) {
      let r = rowEnds.findIndex((end) => end <= x.beganAtUs);
      if (r < 0) {
        r = rows.length;
        rows.push([]);
        rowEnds.push(0);
      }
      rows[r]!.push(x);
      rowEnds[r] = endOf(x);
    }
    return { label, rows: rows.length === 0 ? [[]] : rows };
  });
}

function sessionOf(label: string): number {
  return Number(/session (\d+)/.exec(label)?.[1] ?? 0);
}

function timelineSvg(v: ViolationReport): string {
  const t = v.timeline;
  // A bar ends at the answer, else at the crash (still committing then), else at its last known moment.
  const endOf = (x: TimelineTransaction): number =>
    x.acknowledgedAtUs ?? x.rejectedAtUs ?? x.rolledBackAtUs ?? (t.crashAtUs !== undefined && t.crashAtUs >= x.beganAtUs ? t.crashAtUs : (x.commitCalledAtUs ?? x.beganAtUs));
  const times = [...t.transactions.flatMap((x) => [x.beganAtUs, endOf(x), x.durableAtUs ?? x.beganAtUs]), ...t.flushes.map((f) => f.atUs), ...(t.crashAtUs === undefined ? [] : [t.crashAtUs])];
  const fromUs = times.length > 0 ? Math.min(...times) : 0;
  const toUs = Math.max(fromUs + 1, ...times);
  const plotPx = Math.round(Math.min(PLOT_WIDTH_PX_MAX, Math.max(PLOT_WIDTH_PX_MIN, (toUs - fromUs) * PX_PER_US)));
  const x = (us: number): number => LABEL_WIDTH_PX + ((us - fromUs) / (toUs - fromUs)) * plotPx;
  const ls = lanes(v, endOf);
  const lanesPx = ls.reduce((n, l) => n + l.rows.length * ROW_PX + LANE_GAP_PX, 0);
  const top = AXIS_PX + FLUSH_LANE_PX;
  const height = top + lanesPx + 10;
  const width = LABEL_WIDTH_PX + plotPx + RIGHT_PX;
  const out: string[] = [];
  out.push(`<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline of the crashed incarnation">`);
  // Axis with about ten ticks at round µs values.
  const step = niceStep((toUs - fromUs) / 10);
  for (let tick = Math.ceil(fromUs / step) * step; tick <= toUs; tick += step) {
    out.push(`<line x1="${f(x(tick))}" y1="${AXIS_PX - 6}" x2="${f(x(tick))}" y2="${height - 6}" stroke="#eef0f2"/>`);
    out.push(`<text x="${f(x(tick))}" y="${AXIS_PX - 10}" text-anchor="middle">${esc(us(tick))}</text>`);
  }
  // Flush completions: one tick each in the top lane.
  out.push(`<text x="8" y="${AXIS_PX + 16}">flushes completed</text>`);
  for (const fl of t.flushes) {
    out.push(
      `<line x1="${f(x(fl.atUs))}" y1="${AXIS_PX + 4}" x2="${f(x(fl.atUs))}" y2="${AXIS_PX + FLUSH_LANE_PX - 4}" stroke="${FLUSH_COLOR}" stroke-width="1.5"><title>${esc(`flush completed at ${us(fl.atUs)}: durable up to LSN ${fl.endLsn} (from ${fl.startLsn})${fl.socket === undefined ? '' : `, socket ${fl.socket}`}`)}</title></line>`,
    );
  }
  let y = top;
  for (const lane of ls) {
    const laneHeight = lane.rows.length * ROW_PX;
    out.push(`<rect x="0" y="${y - 2}" width="${width}" height="${laneHeight + 4}" fill="${ls.indexOf(lane) % 2 === 0 ? '#f8f9fa' : '#ffffff'}"/>`);
    out.push(`<text x="8" y="${y + ROW_PX - 4}">${esc(lane.label)}</text>`);
    lane.rows.forEach((row, r) => {
      for (const tx of row) out.push(bar(tx, x, endOf(tx), y + r * ROW_PX + (ROW_PX - BAR_PX) / 2, t.crashAtUs));
    });
    y += laneHeight + LANE_GAP_PX;
  }
  if (t.crashAtUs !== undefined) {
    const cx = f(x(t.crashAtUs));
    out.push(`<line x1="${cx}" y1="${AXIS_PX}" x2="${cx}" y2="${height - 4}" stroke="${CRASH_COLOR}" stroke-width="2" stroke-dasharray="6 3"/>`);
    out.push(`<text x="${cx}" y="${AXIS_PX + FLUSH_LANE_PX - 2}" dx="4" style="fill:${CRASH_COLOR};font-weight:600">crash ${esc(us(t.crashAtUs))}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** One transaction: lighter before its commit call, full colour while committing; marks for ack, rejection, durability. */
function bar(tx: TimelineTransaction, x: (us: number) => number, endUs: number, y: number, crashAtUs: number | undefined): string {
  const color = FATE_COLORS[tx.fate];
  const x0 = x(tx.beganAtUs);
  const x1 = Math.max(x(endUs), x0 + 2);
  const xc = tx.commitCalledAtUs === undefined ? x1 : Math.min(x1, Math.max(x0, x(tx.commitCalledAtUs)));
  const tip = `${formatEntryData(tx)} — ${FATE_TEXT[tx.fate]}${tx.violating ? ' — VIOLATING' : ''}`;
  const parts: string[] = [`<g><title>${esc(tip)}</title>`];
  if (xc > x0) parts.push(`<rect x="${f(x0)}" y="${f(y)}" width="${f(xc - x0)}" height="${BAR_PX}" fill="${color}" fill-opacity="0.4"/>`);
  if (x1 > xc) parts.push(`<rect x="${f(xc)}" y="${f(y)}" width="${f(x1 - xc)}" height="${BAR_PX}" fill="${color}"/>`);
  const inFlight = tx.acknowledgedAtUs === undefined && tx.rejectedAtUs === undefined && tx.rolledBackAtUs === undefined && crashAtUs !== undefined && endUs === crashAtUs;
  if (inFlight) parts.push(`<rect x="${f(x0)}" y="${f(y)}" width="${f(x1 - x0)}" height="${BAR_PX}" fill="none" stroke="#495057" stroke-dasharray="2 2"/>`);
  if (tx.acknowledgedAtUs !== undefined) parts.push(`<line x1="${f(x1)}" y1="${f(y - 2)}" x2="${f(x1)}" y2="${f(y + BAR_PX + 2)}" stroke="#212529" stroke-width="2"/>`);
  if (tx.rejectedAtUs !== undefined) parts.push(`<text x="${f(x1 + 1)}" y="${f(y + BAR_PX)}" style="font-weight:700">×</text>`);
  if (tx.durableAtUs !== undefined) {
    const xd = x(tx.durableAtUs);
    parts.push(`<circle cx="${f(xd)}" cy="${f(y + BAR_PX / 2)}" r="2.6" fill="#ffffff" stroke="${FLUSH_COLOR}" stroke-width="1.4"/>`);
  }
  if (tx.violating) {
    parts.push(`<rect x="${f(x0 - 2)}" y="${f(y - 3)}" width="${f(x1 - x0 + 4)}" height="${BAR_PX + 6}" fill="none" stroke="${VIOLATING_COLOR}" stroke-width="2.5" rx="2"/>`);
    parts.push(`<text x="${f(x1 + 8)}" y="${f(y + BAR_PX)}" style="fill:${VIOLATING_COLOR};font-weight:700;paint-order:stroke;stroke:#ffffff;stroke-width:3px">${esc(entryLabel(tx))}</text>`);
  }
  parts.push('</g>');
  return parts.join('');
}

function legend(): string {
  const swatch = (svg: string): string => `<svg width="26" height="14" viewBox="0 0 26 14">${svg}</svg>`;
  const items = (Object.keys(FATE_COLORS) as TransactionFate[]).map((fate) => `<span>${swatch(`<rect x="1" y="3" width="24" height="8" fill="${FATE_COLORS[fate]}"/>`)}${esc(FATE_TEXT[fate])}</span>`);
  items.push(`<span>${swatch(`<rect x="1" y="3" width="11" height="8" fill="#868e96" fill-opacity="0.4"/><rect x="12" y="3" width="13" height="8" fill="#868e96"/>`)}lighter: running; full: commit called, waiting for the answer</span>`);
  items.push(`<span>${swatch('<rect x="1" y="3" width="20" height="8" fill="#868e96"/><line x1="22" y1="1" x2="22" y2="13" stroke="#212529" stroke-width="2"/>')}acknowledged ("committed")</span>`);
  items.push(`<span>${swatch('<rect x="1" y="3" width="18" height="8" fill="#868e96"/><text x="19" y="12" style="font-weight:700">×</text>')}rejected</span>`);
  items.push(`<span>${swatch('<rect x="1" y="3" width="24" height="8" fill="none" stroke="#495057" stroke-dasharray="2 2"/>')}no answer before the crash</span>`);
  items.push(`<span>${swatch(`<circle cx="13" cy="7" r="3" fill="#fff" stroke="${FLUSH_COLOR}" stroke-width="1.4"/>`)}reported durable (a flush covered its commit record)</span>`);
  items.push(`<span>${swatch(`<line x1="13" y1="1" x2="13" y2="13" stroke="${FLUSH_COLOR}" stroke-width="1.5"/>`)}a flush completed</span>`);
  items.push(`<span>${swatch(`<line x1="13" y1="0" x2="13" y2="14" stroke="${CRASH_COLOR}" stroke-width="2" stroke-dasharray="4 2"/>`)}the crash (power cut)</span>`);
  items.push(`<span>${swatch(`<rect x="2" y="2" width="22" height="10" fill="none" stroke="${VIOLATING_COLOR}" stroke-width="2.5"/>`)}named by the violation</span>`);
  return items.join('');
}

function violatingTable(v: ViolationReport): string {
  const rows = v.timeline.transactions
    .filter((x) => x.violating)
    .map((x) => {
      const entry = v.entries.find((e) => e.id === x.id);
      const ops = entry === undefined || entry.operations.length === 0 ? '' : `<details><summary>${entry.operations.length} operation(s)</summary><pre>${esc(JSON.stringify(entry.operations, null, 1))}</pre></details>`;
      return `<tr><td><b>${esc(entryLabel(x))}</b></td><td>${x.session}</td><td>${esc(x.result)}</td><td style="color:${FATE_COLORS[x.fate]}">${esc(x.fate)}</td><td>${x.csn ?? ''}</td><td>${x.lsn ?? ''}</td><td>${esc(optUs(x.beganAtUs))}</td><td>${esc(optUs(x.acknowledgedAtUs ?? x.rejectedAtUs))}</td><td>${esc(optUs(x.durableAtUs))}</td><td><pre>${esc(formatEntryData(x))}</pre>${ops}</td></tr>`;
    });
  return `<table><thead><tr><th>transaction</th><th>session</th><th>result</th><th>fate</th><th>CSN</th><th>LSN</th><th>began</th><th>answered</th><th>durable</th><th>ledger entry</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A step of 1, 2 or 5 x 10^k µs, at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function us(x: number): string {
  return `${Math.round(x).toLocaleString('en-US')} µs`;
}

function optUs(x: number | undefined): string {
  return x === undefined ? '' : us(x);
}

function f(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

