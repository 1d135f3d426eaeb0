// The loadgen report: its JSON shape (the headline figures, plus the details behind them), and
// the summary rows, printed as a table at the end and shown in the HTML report.

import { describeCleanup, type CleanupReport } from './cleanup.ts';
import { LatencyRecorder, type LatencyMs } from './latency.ts';
import type { IngestCounts } from './ingest.ts';
import { DEFAULT_CHAT_MESSAGES, type LoadgenOptions } from './options.ts';
import type { PoolFinal } from './subscriber-pool.ts';
import type { DeskFinal } from './desk-group.ts';
import { noFollowers, type OrderFollowFinal } from './order-followers.ts';
import { orderLatencies, orderRows, type OrderEvents, type OrdersSection } from './order-report.ts';
import { firstContactRows, type FirstContactSection } from './service-report.ts';

/** One second of the run, for the progress line and the throughput chart. */
export interface TimelinePoint {
  /** Seconds since the schedule started. */
  t: number;
  sent: number;
  acked: number;
  received: number;
  ackP50: number;
  ackP99: number;
  pushP99: number;
  /** Errors so far. */
  errors: number;
  inFlight: number;
  connected: number;
}

export type Percentiles = Omit<LatencyMs, 'count'>;

export interface LoadgenReport {
  sent: number;
  acked: number;
  errors: number;
  received: number;
  durationS: number;
  eventsPerS: number;
  messagesPerS: number;
  /** `received` per topic family: `stock`, `kiosk`, `recs`, … */
  receivedByFamily: Record<string, number>;
  latencyMs: {
    ack: Percentiles & { count: number };
    push: Percentiles & { count: number };
    /** Service scenario only: request scheduled → its first offer received by a desk. */
    offer?: Percentiles & { count: number };
    /** Service scenario only: a desk's accept sent → its `assigned` received. */
    assign?: Percentiles & { count: number };
    /** Service scenario with chat only: a chat `message` op sent → its receipt on the other side, both ways. */
    chat?: Percentiles & { count: number };
    /** Omnichannel with orders: an `order.*` event's scheduled send → its answer. */
    orderAck?: Percentiles & { count: number };
    /** Omnichannel with orders: an `order/<id>` update's ts → received by the order's customer. */
    orderPush?: Percentiles & { count: number };
    /** Omnichannel with orders: an `order.placed`'s scheduled send → its customer's first `order/<id>` snapshot. */
    orderSeen?: Percentiles & { count: number };
  };
  loadgenCpu: number;
  /** The prefix every name this run wrote starts with. */
  idPrefix: string;
  /** What the cleanup took back and what stays; absent with --no-cleanup. */
  cleanup?: CleanupReport;
  /** Everything else: the settings and the details behind the figures. */
  config: { url: string; scenario: string; rate: number; durationS: number; subscribers: number; skus: number; batch: number; format: string; connections: number };
  unsent: number;
  requests: number;
  failedRequests: number;
  errorCodes: Record<string, number>;
  firstFailure?: string;
  snapshots: number;
  subscriberErrors: number;
  /** State-topic seq jumps: updates the server conflated for a subscriber that fell behind. */
  conflated: number;
  /** Seqs that went backwards, repeated, or skipped on an event topic: a server bug if ever > 0. */
  seqErrors: number;
  /** The first distinct subscriber error messages. */
  subscriberErrorSamples: string[];
  subscriberWorkers: number;
  /** Service scenario only: what the agent desks did. */
  desks?: DeskCounts;
  /** Runs with orders: the order events' answers and what the customers following them saw. */
  orders?: OrdersSection;
  /** Service scenario with --first-contact: what the customers saw and did, and the server's figures. */
  firstContact?: FirstContactSection;
  overloadedTicks: number;
  maxWaiting: number;
  /** How late the schedule's own ticks ran (the load generator's event-loop stalls). */
  tickLagMs: Percentiles;
  loadAverage: { start: number; end: number };
  /** Latency (ms) by percentile; offer, assign and chat in the service scenario. */
  curves: { ack: Array<[number, number]>; push: Array<[number, number]>; offer?: Array<[number, number]>; assign?: Array<[number, number]>; chat?: Array<[number, number]>; orderAck?: Array<[number, number]>; orderPush?: Array<[number, number]> };
  timeline: TimelinePoint[];
  warnings: string[];
  finishedAt: string;
}

