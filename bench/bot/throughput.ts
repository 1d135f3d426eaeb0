// Part 2 of `omni bench bot`: what the bot costs the service's throughput. The same request
// stream (texts included) goes to a real engine with the bot `off` and in `first` mode, same
// engine settings and knowledge base, closed loop: `concurrency` customers each submit one
// service.requested and send the next when it is answered. Runs alternate between the modes
// (off first in even rounds, first first in odd ones) so a machine getting busier or quieter
// during the sitting weighs on both; each mode's figure is the median of its rounds.

import type { Durability } from '../../engine/mod.ts';
import { countErrors } from '../../loadgen/mod.ts';
import { median } from '../shared/report.ts';
import { openBotEngine, type BotMode } from './bot-engine.ts';
import { RequestStream } from './workload.ts';

export interface ThroughputOptions {
  entries: number;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
  durability: Durability;
}

export interface ThroughputRun {
  mode: BotMode;
  round: number;
  /** Requests answered in the measured window, per second. */
  requestsPerS: number;
  /** Of those, the share the bot answered from an entry (status `bot`). */
  botShare: number;
  /** Refused requests in the window, by error code (none expected). */
  refused: Record<string, number>;
}

export interface ThroughputResult {
  runs: ThroughputRun[];
  /** Median requests/s over the rounds, per mode. */
  offPerS: number;
  firstPerS: number;
  /** first ÷ off. */
  ratio: number;
}

async function runOnce(mode: BotMode, round: number, o: ThroughputOptions): Promise<ThroughputRun> {
  const bot = await openBotEngine(mode, o.entries, o.durability);
  try {
    // The same texts in the same order for both modes of a round.
    const stream = new RequestStream(`t${round}-`);
    const start = performance.now();
    const measureFrom = start + o.warmupSeconds * 1000;
    const measureTo = measureFrom + o.seconds * 1000;
    let answered = 0;
    let byBot = 0;
    const refused = new Map<string, number>();
    const customer = async () => {
      while (performance.now() < measureTo) {
        const results = await bot.engine.submit([stream.request()]);
        const now = performance.now();
        if (now < measureFrom || now >= measureTo) continue;
        if (countErrors(results, refused) > 0) continue;
        answered++;
        if (results[0].ok && results[0].status === 'bot') byBot++;
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, customer));
    return { mode, round, requestsPerS: answered / o.seconds, botShare: answered === 0 ? 0 : byBot / answered, refused: Object.fromEntries(refused) };
  } finally {
    await bot.close();
  }
}

export async function runThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const runs: ThroughputRun[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const order: BotMode[] = round % 2 === 0 ? ['off', 'first'] : ['first', 'off'];
    for (const mode of order) runs.push(await runOnce(mode, round, o));
  }
  const perS = (mode: BotMode) => median(runs.filter((r) => r.mode === mode).map((r) => r.requestsPerS));
  const offPerS = perS('off');
  const firstPerS = perS('first');
  return { runs, offPerS, firstPerS, ratio: offPerS === 0 ? 0 : firstPerS / offPerS };
}
