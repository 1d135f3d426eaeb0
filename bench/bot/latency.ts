// Part 1 of `omni bench bot`: how long a customer waits for the bot. A real engine in `first`
// mode holding N entries takes service.requested events with text one at a time; each is timed
// from submit until both its answer and the bot's message on `request/<id>` are out (whichever
// comes last). The engine's own apply time of that event (Engine.onBatch: one event per batch,
// as nothing else is submitted) is kept apart, so the durable commit's share shows. Last, the
// engine is closed and reopened and one more request timed: its bot has to rebuild the index
// from the stored entries first (forgetIndex), the stall a start with a large knowledge base
// pays once.

import type { Durability, Engine, InputEvent, Output } from '../../engine/mod.ts';
import { openBotEngine } from './bot-engine.ts';
import { RequestStream } from './workload.ts';

export interface LatencyOptions {
  sizes: number[];
  requests: number;
  warmup: number;
  durability: Durability;
}

export interface Percentiles {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LatencyRow {
  entries: number;
  /** Storing the N entries through faq.upserted. */
  storeMs: number;
  requests: number;
  /** Submit → answer and bot message, per request. */
  answer: Percentiles;
  /** The engine's apply step of each request's batch. */
  apply: Percentiles;
  /** Requests the bot answered from an entry (status `bot`); the rest got "don't know" and were queued. */
  confidentShare: number;
  /** The first request after a reopen: the index rebuilt from the stored entries, then the answer. */
  afterReopenMs: number;
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[sorted.length - 1] };
}

interface Asked {
  ms: number;
  applyMs: number;
  status: unknown;
}

/** Submits `event` alone and waits for its answer and its bot message. */
async function askOne(engine: Engine, event: InputEvent): Promise<Asked> {
  const topic = `request/${event.request as string}`;
  let applyMs = 0;
  let heard!: () => void;
  const botSpoke = new Promise<void>((resolve) => (heard = resolve));
  const stopOutputs = engine.onOutput((outputs: Output[]) => {
    if (outputs.some((o) => o.topic === topic && (o.data as { from?: string } | undefined)?.from === 'bot')) heard();
  });
  const stopBatches = engine.onBatch((s) => (applyMs += s.applyMs));
  try {
    const started = performance.now();
    const [result] = await engine.submit([event]);
    if (!result.ok) throw new Error(`bot bench: request refused: ${JSON.stringify(result.error)}`);
    await botSpoke;
    return { ms: performance.now() - started, applyMs, status: result.status };
  } finally {
    stopOutputs();
    stopBatches();
  }
}

/**
 * Makes this process's index stale, as a new process's would be: the bot keeps one index per
 * process, for the stored version it was built for, and would otherwise reuse it on a reopen.
 * A request to an engine with no entries moves it to that (empty) knowledge base.
 */
async function forgetIndex(durability: Durability): Promise<void> {
  const scratch = await openBotEngine('first', 0, durability);
  try {
    await askOne(scratch.engine, new RequestStream('scratch-').request());
  } finally {
    await scratch.close();
  }
}

export async function runLatency(o: LatencyOptions): Promise<LatencyRow[]> {
  const rows: LatencyRow[] = [];
  for (const size of o.sizes) {
    const bot = await openBotEngine('first', size, o.durability);
    try {
      const stream = new RequestStream(`n${size}-`);
      for (let i = 0; i < o.warmup; i++) await askOne(bot.engine, stream.request());
      const answers: number[] = [];
      const applies: number[] = [];
      let confident = 0;
      for (let i = 0; i < o.requests; i++) {
        const asked = await askOne(bot.engine, stream.request());
        answers.push(asked.ms);
        applies.push(asked.applyMs);
        if (asked.status === 'bot') confident++;
      }
      await forgetIndex(o.durability);
      const reopened = await bot.reopen();
      const afterReopen = await askOne(reopened, stream.request());
      rows.push({ entries: size, storeMs: bot.storeMs, requests: o.requests, answer: percentiles(answers), apply: percentiles(applies), confidentShare: confident / o.requests, afterReopenMs: afterReopen.ms });
    } finally {
      await bot.close();
    }
  }
  return rows;
}