export type DeskCounts = Omit<DeskFinal, 'offer' | 'assign' | 'chatLatency'>;

export interface ReportInput {
  options: LoadgenOptions;
  scenario: string;
  counts: IngestCounts;
  ack: LatencyRecorder;
  push: LatencyRecorder;
  subs: PoolFinal;
  wallMs: number;
  loadgenCpu: number;
  tickLag: LatencyRecorder;
  timeline: TimelinePoint[];
  warnings: string[];
  loadAverage: [number, number];
  idPrefix: string;
  /** Subscribers the scenario connected (the service scenario has none, whatever --subscribers says). */
  subscribers: number;
  desks?: DeskFinal;
  cleanup?: CleanupReport;
  /** Runs with order events; `followers` absent when nobody followed them (no secret). */
  orders?: OrderEvents;
  followers?: OrderFollowFinal;
  firstContact?: FirstContactSection;
}

/** Percentiles of the latency curves (50 … 99.999). */
export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100];

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function buildReport(i: ReportInput): LoadgenReport {
  const o = i.options;
  const durationS = i.wallMs / 1000;
  const { count: _c, ...tickLag } = i.tickLag.summary();
  const chat = i.desks !== undefined && (o.chatMessages ?? DEFAULT_CHAT_MESSAGES) > 0 ? i.desks.chatLatency : undefined;
  const follow = i.followers ?? noFollowers();
  return {
    sent: i.counts.sent,
    acked: i.counts.acked,
    errors: i.counts.errors,
    received: i.subs.received,
    durationS: r3(durationS),
    eventsPerS: r3(i.counts.acked / durationS),
    messagesPerS: r3(i.subs.received / durationS),
    receivedByFamily: i.subs.receivedByFamily ?? {},
    latencyMs: { ack: i.ack.summary(), push: i.push.summary(), ...(i.desks ? { offer: i.desks.offer.summary(), assign: i.desks.assign.summary(), ...(chat ? { chat: chat.summary() } : {}) } : {}), ...(i.orders ? orderLatencies(i.orders, follow) : {}) },
    loadgenCpu: r3(i.loadgenCpu),
    idPrefix: i.idPrefix,
    ...(i.cleanup ? { cleanup: i.cleanup } : {}),
    config: { url: o.url, scenario: i.scenario === 'stock' ? 'stock' : o.scenario, rate: o.rate, durationS: o.durationS, subscribers: i.subscribers, skus: o.skus, batch: o.batch, format: o.format, connections: o.connections },
    unsent: i.counts.unsent,
    requests: i.counts.requests,
    failedRequests: i.counts.failedRequests,
    errorCodes: i.counts.errorCodes,
    ...(i.counts.firstFailure === undefined ? {} : { firstFailure: i.counts.firstFailure }),
    snapshots: i.subs.snapshots,
    subscriberErrors: i.subs.errors,
    conflated: i.subs.conflated ?? 0,
    seqErrors: i.subs.seqErrors ?? 0,
    subscriberErrorSamples: i.subs.errorSamples ?? [],
    subscriberWorkers: i.subs.workers,
    ...(i.desks ? { desks: deskCounts(i.desks) } : {}),
    ...(i.orders ? { orders: i.orders.section(follow) } : {}),
    ...(i.firstContact ? { firstContact: i.firstContact } : {}),
    overloadedTicks: i.counts.overloadedTicks,
    maxWaiting: i.counts.maxWaiting,
    tickLagMs: tickLag,
    loadAverage: { start: r3(i.loadAverage[0]), end: r3(i.loadAverage[1]) },
    curves: {
      ack: i.ack.curve(CURVE_PERCENTILES),
      push: i.push.curve(CURVE_PERCENTILES),
      ...(i.desks ? { offer: i.desks.offer.curve(CURVE_PERCENTILES), assign: i.desks.assign.curve(CURVE_PERCENTILES) } : {}),
      ...(chat ? { chat: chat.curve(CURVE_PERCENTILES) } : {}),
      ...(i.orders ? { orderAck: i.orders.ack.curve(CURVE_PERCENTILES), orderPush: follow.push.curve(CURVE_PERCENTILES) } : {}),
    },
    timeline: i.timeline,
    warnings: i.warnings,
    finishedAt: new Date().toISOString(),
  };
}

