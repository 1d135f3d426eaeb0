// Prometheus metrics for GET /metrics. The engine's counters are read when scraped and its batch
// figures arrive once per committed batch, so serving metrics adds no work per event. Each
// gateway has its own Registry: several gateways (tests) in one process must not collide.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayEngine } from '../engine-port.ts';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #httpRequests: Counter<'route' | 'status'>;
  readonly #stopBatches: () => void;

  constructor(engine: GatewayEngine) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry });

    new Counter({
      name: 'omni_events_total',
      help: 'Events answered by the engine, by type and result (ok or an error code).',
      labelNames: ['type', 'result'],
      registers: [registry],
      collect() {
        this.reset();
        // The engine already files unknown types under one name, so labels stay bounded.
        for (const [key, count] of engine.stats().eventsByTypeAndResult) {
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
        this.set(engine.stats().queued);
      },
    });
    new Gauge({
      name: 'omni_engine_pending_timers',
      help: 'Durable timers (reservation expiry, offers, SLA) not yet fired.',
      registers: [registry],
      collect() {
        this.set(engine.stats().pendingTimers);
      },
    });
    this.#httpRequests = new Counter({
      name: 'omni_http_requests_total',
      help: 'HTTP requests answered, by route and status ("aborted" when the client left first).',
      labelNames: ['route', 'status'],
      registers: [registry],
    });
  }

  countRequest(route: string, status: number | 'aborted'): void {
    this.#httpRequests.inc({ route, status: String(status) });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  dispose(): void {
    this.#stopBatches();
    this.registry.clear();
  }
}
