// The loops of `omni bench orders`. An order is a chain of submits: each step is sent once the
// step before it was answered ok (as a store would mark an order ready only once it is placed),
// so many orders are in flight at different steps. Closed loop: C drivers each take a chunk of
// fresh orders through every step, until the time is up. Open loop: a chunk of orders is due every
// interval; its first step's ack counts from when it was due (a stalled engine cannot hide),
// each later step's from when it was sent. Plain stock events run through the same two loops.

import type { EventResult, InputEvent } from '../../engine/mod.ts';
import type { BenchEngine } from '../shared/bench-engine.ts';
import { LatencyRecorder, countErrors, type LatencyMs } from '../../loadgen/mod.ts';
import type { OrderSteps, OrderWorkload, PlainStockWorkload } from './workload.ts';

export interface LoopResult {
  /** Orders whose every step was answered ok inside the window (or plain events answered, for the stock loop). */
  done: number;
  /**
   * Steps answered ok inside the window ÷ steps per order ÷ seconds: orders a second in a steady
   * state, and unlike `done` not hostage to orders started together finishing together.
   */
  perS: number;
  /** `done` ÷ seconds. */
  finishedPerS: number;
  /** Events answered, every step counted. */
  events: number;
  seconds: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  /** Submit → answer, per event, every step together. */
  ack: LatencyMs;
  /** Per step (event type), for orders. */
  ackByStep: Record<string, LatencyMs>;
  /** First step due (open loop) or sent (closed loop) → last step answered, per order. */
  order?: LatencyMs;
}

class Tally {
  readonly ack = new LatencyRecorder();
  readonly byStep = new Map<string, LatencyRecorder>();
  readonly order = new LatencyRecorder();
  readonly byCode = new Map<string, number>();
  done = 0;
  events = 0;
  okSteps = 0;
  rejected = 0;

  /** Only what is answered inside [from, until) counts (clock of performance.now()). */
  constructor(
    private readonly from = -Infinity,
    private readonly until = Infinity,
  ) {}

  counts(at: number): boolean {
    return at >= this.from && at < this.until;
  }

  recordStep(type: string, sentAt: number, answeredAt: number, count: number): void {
    if (!this.counts(answeredAt)) return;
    let step = this.byStep.get(type);
    if (!step) this.byStep.set(type, (step = new LatencyRecorder()));
    const us = Math.max(1, Math.round((answeredAt - sentAt) * 1000));
    this.ack.histogram.recordValueWithCount(us, count);
    step.histogram.recordValueWithCount(us, count);
    this.events += count;
  }

  recordRejected(results: readonly EventResult[], answeredAt: number): number {
    const refused = countErrors(results, this.counts(answeredAt) ? this.byCode : new Map());
    if (this.counts(answeredAt)) {
      this.rejected += refused;
      this.okSteps += results.length - refused;
    }
    return refused;
  }

  recordDone(dueAt: number, answeredAt: number, count: number): void {
    if (!this.counts(answeredAt) || count === 0) return;
    this.order.histogram.recordValueWithCount(Math.max(1, Math.round((answeredAt - dueAt) * 1000)), count);
    this.done += count;
  }

  result(seconds: number, stepsPerUnit: number, withOrders: boolean): LoopResult {
    return {
      done: this.done,
      perS: this.okSteps / stepsPerUnit / seconds,
      finishedPerS: this.done / seconds,
      events: this.events,
      seconds,
      rejected: this.rejected,
      rejectedByCode: Object.fromEntries(this.byCode),
      ack: this.ack.summary(),
      ackByStep: Object.fromEntries([...this.byStep].map(([k, r]) => [k, r.summary()])),
      ...(withOrders ? { order: this.order.summary() } : {}),
    };
  }
}

/**
 * Takes a chunk of orders through every step; `dueAt` is when the first step was due. Orders
 * refused at a step go no further. Resolves with how many finished every step.
 */
async function runOrders(engine: BenchEngine, chunk: OrderSteps[], dueAt: number, tally: Tally): Promise<void> {
  let live = chunk;
  let sentAt = dueAt;
  for (let step = 0; step < chunk[0].length && live.length > 0; step++) {
    const events = live.map((o) => o[step]);
    const results: EventResult[] = await engine.submit(events);
    const answeredAt = performance.now();
    tally.recordStep(events[0].type, sentAt, answeredAt, events.length);
    if (tally.recordRejected(results, answeredAt) > 0) live = live.filter((_, i) => results[i].ok);
    sentAt = answeredAt;
  }
  tally.recordDone(dueAt, sentAt, live.length);
}

async function submitPlain(engine: BenchEngine, chunk: InputEvent[], dueAt: number, tally: Tally): Promise<void> {
  const results = await engine.submit(chunk);
  const answeredAt = performance.now();
  tally.recordStep('stock', dueAt, answeredAt, chunk.length);
  tally.recordRejected(results, answeredAt);
  tally.recordDone(dueAt, answeredAt, chunk.length);
}

