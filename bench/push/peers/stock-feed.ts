// The `stock/<sku>` feed both peer servers push from: a POST body's events are applied to the
// StockBook, then each SKU they changed gets one update (the state after the body, a per-topic
// `seq`, `ts` = the oldest event time folded into it). That is the same update semantics as
// omnistream's state topics, which carry one update per commit batch — without it a peer would
// have to push one message per event to every subscriber of a hot SKU.

import { StockBook, type EventAnswer, type StockView } from './stock-book.ts';

export interface StockUpdate {
  topic: string;
  seq: number;
  data: StockView;
  ts: number;
}

export interface StockSnapshot {
  topic: string;
  seq: number;
  epoch: string;
  data: StockView | null;
}

const PREFIX = 'stock/';

export class StockFeed {
  readonly book = new StockBook();
  private readonly seqs = new Map<string, number>();

  /** `epoch` names this process's state: it is lost when the process ends. */
  constructor(readonly epoch = `peer-${process.pid}-${Date.now().toString(36)}`) {}

  /**
   * Applies a body; returns the answers in order and the updates of the topics that
   * `watched` says someone subscribes to (the others only advance their seq).
   */
  ingest(events: ReadonlyArray<Record<string, unknown>>, watched: (topic: string) => boolean): { results: EventAnswer[]; updates: StockUpdate[] } {
    const now = Date.now();
    const oldest = new Map<string, number>();
    const results = events.map((ev) => {
      const ts = typeof ev.ts === 'number' ? ev.ts : now;
      return this.book.apply(ev, (sku) => {
        const prev = oldest.get(sku);
        if (prev === undefined || ts < prev) oldest.set(sku, ts);
      });
    });
    const updates: StockUpdate[] = [];
    for (const [sku, ts] of oldest) {
      const topic = PREFIX + sku;
      const seq = (this.seqs.get(topic) ?? 0) + 1;
      this.seqs.set(topic, seq);
      if (watched(topic)) updates.push({ topic, seq, data: this.book.view(sku)!, ts });
    }
    return { results, updates };
  }

  /** What a new subscriber gets first: the state now (null for a topic never seen). */
  snapshot(topic: string): StockSnapshot {
    const data = topic.startsWith(PREFIX) ? this.book.view(topic.slice(PREFIX.length)) : undefined;
    return { topic, seq: this.seqs.get(topic) ?? 0, epoch: this.epoch, data: data ?? null };
  }
}
