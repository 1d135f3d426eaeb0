// The ops page's charts: /metrics (Prometheus text, unauthenticated) read every few seconds,
// turned into rates and averages, and drawn as small inline SVG lines — no charting library,
// nothing loaded from elsewhere.

import { el } from './page.ts';

/** Sums every sample of each metric name over its labels: `omni_events_total{…} 12` → totals. */
export function sumMetrics(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) totals.set(match[1], (totals.get(match[1]) ?? 0) + value);
  }
  return totals;
}

export interface Chart {
  root: HTMLElement;
  push(value: number): void;
}

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 100;

/** A line of the last `points` values, scaled to its own maximum; the caption shows the latest. */
export function lineChart(title: string, unit: string, points: number, testid: string, decimals = 2): Chart {
  const values: number[] = [];
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title} over the last minutes`);
  const line = document.createElementNS(SVG, 'polyline');
  svg.append(line);
  const now = el('span', { 'data-testid': `${testid}-now` }, '…');
  const peak = el('span', { class: 'muted' });
  const root = el('figure', { class: 'card chart', 'data-testid': testid }, el('figcaption', {}, el('strong', {}, title), ': ', now, ` ${unit} `, peak), svg);
  return {
    root,
    push(value) {
      values.push(value);
      if (values.length > points) values.shift();
      const max = Math.max(...values, 1e-9);
      // The line spans the width from the first point kept; the time axis is the last `points` samples.
      const step = WIDTH / Math.max(1, values.length - 1);
      line.setAttribute('points', values.map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - (v / max) * (HEIGHT - 4) - 2).toFixed(1)}`).join(' '));
      const format = (v: number) => (v < 10 ? v.toFixed(decimals) : v.toFixed(0));
      now.textContent = format(value);
      peak.textContent = `(peak ${format(max)})`;
    },
  };
}
