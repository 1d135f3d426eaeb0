// The load of `omni bench cluster`: P posters in a closed loop, each posting a batch of B
// stock.received events of one unit to the next target in turn and waiting for its answer. A
// batch not fully acknowledged (a node killed, a partition between owners) is sent again, with
// the same ids, to the next target until it is: the engine deduplicates by id, so each
// acknowledged receipt must be counted exactly once, which the bench checks at the end.

import { latencyHistogram, summariseLatency, type Histogram, type LatencySummary } from '../shared/report.ts';
import { allOk, postEvents } from './nodes.ts';

export const LOCATION = 'S1';
/** A request not answered in this long is sent again (same ids) to the next target. */
const REQUEST_TIMEOUT_MS = 10_000;
const RETRY_PAUSE_MS = 20;

export interface LoadWindow {
  seconds: number;
  ackedEvents: number;
  eventsPerSecond: number;
  /** Send → answer of each fully acknowledged request (retried batches count from their last send). */
  latency: LatencySummary;
  /** Requests that had to be sent again. */
  retries: number;
}

export class ReceiptLoad {
  /** Acknowledged receipts per SKU since the start (what every node must count). */
  readonly acked = new Map<string, number>();
  private running = false;
  /** Set when the bench failed: batches in flight are dropped rather than retried against stopped servers. */
  private abandoned = false;
  private posters: Array<Promise<void>> = [];
  private nextId = 0;
  private nextTarget = 0;
  private histogram: Histogram = latencyHistogram();
  private windowStart = performance.now();
  private windowAcked = 0;
  private windowRetries = 0;

  constructor(
    private readonly targets: () => string[],
    private readonly token: string,
    private readonly skus: readonly string[],
    private readonly batch: number,
    /** Run prefix of the event ids: ids stay unique across the bench's loads. */
    private readonly idPrefix: string,
  ) {}

  start(posters: number): void {
    this.running = true;
    for (let i = 0; i < posters; i++) this.posters.push(this.poster());
  }

  /** Starts a measured window: figures from here on. */
  resetWindow(): void {
    this.histogram = latencyHistogram();
    this.windowStart = performance.now();
    this.windowAcked = 0;
    this.windowRetries = 0;
  }

  window(): LoadWindow {
    const seconds = (performance.now() - this.windowStart) / 1000;
    return { seconds, ackedEvents: this.windowAcked, eventsPerSecond: this.windowAcked / seconds, latency: summariseLatency(this.histogram), retries: this.windowRetries };
  }

  /** Stops sending new batches and waits for the ones in flight to be acknowledged. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.posters.splice(0));
  }

  /** On the way out of a failed run: stops at once, whatever is in flight (the counts are void). */
  abandon(): void {
    this.running = false;
    this.abandoned = true;
  }

  private nextBatch(): Array<{ id: string; type: string; sku: string; location: string; qty: number }> {
    return Array.from({ length: this.batch }, () => {
      const n = this.nextId++;
      return { id: `${this.idPrefix}-${n}`, type: 'stock.received', sku: this.skus[n % this.skus.length], location: LOCATION, qty: 1 };
    });
  }

  private async poster(): Promise<void> {
    while (this.running) {
      const events = this.nextBatch();
      for (;;) {
        const targets = this.targets();
        const url = targets[this.nextTarget++ % targets.length];
        const sentAt = performance.now();
        const answer = await postEvents(url, this.token, events, REQUEST_TIMEOUT_MS).catch(() => undefined);
        if (allOk(answer, events.length)) {
          this.histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
          break;
        }
        if (this.abandoned) return;
        this.windowRetries++;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
      for (const e of events) this.acked.set(e.sku, (this.acked.get(e.sku) ?? 0) + 1);
      this.windowAcked += events.length;
    }
  }
}
