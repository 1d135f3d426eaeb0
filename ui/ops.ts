// /ui/ops — a supervisor's view: every service queue (`queue/<topic>`, the topics found with
// GET /v1/queues and looked for again every few seconds), alerts as they come (`alerts/stock`,
// `alerts/service`), the last hour's order figures by channel (`stats/commerce`) and service
// figures by topic (`stats/service`), and charts of the last five minutes — events/s, commit latency and open
// WebSocket connections — from /metrics.

import type { OmniClient } from '../client/mod.ts';
import { commerceSection } from './shared/commerce-table.ts';
import { serviceFiguresSection } from './shared/service-figures.ts';
import { lineChart, sumMetrics } from './shared/metrics-chart.ts';
import { el, getJson, mountPage, readClaims, readToken, showTokenNeeded, startClient } from './shared/page.ts';

interface QueueState { topic: string; waiting: number; offered: number; longestWaitMs: number; asOf: number; agentsAvailable: number; slaBreaches: number }
interface Alert { type: string; sku?: string; location?: string; available?: number; threshold?: number; onHand?: number; request?: string; topic?: string; waitedMs?: number; order?: string }

const POLL_MS = 2000;
const CHART_POINTS = 150; // 5 minutes at one point per 2 s

// Charts cover the last 5 minutes the page has seen (from when it was opened; /metrics holds
// counters, not history).
const MAX_ALERTS = 100;

const token = readToken();
const claims = token === undefined ? undefined : readClaims(token);
const { main, connection } = mountPage('Operations');

if (token === undefined || (claims?.role !== 'supervisor' && claims?.role !== 'admin')) {
  showTokenNeeded(main, 'supervisor or admin', 'npx omni token --role supervisor --sub SUPERVISOR --url');
} else {
  const client = startClient(connection, token);
  const queues = el('ul', { class: 'queues', 'aria-label': 'Queues by topic' });
  const noQueues = el('p', { class: 'muted' }, 'No service topics yet.');
  const alerts = el('ol', { class: 'alerts', 'aria-live': 'polite', 'aria-label': 'Alerts, newest first' });
  const charts = { events: lineChart('Events', 'per second', CHART_POINTS, 'chart-events'), latency: lineChart('Commit latency', 'ms (mean)', CHART_POINTS, 'chart-latency'), connections: lineChart('WebSocket connections', 'open', CHART_POINTS, 'chart-connections', 0) };
  main.append(
    el('section', { 'aria-labelledby': 'queues-title' }, el('h2', { id: 'queues-title' }, 'Queues'), noQueues, queues),
    el('section', { 'aria-labelledby': 'alerts-title' }, el('h2', { id: 'alerts-title' }, 'Alerts'), alerts),
    serviceFiguresSection(client),
    commerceSection(client),
    el('div', { class: 'grid' }, charts.events.root, charts.latency.root, charts.connections.root),
  );
  followQueues(client, token, queues, noQueues);
  for (const topic of ['alerts/stock', 'alerts/service']) {
    client.subscribe(topic, {
      onSnapshot: () => undefined,
      onUpdate(data) {
        const alert = data as Alert;
        alerts.prepend(el('li', { 'data-testid': 'alert', 'data-type': alert.type, class: topic === 'alerts/service' ? 'service' : 'stock' }, `${new Date().toLocaleTimeString()} — ${describeAlert(alert)}`));
        while (alerts.children.length > MAX_ALERTS) alerts.lastElementChild?.remove();
      },
    });
  }
  followMetrics(charts);
}

function describeAlert(a: Alert): string {
  if (a.type === 'low_stock') return `Low stock: ${a.sku} at ${a.location}, ${a.available} available (threshold ${a.threshold})`;
  if (a.type === 'discrepancy') return `Stock discrepancy: ${a.sku} at ${a.location}, on hand ${a.onHand}`;
  if (a.type === 'pickup_expired') return `Pickup not collected: order ${a.order} at ${a.location}`;
  if (a.type === 'sla') return `SLA breach: request ${a.request} (${a.topic}) waited ${Math.round((a.waitedMs ?? 0) / 1000)} s`;
  return `${a.type}: ${JSON.stringify(a)}`;
}

function followQueues(client: OmniClient, token: string, list: HTMLElement, empty: HTMLElement): void {
  const items = new Map<string, HTMLElement>();
  const watch = (topic: string) => {
    if (items.has(topic)) return;
    const item = el('li', { 'data-testid': 'queue', 'data-topic': topic }, `${topic}: …`);
    items.set(topic, item);
    list.append(item);
    empty.hidden = true;
    let latest: QueueState | null = null;
    const draw = () => {
      const q = latest;
      if (q === null) return void (item.textContent = `${topic}: 0 waiting`);
      // The oldest wait is as of the topic's last change (asOf): brought forward to now, so a
      // queue nobody touches still shows its wait growing.
      const waitedMs = q.waiting > 0 ? q.longestWaitMs + Math.max(0, Date.now() - q.asOf) : 0;
      item.replaceChildren(el('strong', {}, topic), `: ${q.waiting} waiting · ${q.offered} offered · oldest ${Math.round(waitedMs / 1000)} s · ${q.agentsAvailable} agents · ${q.slaBreaches} SLA breaches`);
    };
    const receive = (data: unknown) => {
      latest = data as QueueState | null;
      draw();
    };
    client.subscribe(`queue/${topic}`, { onSnapshot: receive, onUpdate: receive });
    setInterval(draw, 1000);
  };
  const discover = () =>
    getJson<Record<string, QueueState>>('/v1/queues', token).then(
      (all) => Object.keys(all).sort().forEach(watch),
      () => undefined, // the next round tries again; the connection badge shows an outage
    );
  void discover();
  setInterval(discover, POLL_MS * 2);
}

function followMetrics(charts: Record<'events' | 'latency' | 'connections', ReturnType<typeof lineChart>>): void {
  let last: { at: number; events: number; commitSum: number; commitCount: number } | undefined;
  const poll = async () => {
    const response = await fetch('/metrics');
    if (!response.ok) return;
    const totals = sumMetrics(await response.text());
    const now = { at: performance.now(), events: totals.get('omni_events_total') ?? 0, commitSum: totals.get('omni_commit_seconds_sum') ?? 0, commitCount: totals.get('omni_commit_seconds_count') ?? 0 };
    if (last !== undefined) {
      const seconds = Math.max(0.001, (now.at - last.at) / 1000);
      const commits = now.commitCount - last.commitCount;
      charts.events.push(Math.max(0, now.events - last.events) / seconds);
      charts.latency.push(commits > 0 ? ((now.commitSum - last.commitSum) / commits) * 1000 : 0);
    }
    charts.connections.push(totals.get('omni_ws_connections') ?? 0);
    last = now;
  };
  const loop = () => poll().catch(() => undefined).finally(() => setTimeout(loop, POLL_MS));
  loop();
}
