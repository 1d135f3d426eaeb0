// The open-loop ingest side: every tick takes the events the schedule says are due, stamps each
// with its scheduled time as `ts`, and posts them in batches. Sending never waits for earlier
// answers; only the in-flight cap (one request per connection) can hold events back, and then
// the run says so ("loadgen overloaded") and the held events' latency includes the wait, since
// ack latency is always measured from the scheduled time.

import type { InputEvent } from '../engine/mod.ts';
import type { Poster, PostAnswer } from './http-poster.ts';
import { LatencyRecorder } from './latency.ts';
import type { OpenLoopSchedule } from './schedule.ts';

export interface IngestOptions {
  schedule: OpenLoopSchedule;
  next(): InputEvent;
  post: Poster;
  /** Most events per request. */
  batch: number;
  /** Most requests in flight. */
  maxInFlight: number;
  /** Epoch ms (fake in tests). */
  clock(): number;
  /** Told at most once per second while events wait on the in-flight cap. */
  warn?(message: string): void;
  /** Told of every event the server answered (`result` undefined: its whole request failed), at `nowMs`. */
  answered?(ev: InputEvent, result: EventAnswer | undefined, nowMs: number): void;
}

export type EventAnswer = NonNullable<PostAnswer['results']>[number];

export interface IngestCounts {
  /** Events put on the wire. */
  sent: number;
  /** Events answered ok:true. */
  acked: number;
  /** Events answered ok:false, or in a request that failed. */
  errors: number;
  /** Events due but never sent (still held back when the run ended). */
  unsent: number;
  requests: number;
  failedRequests: number;
  inFlight: number;
  waiting: number;
  /** Error code (or http_<status> / network) → events. */
  errorCodes: Record<string, number>;
  firstFailure?: string;
  /** Ticks that found events held back by the in-flight cap. */
  overloadedTicks: number;
  /** Most events held back at once. */
  maxWaiting: number;
}

export class IngestDriver {
  /** Ack latency of every answered event, scheduled time → answer. */
  readonly ack = new LatencyRecorder();
  /** The same, since the last takeInterval() (for the progress line). */
  readonly interval = new LatencyRecorder();
  private readonly queue: InputEvent[] = [];
  private head = 0;
  private readonly counts: IngestCounts = { sent: 0, acked: 0, errors: 0, unsent: 0, requests: 0, failedRequests: 0, inFlight: 0, waiting: 0, errorCodes: {}, overloadedTicks: 0, maxWaiting: 0 };
  private lastWarn = -Infinity;
  private idle: Array<() => void> = [];

  constructor(private readonly o: IngestOptions) {}

  /** Takes what became due, then sends as much as the in-flight cap allows. */
  tick(): void {
    const now = this.o.clock();
    const { from, to } = this.o.schedule.take(now);
    for (let i = from; i < to; i++) {
      const ev = this.o.next();
      ev.ts = this.o.schedule.timeOf(i);
      this.queue.push(ev);
    }
    this.flush();
    if (this.waiting > 0) {
      this.counts.overloadedTicks++;
      this.counts.maxWaiting = Math.max(this.counts.maxWaiting, this.waiting);
      if (now - this.lastWarn >= 1000) {
        this.lastWarn = now;
        this.o.warn?.(
          `loadgen overloaded: ${this.counts.inFlight} requests in flight (the cap, --connections ${this.o.maxInFlight}), ${this.waiting} due events waiting; their latency includes the wait`,
        );
      }
    }
  }

  get waiting(): number {
    return this.queue.length - this.head;
  }

  snapshot(): IngestCounts {
    return { ...this.counts, waiting: this.waiting, errorCodes: { ...this.counts.errorCodes } };
  }

  /** True once the schedule is exhausted and every sent request has its answer. */
  get finished(): boolean {
    return this.o.schedule.done && this.waiting === 0 && this.counts.inFlight === 0;
  }

  /** Drops the events still held back (the run is over): they count as unsent. */
  abandonWaiting(): void {
    this.counts.unsent += this.waiting;
    this.queue.length = 0;
    this.head = 0;
  }

  /** Resolves once nothing is in flight. */
  settled(): Promise<void> {
    if (this.counts.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private flush(): void {
    while (this.waiting > 0 && this.counts.inFlight < this.o.maxInFlight) {
      const end = Math.min(this.queue.length, this.head + this.o.batch);
      const events = this.queue.slice(this.head, end);
      this.head = end;
      this.send(events);
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private send(events: InputEvent[]): void {
    this.counts.inFlight++;
    this.counts.requests++;
    this.counts.sent += events.length;
    this.o.post(events).then(
      (answer) => this.settle(events, answer),
      (error: unknown) => this.settle(events, { status: 0, failure: String(error) }),
    );
  }

  private settle(events: InputEvent[], answer: PostAnswer): void {
    const c = this.counts;
    c.inFlight--;
    const now = this.o.clock();
    if (answer.status > 0) {
      for (const ev of events) {
        this.ack.recordSince(ev.ts!, now);
        this.interval.recordSince(ev.ts!, now);
      }
    }
    const results = answer.results;
    const whole = answer.status === 200 && Array.isArray(results) && results.length === events.length;
    if (answer.status > 0 && this.o.answered) for (let i = 0; i < events.length; i++) this.o.answered(events[i], whole ? results[i] : undefined, now);
    if (whole) {
      for (const r of results) {
        if (r.ok) c.acked++;
        else {
          c.errors++;
          const code = r.error?.code ?? 'unknown';
          c.errorCodes[code] = (c.errorCodes[code] ?? 0) + 1;
        }
      }
    } else {
      c.failedRequests++;
      c.errors += events.length;
      const code = answer.status > 0 ? `http_${answer.status}` : 'network';
      c.errorCodes[code] = (c.errorCodes[code] ?? 0) + events.length;
      c.firstFailure ??= answer.failure ?? `HTTP ${answer.status}: ${results?.length ?? 'no'} results for ${events.length} events`;
    }
    this.flush();
    if (c.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
  }
}
