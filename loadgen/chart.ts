// Line charts as inline SVG for the HTML report: round axis ticks (1, 2, 5 × 10^k), a linear or
// logarithmic y axis, and the legend outside the plot, so it never hides a line. The SVG scales
// to the width of the page. A series without points is not drawn (a flat line at zero would
// claim measurements that were never made): the caption names it instead.

const W = 1000;
const H = 340;
const PAD = { l: 70, r: 40, t: 14, b: 44 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

export interface ChartSpec {
  title: string;
  series: Series[];
  /** x ticks as [value, label]; default: round values over the data's range. */
  xTicks?: Array<[number, string]>;
  xLabel: string;
  yLabel: string;
  /** Logarithmic y axis (for latencies spanning decades). */
  logY?: boolean;
  /** Why a series has no points, by name (shown instead of a line). */
  empty?: Record<string, string>;
}

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A round step (1, 2, 2.5 or 5 × 10^k) that cuts `span` into at most `most` pieces. */
function niceStep(span: number, most: number): number {
  if (!(span > 0)) return 1;
  const raw = span / most;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** Round ticks from 0 (or below `min`) up to at least `max`. */
function linearTicks(min: number, max: number, most = 6): number[] {
  const step = niceStep(max - Math.min(0, min), most);
  const start = Math.floor(Math.min(0, min) / step) * step;
  const ticks: number[] = [];
  for (let v = start; v < max + step * 0.999; v += step) ticks.push(Math.round(v / step) * step);
  if (ticks.length < 2) ticks.push(start + step);
  return ticks;
}

/** 1, 2, 5 per decade over [lo, hi] (only powers of ten when that would be more than `most`). */
function logTicks(lo: number, hi: number, most = 10): number[] {
  const from = Math.floor(Math.log10(lo));
  const to = Math.max(from + 1, Math.ceil(Math.log10(hi)));
  const multipliers = (to - from) * 3 + 1 <= most ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let d = from; d <= to; d++) for (const m of multipliers) if (d < to || m === 1) ticks.push(m * 10 ** d);
  return ticks;
}

/** A tick label: thousands separated, decimals only as far as the value needs. */
function tickLabel(v: number): string {
  if (v === 0) return '0';
  const digits = Math.max(0, Math.min(3, -Math.floor(Math.log10(Math.abs(v)) + 1e-9)));
  return v.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits + 1 });
}

export function lineChart(c: ChartSpec): string {
  const drawn = c.series.filter((s) => s.points.length > 0);
  const all = drawn.flatMap((s) => s.points);
  const legend = [
    ...drawn.map((s) => `<li><span class="swatch" style="background:${COLORS[c.series.indexOf(s) % COLORS.length]}"></span>${esc(s.name)}</li>`),
    ...c.series.filter((s) => s.points.length === 0).map((s) => `<li class="empty">${esc(s.name)}: not drawn, ${esc(c.empty?.[s.name] ?? 'no samples')}</li>`),
  ].join('');
  const head = `<figure><figcaption>${esc(c.title)}</figcaption><ul class="legend">${legend}</ul>`;
  if (all.length === 0) return `${head}<p class="empty">No data.</p></figure>`;

  const xs = c.xTicks?.map((t) => t[0]) ?? [];
  const xMin = Math.min(...all.map((p) => p[0]), ...xs);
  const xMax = Math.max(...all.map((p) => p[0]), ...xs, xMin + 1e-9);
  const xTicks = c.xTicks ?? linearTicks(xMin, xMax, 10).filter((v) => v >= xMin && v <= xMax).map((v): [number, string] => [v, tickLabel(v)]);
  const x = (v: number) => PAD.l + ((v - xMin) / (xMax - xMin)) * (W - PAD.l - PAD.r);

  const ys = all.map((p) => p[1]);
  let yTicks: number[];
  let y: (v: number) => number;
  const plotH = H - PAD.t - PAD.b;
  if (c.logY) {
    const positive = ys.filter((v) => v > 0);
    yTicks = logTicks(Math.min(...positive, 1), Math.max(...positive, 1));
    const lo = Math.log10(yTicks[0]);
    const hi = Math.log10(yTicks[yTicks.length - 1]);
    // Zero cannot sit on a log axis: it is drawn on the lowest tick.
    y = (v) => H - PAD.b - ((Math.log10(Math.max(v, yTicks[0])) - lo) / (hi - lo)) * plotH;
  } else {
    yTicks = linearTicks(Math.min(0, ...ys), Math.max(...ys));
    const lo = yTicks[0];
    const hi = yTicks[yTicks.length - 1];
    y = (v) => H - PAD.b - ((v - lo) / (hi - lo)) * plotH;
  }

  const grid = yTicks
    .map((v) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e3e3"/><text x="${PAD.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${tickLabel(v)}</text>`)
    .join('');
  const xAxis = xTicks
    .map(([v, label]) => `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${H - PAD.b}" y2="${H - PAD.b + 4}" stroke="#888"/><text x="${x(v).toFixed(1)}" y="${H - PAD.b + 17}" text-anchor="middle">${esc(label)}</text>`)
    .join('');
  const lines = drawn
    .map((s) => {
      const d = s.points.map(([a, b], k) => `${k === 0 ? 'M' : 'L'}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join('');
      const color = COLORS[c.series.indexOf(s) % COLORS.length];
      const dot = s.points.length === 1 ? `<circle cx="${x(s.points[0][0]).toFixed(1)}" cy="${y(s.points[0][1]).toFixed(1)}" r="3" fill="${color}"/>` : '';
      return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>${dot}`;
    })
    .join('');
  const axes = `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}" stroke="#888"/><line x1="${PAD.l}" x2="${PAD.l}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#888"/>`;
  const labels = `<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 6}" text-anchor="middle">${esc(c.xLabel)}</text><text x="16" y="${(PAD.t + H - PAD.b) / 2}" transform="rotate(-90 16 ${(PAD.t + H - PAD.b) / 2})" text-anchor="middle">${esc(c.yLabel)}</text>`;
  return `${head}<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMidYMid meet" font-size="13" font-family="sans-serif">${grid}${axes}${xAxis}${lines}${labels}</svg></figure>`;
}