function deskCounts({ offer: _o, assign: _a, chatLatency: _c, ...counts }: DeskFinal): DeskCounts {
  return counts;
}

/** The headline fields every report has, for checking one. */
export const REQUIRED_FIELDS = ['sent', 'acked', 'errors', 'received', 'durationS', 'eventsPerS', 'messagesPerS', 'latencyMs', 'loadgenCpu'] as const;

const count = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The summary as (label, text) rows: the table printed at the end, and the HTML report's table. */
export function summaryRows(r: LoadgenReport): Array<[string, string]> {
  const n = count;
  const rows: Array<[string, string]> = [
    ['target', `${r.config.url}, scenario ${r.config.scenario}, ${n(r.config.rate)} events/s for ${r.config.durationS} s, ${n(r.config.subscribers)} subscribers, ${r.config.format}, names ${r.idPrefix}-*`],
    ['events', `sent ${n(r.sent)}, acked ${n(r.acked)}, errors ${n(r.errors)}${r.unsent ? `, never sent ${n(r.unsent)}` : ''}${Object.keys(r.errorCodes).length ? ` ${JSON.stringify(r.errorCodes)}` : ''}`],
    ['throughput', `${n(r.eventsPerS)} events/s acked, ${n(r.messagesPerS)} messages/s pushed (${n(r.received)} in ${r.durationS.toFixed(1)} s${byFamily(r.receivedByFamily)})`],
    ['ack latency', percentiles(r.latencyMs.ack)],
    ['push latency', percentiles(r.latencyMs.push)],
  ];
  if (r.desks) {
    const d = r.desks;
    rows.push(['offer latency', percentiles(r.latencyMs.offer!)], ['assign latency', percentiles(r.latencyMs.assign!)]);
    if (r.latencyMs.chat) rows.push(['chat latency', percentiles(r.latencyMs.chat)]);
    rows.push(['desks', `${n(d.ready)}/${n(d.desks)} connected, ${n(d.requestsOffered)} requests offered (${n(d.offers)} offers, ${n(d.revoked)} revoked), ${n(d.assigned)} assigned, ${n(d.completed)} completed${d.endedByCustomer ? `, ${n(d.endedByCustomer)} resolved by their customer first` : ''}, ${n(d.errors)} errors`]);
    if (r.latencyMs.chat) rows.push(['chat', `${n(d.chat.toCustomer)} messages to customers, ${n(d.chat.toAgent)} to agents, ${n(d.chat.skipped)} assigned requests without a free customer connection`]);
  }
  if (r.orders) rows.push(...orderRows(r.orders, r.latencyMs, percentiles));
  if (r.firstContact) rows.push(...firstContactRows(r.firstContact));
  rows.push(
    ['subscribers', `${n(r.snapshots)} snapshots, ${n(r.conflated)} seq jumps (conflated), ${n(r.seqErrors)} seq errors, ${n(r.subscriberErrors)} errors`],
    ['loadgen', `CPU ${(r.loadgenCpu * 100).toFixed(0)}% of a core, tick lag p99 ${ms(r.tickLagMs.p99)} ms, ${r.subscriberWorkers} subscriber workers, load average ${r.loadAverage.start} → ${r.loadAverage.end}`],
  );
  if (r.cleanup) rows.push(['cleanup', describeCleanup(r.cleanup)]);
  if (r.firstFailure) rows.push(['first failure', r.firstFailure]);
  for (const w of r.warnings) rows.push(['warning', w]);
  return rows;
}

/** The summary table printed on stdout at the end. */
export function summaryTable(r: LoadgenReport): string {
  const rows = summaryRows(r);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** `: stock 1,200, kiosk 30` once more than one family was received. */
function byFamily(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {});
  return entries.length > 1 ? `: ${entries.map(([family, c]) => `${family} ${count(c)}`).join(', ')}` : '';
}

function percentiles(p: Percentiles & { count: number }): string {
  if (p.count === 0) return 'no samples';
  return `p50 ${ms(p.p50)} ms, p99 ${ms(p.p99)} ms, p99.9 ${ms(p.p999)} ms, max ${ms(p.max)} ms (n=${p.count.toLocaleString('en-US')})`;
}
