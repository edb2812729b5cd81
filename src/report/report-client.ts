// The script the report page runs in the browser: draws the six charts with Chart.js (inlined before it)
// from the JSON in <script id="report-data">, and exposes every Chart instance on window.motsimCharts
// (the browser test checks each has data). Plain ES2017 in a string: it is never run by Node.

export const MODE_COLORS: Readonly<Record<string, string>> = {
  synchronous: '#c8364a',
  group: '#2477b3',
  asynchronous: '#e39b1b',
  off: '#8d99ae',
};

export const REPORT_CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('report-data').textContent);
  var MODE = ${JSON.stringify(MODE_COLORS)};
  var SHORT = { synchronous: 'sync', group: 'group', asynchronous: 'async', off: 'off' };
  var INK = '#1f2933', GRID = 'rgba(31,41,51,0.08)';
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  Chart.defaults.font.size = 12;
  Chart.defaults.color = INK;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 14;
  window.motsimCharts = {};

  function make(id, config) {
    var chart = new Chart(document.getElementById(id), config);
    window.motsimCharts[id] = chart;
    return chart;
  }
  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }
  function fmt(x) {
    if (x >= 100) return Math.round(x).toLocaleString('en-US');
    return String(Math.round(x * 10) / 10);
  }
  function axis(title, extra) {
    var a = { title: { display: true, text: title, font: { weight: '600' } }, grid: { color: GRID } };
    for (var k in extra) a[k] = extra[k];
    return a;
  }
  function logTicks() {
    return { callback: function (v) { var e = Math.log10(v); return Math.abs(e - Math.round(e)) < 1e-9 || /^[25]/.test(String(v)) ? fmt(v) : ''; } };
  }
  function runLabel(r) { return [SHORT[r.mode] || r.mode, r.workload + ', ' + r.sessions + ' sess']; }
  function runName(r) { return (SHORT[r.mode] || r.mode) + ' ' + r.workload + ' ' + r.sessions + ' sess'; }

  // 1. Throughput against the disk ceiling, and latency percentiles.
  var runs = D.bench.runs;
  make('chart-throughput', {
    data: {
      labels: runs.map(runLabel),
      datasets: [
        { type: 'bar', label: 'commits/s', data: runs.map(function (r) { return r.commitsPerSec; }),
          backgroundColor: runs.map(function (r) { return alpha(MODE[r.mode] || '#888888', 0.85); }), borderWidth: 0, order: 2 },
        { type: 'line', label: "disk ceiling: " + fmt(D.bench.ceiling.commitsPerSec) + ' fdatasyncs/s', data: runs.map(function () { return D.bench.ceiling.commitsPerSec; }),
          borderColor: INK, borderDash: [6, 4], borderWidth: 2, pointRadius: 0, order: 1 },
      ],
    },
    options: {
      plugins: { legend: { labels: { filter: function (item) { return item.datasetIndex === 1; } } },
        tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + fmt(c.parsed.y); } } } },
      scales: { x: axis('run (mode, workload, sessions)', { grid: { display: false } }), y: axis('commits per second (log scale)', { type: 'logarithmic', ticks: logTicks() }) },
    },
  });
  make('chart-latency', {
    type: 'bar',
    data: {
      labels: runs.map(runLabel),
      datasets: [
        { label: 'p50', data: runs.map(function (r) { return r.latencyUs.p50; }), backgroundColor: runs.map(function (r) { return alpha(MODE[r.mode] || '#888888', 0.4); }) },
        { label: 'p99', data: runs.map(function (r) { return r.latencyUs.p99; }), backgroundColor: runs.map(function (r) { return alpha(MODE[r.mode] || '#888888', 0.95); }) },
      ],
    },
    options: {
      plugins: { legend: { labels: { generateLabels: function () {
        return [{ text: 'p50 (light)', fillStyle: 'rgba(31,41,51,0.3)', strokeStyle: 'transparent', datasetIndex: 0 },
                { text: 'p99 (dark)', fillStyle: 'rgba(31,41,51,0.9)', strokeStyle: 'transparent', datasetIndex: 1 }];
      } } }, tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + fmt(c.parsed.y) + ' µs'; } } } },
      scales: { x: axis('run (mode, workload, sessions)', { grid: { display: false } }), y: axis('commit latency, µs (log scale)', { type: 'logarithmic', ticks: logTicks() }) },
    },
  });

  // 2. Latency distribution: cumulative share of commits at or below each latency.
  make('chart-cdf', {
    type: 'line',
    data: {
      datasets: runs.map(function (r) {
        var total = r.latencyHistogram.reduce(function (n, b) { return n + b.count; }, 0) || 1;
        var acc = 0;
        var pts = r.latencyHistogram.map(function (b) { acc += b.count; return { x: b.upToUs, y: (100 * acc) / total }; });
        return { label: runName(r), data: pts, borderColor: MODE[r.mode] || '#888888', backgroundColor: MODE[r.mode] || '#888888',
          borderDash: r.workload === 'insert' ? (r.sessions === 1 ? [2, 3] : []) : [8, 4], pointRadius: 2.5, borderWidth: 2, tension: 0 };
      }),
    },
    options: {
      parsing: false,
      plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + fmt(c.parsed.y) + '% within ' + fmt(c.parsed.x) + ' µs'; } } } },
      scales: { x: axis('commit latency, µs (log scale)', { type: 'logarithmic', ticks: logTicks() }), y: axis('% of commits at or below', { min: 0, max: 100 }) },
    },
  });

  // 3. Group-commit timeline, one chart per socket.
  var T = D.timeline;
  var groupsById = {};
  T.groups.forEach(function (g) { groupsById[g.id] = g; });
  var tMaxMs = Math.max.apply(null, T.transactions.map(function (t) { return t.ackUs; })) / 1000;
  var tick = tMaxMs * 0.006;
  for (var s = 0; s < T.sockets; s++) {
    var txs = T.transactions.filter(function (t) { return t.socket === s; });
    var labels = txs.map(function (t) { var g = groupsById[t.groupId]; return 'tx ' + t.n + ' · group ' + t.groupId + ' (' + g.reason + ')'; });
    var seg = function (pick) { return txs.map(function (t) { var r = pick(t, groupsById[t.groupId]); return r ? [r[0] / 1000, r[1] / 1000] : null; }); };
    make('chart-timeline-' + s, {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          { label: 'waiting in its open group (closed by size)', data: seg(function (t, g) { return g.reason === 'size' ? [t.joinUs, g.closedUs] : null; }), backgroundColor: alpha(MODE.group, 0.55) },
          { label: 'waiting in its open group (closed by timeout)', data: seg(function (t, g) { return g.reason !== 'size' ? [t.joinUs, g.closedUs] : null; }), backgroundColor: 'rgba(227,155,27,0.7)' },
          { label: "the group's write + fdatasync (queued at the device)", data: seg(function (t, g) { return [g.loggedUs, g.durableUs]; }), backgroundColor: 'rgba(31,41,51,0.55)' },
          { label: 'waiting for earlier groups to be durable', data: seg(function (t, g) { return t.ackUs - g.durableUs > 1 ? [g.durableUs, t.ackUs] : null; }), backgroundColor: 'rgba(124,92,191,0.45)' },
          { label: 'acknowledged', data: txs.map(function (t) { return [t.ackUs / 1000, t.ackUs / 1000 + tick]; }), backgroundColor: '#2a9d5b' },
        ].map(function (d) { d.grouped = false; d.barPercentage = 0.9; d.categoryPercentage = 0.9; d.borderSkipped = false; return d; }),
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: s === 0, position: 'top' },
          tooltip: { callbacks: { label: function (c) { var v = c.raw; return c.dataset.label + ': ' + fmt(v[0]) + ' → ' + fmt(v[1]) + ' ms'; } } } },
        scales: {
          x: axis('virtual time since the first commit, ms (socket ' + s + ')', { min: 0, max: Math.ceil(tMaxMs), ticks: { stepSize: 1 } }),
          y: { grid: { display: false }, ticks: { font: { size: 11 } } },
        },
      },
    });
  }

  // 4. A crash per mode: acknowledged commits that survived recovery and those lost.
  var C = D.crash;
  var rowOf = {};
  C.runs.forEach(function (r, i) { rowOf[r.mode] = C.runs.length - 1 - i; });
  function crashPoints(outcomes) {
    var out = [];
    C.runs.forEach(function (r) {
      var sessions = [];
      r.points.forEach(function (p) { if (sessions.indexOf(p.session) < 0) sessions.push(p.session); });
      r.points.forEach(function (p) {
        if (outcomes.indexOf(p.outcome) < 0) return;
        var k = sessions.indexOf(p.session);
        out.push({ x: p.atUs / 1000, y: rowOf[r.mode] - 0.27 + (0.54 * k) / Math.max(1, sessions.length - 1) });
      });
    });
    return out;
  }
  var crashMs = C.runs[0].crashAtUs / 1000;
  var asyncRun = C.runs.filter(function (r) { return r.mode === 'asynchronous'; })[0];
  var crashSets = [
    { type: 'scatter', label: 'acknowledged, survived the crash', data: crashPoints(['survived']), backgroundColor: 'rgba(42,157,91,0.75)', pointRadius: 4 },
    { type: 'scatter', label: 'acknowledged, LOST in the crash', data: crashPoints(['lost']), backgroundColor: '#c8364a', borderColor: '#c8364a', pointStyle: 'crossRot', pointRadius: 7, borderWidth: 2.5 },
    { type: 'scatter', label: 'in flight at the crash (never acknowledged)', data: crashPoints(['in-flight-survived', 'in-flight-lost']), backgroundColor: 'rgba(255,255,255,0)', borderColor: 'rgba(31,41,51,0.6)', pointStyle: 'triangle', pointRadius: 5, borderWidth: 1.5 },
    { type: 'line', label: 'power cut at ' + fmt(crashMs) + ' ms', data: [{ x: crashMs, y: -0.6 }, { x: crashMs, y: C.runs.length - 0.4 }], borderColor: '#c8364a', borderWidth: 2.5, borderDash: [7, 4], pointRadius: 0 },
  ];
  if (asyncRun && asyncRun.lastDurableRoundStartUs !== null && asyncRun.lastDurableRoundStartUs !== undefined) {
    var y0 = rowOf.asynchronous;
    crashSets.push({ type: 'line', label: 'async: the last flush that completed took commits up to here', data: [{ x: asyncRun.lastDurableRoundStartUs / 1000, y: y0 - 0.45 }, { x: asyncRun.lastDurableRoundStartUs / 1000, y: y0 + 0.45 }],
      borderColor: MODE.asynchronous, borderWidth: 2.5, pointRadius: 0 });
  }
  make('chart-crash', {
    type: 'scatter',
    data: { datasets: crashSets },
    options: {
      plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ' at ' + fmt(c.parsed.x) + ' ms'; } } } },
      scales: {
        x: axis('virtual time since the workload started, ms (acknowledgement, or commit call if never acknowledged)', { min: 0 }),
        y: axis('logging mode', { min: -0.6, max: C.runs.length - 0.4, ticks: { stepSize: 1, callback: function (v) {
          for (var m in rowOf) if (rowOf[m] === v) return m; return '';
        } }, grid: { color: GRID } }),
      },
    },
  });

  // 5. Sweep of group_commit_size x group_commit_timeout (simulated).
  var W = D.sweep;
  var BLUES = ['#9cc3e6', '#4a90c9', '#1f5f99', '#0b3766'];
  function sweepSets(field) {
    return W.timeoutsUs.map(function (to, i) {
      return { label: 'group_commit_timeout ' + (to >= 1000 ? to / 1000 + ' ms' : to + ' µs'),
        data: W.sizes.map(function (sz) { var p = W.points.filter(function (q) { return q.groupCommitSize === sz && q.groupCommitTimeoutUs === to; })[0]; return p ? p[field] : null; }),
        borderColor: BLUES[i % BLUES.length], backgroundColor: BLUES[i % BLUES.length], pointRadius: 3.5, borderWidth: 2.2, tension: 0 };
    });
  }
  make('chart-sweep-throughput', {
    type: 'line',
    data: { labels: W.sizes.map(String), datasets: sweepSets('commitsPerSec') },
    options: { plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + fmt(c.parsed.y) + ' commits/s'; } } } },
      scales: { x: axis('group_commit_size (transactions per group)', {}), y: axis('commits per second (simulated)', { beginAtZero: true }) } },
  });
  make('chart-sweep-p99', {
    type: 'line',
    data: { labels: W.sizes.map(String), datasets: sweepSets('p99Us') },
    options: { plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': p99 ' + fmt(c.parsed.y) + ' µs'; } } } },
      scales: { x: axis('group_commit_size (transactions per group)', {}), y: axis('p99 commit latency, µs (log scale)', { type: 'logarithmic', ticks: logTicks() }) } },
  });

  // 6. Recovery time: checkpoint load + WAL replay.
  var R = D.recovery.points;
  make('chart-recovery', {
    type: 'bar',
    data: {
      labels: R.map(function (p) { return [p.label, 'WAL: ' + p.walTxReplayed.toLocaleString('en-US') + ' tx, ' + (p.walBytesReplayed / 1e6).toFixed(1) + ' MB']; }),
      datasets: [
        { label: 'checkpoint load', data: R.map(function (p) { return p.checkpointLoadMs; }), backgroundColor: 'rgba(22,138,133,0.8)' },
        { label: 'WAL replay', data: R.map(function (p) { return p.walReplayMs; }), backgroundColor: 'rgba(124,92,191,0.75)' },
      ],
    },
    options: {
      plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + fmt(c.parsed.y) + ' ms'; } } } },
      scales: { x: axis('database (same rows; history and checkpoint interval vary)', { stacked: true, grid: { display: false } }), y: axis('recovery time, ms', { stacked: true, beginAtZero: true }) },
    },
  });
  document.body.setAttribute('data-charts-ready', String(Object.keys(window.motsimCharts).length));
})();
`;
