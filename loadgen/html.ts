// A self-contained HTML report: the figures, a latency-by-percentile chart (log scale on
// 1/(1−p), as HdrHistogram plots) and throughput over time, as inline SVG. No external assets.

import type { LoadgenReport } from './report.ts';

const W = 640;
const H = 260;
const PAD = { l: 56, r: 16, t: 16, b: 36 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c'];

interface Series {
  name: string;
  points: Array<[number, number]>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));

/** A line chart; `xTicks` are [value, label] in the chart's x units. */
export function lineChart(title: string, series: Series[], xTicks: Array<[number, string]>, yLabel: string): string {
  const all = series.flatMap((s) => s.points);
  const xMin = Math.min(...all.map((p) => p[0]), ...xTicks.map((t) => t[0]));
  const xMax = Math.max(...all.map((p) => p[0]), ...xTicks.map((t) => t[0]), xMin + 1);
  const yMax = Math.max(...all.map((p) => p[1]), 1e-9) * 1.1;
  const x = (v: number) => PAD.l + ((v - xMin) / (xMax - xMin || 1)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(f * yMax)}" y2="${y(f * yMax)}" stroke="#ddd"/><text x="${PAD.l - 6}" y="${y(f * yMax) + 4}" text-anchor="end">${fmt(f * yMax)}</text>`)
    .join('');
  const ticks = xTicks.map(([v, label]) => `<text x="${x(v)}" y="${H - PAD.b + 16}" text-anchor="middle">${esc(label)}</text>`).join('');
  const lines = series
    .map((s, i) => {
      const d = s.points.map(([a, b], k) => `${k === 0 ? 'M' : 'L'}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/><text x="${W - PAD.r - 4}" y="${PAD.t + 14 * (i + 1)}" text-anchor="end" fill="${COLORS[i % COLORS.length]}">${esc(s.name)}</text>`;
    })
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">${grid}${ticks}${lines}<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">${esc(yLabel)}</text></svg></figure>`;
}

/** x = log10(1 / (1 − p/100)), so 90, 99, 99.9 … are evenly spaced. */
const nines = (p: number) => Math.log10(1 / Math.max(1e-6, 1 - p / 100));

export function renderHtml(r: LoadgenReport): string {
  const curve = (points: Array<[number, number]>) => points.filter(([p]) => p < 100).map(([p, ms]): [number, number] => [nines(p), ms]);
  const latency = lineChart(
    'Latency by percentile (ms)',
    [
      { name: 'ack (scheduled send → HTTP answer)', points: curve(r.curves.ack) },
      { name: 'push (update.ts → received)', points: curve(r.curves.push) },
    ],
    [[0, '0%'], [1, '90%'], [2, '99%'], [3, '99.9%'], [4, '99.99%'], [5, '99.999%']],
    'ms',
  );
  const t = r.timeline;
  const throughput = lineChart(
    'Throughput per second',
    [
      { name: 'events sent/s', points: t.map((p) => [p.t, p.sent]) },
      { name: 'events acked/s', points: t.map((p) => [p.t, p.acked]) },
      { name: 'messages pushed/s', points: t.map((p) => [p.t, p.received]) },
    ],
    t.filter((_, i) => i % Math.max(1, Math.ceil(t.length / 10)) === 0).map((p) => [p.t, `${p.t.toFixed(0)} s`]),
    'per second',
  );
  const row = (k: string, v: string) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`;
  const lat = (p: LoadgenReport['latencyMs']['ack']) => `p50 ${fmt(p.p50)} · p99 ${fmt(p.p99)} · p99.9 ${fmt(p.p999)} · max ${fmt(p.max)} ms (n=${p.count})`;
  const c = r.config;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>omni loadgen report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}th{text-align:left;padding-right:1em;vertical-align:top}figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}.warn{color:#a40}</style>
</head><body>
<h1>omni loadgen</h1>
<p>${esc(c.url)} · scenario ${esc(c.scenario)} · ${c.rate} events/s for ${c.durationS} s · ${c.subscribers} subscribers · ${esc(c.format)} · finished ${esc(r.finishedAt)}</p>
<table>
${row('events', `sent ${r.sent}, acked ${r.acked}, errors ${r.errors}, never sent ${r.unsent}`)}
${row('throughput', `${fmt(r.eventsPerS)} events/s acked, ${fmt(r.messagesPerS)} messages/s pushed (${r.received} in ${r.durationS} s)`)}
${row('ack latency', lat(r.latencyMs.ack))}
${row('push latency', lat(r.latencyMs.push))}
${row('loadgen CPU', `${(r.loadgenCpu * 100).toFixed(0)}% of a core`)}
${row('load average', `${r.loadAverage.start} → ${r.loadAverage.end}`)}
</table>
${r.warnings.map((w) => `<p class="warn">⚠ ${esc(w)}</p>`).join('\n')}
${latency}
${throughput}
</body></html>
`;
}