export type Source = { kind: 'orders'; workload: OrderWorkload } | { kind: 'stock'; workload: PlainStockWorkload };

const stepsOf = (source: Source) => (source.kind === 'orders' ? source.workload.steps : 1);

/** `chunk` orders (or events) per submit. */
function nextChunk(source: Source, chunk: number): () => (tally: Tally, engine: BenchEngine, dueAt: number) => Promise<void> {
  if (source.kind === 'orders') {
    return () => {
      const orders = source.workload.orders(chunk);
      return (tally, engine, dueAt) => runOrders(engine, orders, dueAt, tally);
    };
  }
  return () => {
    const events = source.workload.chunk(chunk);
    return (tally, engine, dueAt) => submitPlain(engine, events, dueAt, tally);
  };
}

export interface ClosedLoopOptions {
  chunk: number;
  concurrency: number;
  /** Run this long first without counting: the pipeline fills, and stays full into the window. */
  warmupSeconds: number;
  seconds: number;
  /** Stop after this many chunks (seeding): the rate is then over the time they took. */
  maxChunks?: number;
  /** Called as the counted window opens and closes (per-thread CPU, batch figures). */
  window?: { open(): void; close(): void };
}

/**
 * Closed loop: `concurrency` drivers, each a chunk at a time. What is answered in the window
 * after the warm-up counts; no chunk starts after it, and those still under way then finish
 * uncounted, so neither the filling nor the draining of the pipeline is in the rate.
 */
export async function closedLoop(engine: BenchEngine, source: Source, o: ClosedLoopOptions): Promise<LoopResult> {
  const start = performance.now();
  const from = start + o.warmupSeconds * 1000;
  const until = from + o.seconds * 1000;
  const tally = new Tally(from, until);
  const make = nextChunk(source, o.chunk);
  let failed = false;
  let taken = 0;
  let last = start;
  const opening = setTimeout(() => o.window?.open(), o.warmupSeconds * 1000);
  let closed = false;
  const closing = setTimeout(() => {
    closed = true;
    o.window?.close();
  }, o.warmupSeconds * 1000 + o.seconds * 1000);
  const driver = async () => {
    while (!failed && performance.now() < until && taken++ < (o.maxChunks ?? Infinity)) {
      const run = make(); // built before its clock starts: generating is not the engine's time
      await run(tally, engine, performance.now()).catch((err: unknown) => {
        failed = true;
        throw err;
      });
      last = performance.now();
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, driver));
  } finally {
    clearTimeout(opening);
    clearTimeout(closing);
  }
  if (!closed) o.window?.close();
  const seconds = Math.min(o.seconds, (last - from) / 1000);
  return tally.result(seconds, stepsOf(source), source.kind === 'orders');
}

export interface OpenLoopResult extends LoopResult {
  targetPerS: number;
  /** Largest delay between a chunk's due time and its first send (the event loop was busy). */
  maxSendLagMs: number;
}

/** Open loop at `ratePerS` orders (or events) a second for `seconds`, in chunks due about every ms. */
export async function openLoop(engine: BenchEngine, source: Source, o: { ratePerS: number; seconds: number }): Promise<OpenLoopResult> {
  const tally = new Tally();
  const chunk = Math.max(1, Math.round(o.ratePerS / 1000));
  const intervalMs = (chunk * 1000) / o.ratePerS;
  const total = Math.max(1, Math.ceil((o.ratePerS * o.seconds) / chunk));
  const make = nextChunk(source, chunk);
  // Generated before the clock starts: the schedule must not wait on the generator.
  const runs = Array.from({ length: total }, make);
  let maxLag = 0;
  const start = performance.now() + 5;
  let lastDone = start;
  await new Promise<void>((resolve, reject) => {
    let k = 0;
    let answered = 0;
    let stopped = false;
    const watchdog = setTimeout(() => fail(new Error(`open loop: ${total - answered} chunks unanswered 60 s after the schedule ended`)), total * intervalMs + 60_000);
    function fail(err: unknown) {
      stopped = true;
      clearTimeout(watchdog);
      reject(err);
    }
    const tick = () => {
      if (stopped) return;
      const now = performance.now();
      while (k < total && start + k * intervalMs <= now) {
        const due = start + k * intervalMs;
        maxLag = Math.max(maxLag, now - due);
        runs[k++](tally, engine, due).then(() => {
          lastDone = performance.now();
          if (++answered === total) {
            clearTimeout(watchdog);
            resolve();
          }
        }, fail);
      }
      if (k < total) setTimeout(tick, Math.max(0, start + k * intervalMs - performance.now()));
    };
    tick();
  });
  return { ...tally.result((lastDone - start) / 1000, stepsOf(source), source.kind === 'orders'), targetPerS: o.ratePerS, maxSendLagMs: maxLag };
}
