// Prometheus metrics for GET /metrics. The engine's counters are read when scraped and its batch
// figures arrive once per committed batch, so serving metrics adds no work per event. Each
// gateway has its own Registry: several gateways (tests) in one process must not collide.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Budget } from '../budget.ts';
import type { EngineStats } from '../../engine/mod.ts';
import type { GatewayEngine } from '../engine-port.ts';
import { registerClusterMetrics } from './cluster-metrics.ts';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #httpRequests: Counter<'route' | 'status'>;
  readonly #stopBatches: () => void;
  /** WebSocket figures, counted in plain fields (a send is too hot for a labelled inc). */
  readonly ws = { sent: { state: 0, event: 0, control: 0 }, conflations: 0, slowCloses: 0, historyHits: 0, historyMisses: 0 };
  #wsGauges: { connections(): number; subscriptions(): number } = { connections: () => 0, subscriptions: () => 0 };
  #budgets: readonly Budget[] = [];
  /** The engine's stats, read once per scrape: reading them walks the engine's queue. */
  #stats: EngineStats | undefined;

  constructor(engine: GatewayEngine) {
    const registry = this.registry;
    const stats = () => (this.#stats ??= engine.stats());
    collectDefaultMetrics({ register: registry });

    new Counter({
      name: 'omni_events_total',
      help: 'Events answered by the engine, by type and result (ok or an error code).',
      labelNames: ['type', 'result'],
      registers: [registry],
      collect() {
        this.reset();
        // The engine already files unknown types under one name, so labels stay bounded.
        for (const [key, count] of stats().eventsByTypeAndResult) {
          const bar = key.lastIndexOf('|');
          if (bar < 0) continue;
          this.inc({ type: key.slice(0, bar), result: key.slice(bar + 1) }, count);
        }
      },
    });
    const batchEvents = new Histogram({
      name: 'omni_commit_batch_events',
      help: 'Events per committed batch.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
      registers: [registry],
    });
    const commitSeconds = new Histogram({
      name: 'omni_commit_seconds',
      help: 'Time to make one batch durable (LMDB commit, and fsync when enabled).',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    const applySeconds = new Histogram({
      name: 'omni_apply_seconds',
      help: 'Time to apply one batch in the domain processors, before its commit.',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers: [registry],
    });
    this.#stopBatches = engine.onBatch((batch) => {
      batchEvents.observe(batch.events);
      commitSeconds.observe(batch.commitMs / 1000);
      applySeconds.observe(batch.applyMs / 1000);
    });

    new Gauge({
      name: 'omni_state_entries',
      help: 'Keys in the state store.',
      registers: [registry],
      collect() {
        this.set(engine.stateStats().entries);
      },
    });
    new Gauge({
      name: 'omni_state_bytes',
      help: 'Bytes used by the state store.',
      registers: [registry],
      collect() {
        this.set(engine.stateStats().bytes);
      },
    });
    new Gauge({
      name: 'omni_engine_queued_events',
      help: 'Events accepted by the engine and waiting for a batch.',
      registers: [registry],
      collect() {
        this.set(stats().queued);
      },
    });
    new Gauge({
      name: 'omni_engine_pending_timers',
      help: 'Durable timers (reservation expiry, offers, SLA) not yet fired.',
      registers: [registry],
      collect() {
        this.set(stats().pendingTimers);
      },
    });
    // Store rewrites after erasures (engine/store-rewrite.ts): the engine is paused while one runs.
    new Counter({
      name: 'omni_store_rewrites_total',
      help: "Rewrites of the store files after customers' erasures (every live record copied into a fresh file, so no freed page keeps erased data).",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(stats().storeRewrites?.count ?? 0);
      },
    });
    new Gauge({
      name: 'omni_store_rewrite_seconds',
      help: 'How long the last store rewrite took, the engine paused meanwhile (0 before the first).',
      registers: [registry],
      collect() {
        this.set((stats().storeRewrites?.lastMs ?? 0) / 1000);
      },
    });
    this.#httpRequests = new Counter({
      name: 'omni_http_requests_total',
      help: 'HTTP requests answered, by route and status ("aborted" when the client left first).',
      labelNames: ['route', 'status'],
      registers: [registry],
    });
    this.#registerWs(registry);
    this.#registerBudgets(registry);
    this.#registerPartitions(registry, stats);
    registerClusterMetrics(registry, engine);
  }

  /**
   * One line per partition and figure, idle partitions included (3 × 32 lines by default): a
   * partition that never appears could not be told apart from one that stopped being reported.
   */
  #registerPartitions(registry: Registry, stats: () => EngineStats): void {
    const figure = (name: string, help: string, kind: typeof Gauge | typeof Counter, value: (p: EngineStats['partitions'][number]) => number) =>
      new kind({
        name,
        help,
        labelNames: ['partition'],
        registers: [registry],
        collect() {
          this.reset();
          for (const p of stats().partitions) this.inc({ partition: String(p.partition) }, value(p));
        },
      });
    figure('omni_partition_queue_depth', "Events accepted and waiting for a batch, by the partition of their key.", Gauge, (p) => p.queued);
    figure('omni_partition_apply_seconds_total', "Time spent applying each partition's events in the domain processors since start; sampled: 1 event in 16, chosen at random, is timed and counted 16 times (a clock read costs about as much as a cheap event).", Counter, (p) => p.applySeconds);
    figure('omni_partition_checkpoint', 'Events each partition has applied since the data dir was created (its durable input checkpoint once their batch commits).', Gauge, (p) => p.checkpoint);
  }

  #registerBudgets(registry: Registry): void {
    const budgets = () => this.#budgets;
    new Gauge({
      name: 'omni_budget_in_use',
      help: 'What admitted work holds of each server-wide budget: body_bytes (charged to request bodies still arriving), subscriptions, anonymous_subscriptions, anonymous_connections.',
      labelNames: ['budget'],
      registers: [registry],
      collect() {
        for (const b of budgets()) this.set({ budget: b.name }, b.inUse);
      },
    });
    new Gauge({
      name: 'omni_budget_limit',
      help: 'Each server-wide budget\'s configured total.',
      labelNames: ['budget'],
      registers: [registry],
      collect() {
        for (const b of budgets()) this.set({ budget: b.name }, b.limit);
      },
    });
    new Counter({
      name: 'omni_budget_refusals_total',
      help: 'Admissions refused because a server-wide budget was spent (503 for bodies and anonymous connections, too_many_subscriptions for subscriptions).',
      labelNames: ['budget'],
      registers: [registry],
      collect() {
        this.reset();
        for (const b of budgets()) this.inc({ budget: b.name }, b.refusals);
      },
    });
  }

  #registerWs(registry: Registry): void {
    const ws = this.ws;
    const gauges = () => this.#wsGauges;
    new Gauge({
      name: 'omni_ws_connections',
      help: 'Open WebSocket connections.',
      registers: [registry],
      collect() {
        this.set(gauges().connections());
      },
    });
    new Gauge({
      name: 'omni_ws_subscriptions',
      help: 'Topic subscriptions over all WebSocket connections.',
      registers: [registry],
      collect() {
        this.set(gauges().subscriptions());
      },
    });
    new Counter({
      name: 'omni_ws_messages_sent_total',
      help: 'WebSocket messages sent, by kind: state-topic updates, event-topic updates, control (snapshots, results, errors, pongs).',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(ws.sent)) this.inc({ kind }, n);
      },
    });
    new Counter({
      name: 'omni_ws_conflations_total',
      help: 'State-topic updates replaced by a newer one before a slow client could take them.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(ws.conflations);
      },
    });
    new Counter({
      name: 'omni_ws_slow_closes_total',
      help: 'WebSocket connections closed with 4008 because event-topic messages piled up.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(ws.slowCloses);
      },
    });
    new Counter({
      name: 'omni_ws_history_total',
      help: 'sub with since: answered from kept history (hit) or with a snapshot (miss).',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, ws.historyHits);
        this.inc({ result: 'miss' }, ws.historyMisses);
      },
    });
  }

  /** The WebSocket endpoint reports its live connection and subscription counts through this. */
  attachWs(gauges: { connections(): number; subscriptions(): number }): void {
    this.#wsGauges = gauges;
  }

  /** The server-wide budgets to report in omni_budget_* (their names label them). */
  attachBudgets(budgets: readonly Budget[]): void {
    this.#budgets = budgets;
  }

  countRequest(route: string, status: number | 'aborted'): void {
    this.#httpRequests.inc({ route, status: String(status) });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    this.#stats = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.#stats = undefined;
    }
  }

  dispose(): void {
    this.#stopBatches();
    this.registry.clear();
  }
}
