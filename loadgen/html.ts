// A self-contained HTML report: every row of the summary table (the same figures, the same
// words), then latency-by-percentile charts (x on log10(1/(1−p)), as HdrHistogram plots) and
// throughput over time, as inline SVG. No external assets.

import { esc, lineChart, type Series } from './chart.ts';
import { summaryRows, type LoadgenReport } from './report.ts';

/** x = log10(1 / (1 − p/100)), so 90, 99, 99.9 … are evenly spaced. */
const nines = (p: number) => Math.log10(1 / Math.max(1e-6, 1 - p / 100));
const PERCENTILE_TICKS: Array<[number, string]> = [[0, '0%'], [1, '90%'], [2, '99%'], [3, '99.9%'], [4, '99.99%'], [5, '99.999%']];

const STYLE = `body{font-family:sans-serif;margin:1.5em auto;max-width:1400px;padding:0 1.5em;color:#222}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.25em .8em .25em 0;border-bottom:1px solid #eee}
th{white-space:nowrap}tr.warn td,tr.warn th{color:#a40}figure{margin:2em 0}figcaption{font-weight:bold;font-size:1.1em}
svg{width:100%;height:auto;display:block}ul.legend{list-style:none;padding:0;margin:.4em 0;display:flex;flex-wrap:wrap;gap:.4em 1.6em}
.swatch{display:inline-block;width:1.6em;height:.3em;vertical-align:middle;margin-right:.4em}.empty{color:#777}`;

/** The latency curve without its 100th percentile (the max, at x = ∞). */
function curve(points: Array<[number, number]> | undefined, count: number | undefined): Array<[number, number]> {
  if (points === undefined || !count) return [];
  return points.filter(([p]) => p < 100).map(([p, ms]): [number, number] => [nines(p), ms]);
}

export function renderHtml(r: LoadgenReport): string {
  const c = r.config;
  const l = r.latencyMs;
  const latency: Series[] = [
    { name: 'ack (scheduled send → HTTP answer)', points: curve(r.curves.ack, l.ack.count) },
    { name: 'push (update.ts → received)', points: curve(r.curves.push, l.push.count) },
  ];
  const empty: Record<string, string> = {};
  if (l.push.count === 0) empty[latency[1].name] = c.subscribers === 0 ? 'this run had no subscribers' : 'no update was received';
  if (r.desks) {
    latency.push({ name: 'request → offer', points: curve(r.curves.offer, l.offer?.count) }, { name: 'accept → assigned', points: curve(r.curves.assign, l.assign?.count) });
    if (l.chat) latency.push({ name: 'chat relay', points: curve(r.curves.chat, l.chat.count) });
  }
  if (r.firstContact) latency.push({ name: 'first response (request → first answer its customer saw)', points: curve(r.firstContact.firstResponseCurve, r.firstContact.firstResponseMs.count) });
  if (r.orders) latency.push({ name: 'order ack', points: curve(r.curves.orderAck, l.orderAck?.count) }, { name: 'order push (to its customer)', points: curve(r.curves.orderPush, l.orderPush?.count) });
  const t = r.timeline;
  const perSecond = (name: string, pick: (p: LoadgenReport['timeline'][number]) => number, total: number, why: string): Series => {
    if (total === 0) empty[name] = why;
    return { name, points: total === 0 ? [] : t.map((p) => [p.t, pick(p)]) };
  };
  const throughput = [
    perSecond('events sent/s', (p) => p.sent, r.sent, 'nothing was sent'),
    perSecond('events acked/s', (p) => p.acked, r.acked, 'nothing was acked'),
    perSecond('messages pushed/s', (p) => p.received, r.received, c.subscribers === 0 ? 'this run had no subscribers' : 'no update was received'),
  ];
  const rows = summaryRows(r)
    .map(([k, v]) => `<tr${k === 'warning' || k === 'first failure' ? ' class="warn"' : ''}><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>omni loadgen report</title>
<style>${STYLE}</style>
</head><body>
<h1>omni loadgen</h1>
<p>${esc(c.url)} · scenario ${esc(c.scenario)} · finished ${esc(r.finishedAt)}</p>
<table>
${rows}
</table>
${lineChart({ title: 'Latency by percentile', series: latency, xTicks: PERCENTILE_TICKS, xLabel: 'percentile', yLabel: 'ms (log scale)', logY: true, empty })}
${lineChart({ title: 'Throughput per second', series: throughput, xLabel: 'seconds since the start', yLabel: 'per second', empty })}
</body></html>
`;
}
