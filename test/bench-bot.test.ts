// `omni bench bot`: its workload and options, and a tiny real run of both parts through the
// bench's own entry that must produce every figure (nothing is asserted about how fast).

import { describe, expect, it } from 'vitest';
import { BOT_BENCH } from '../bench/bot/mod.ts';
import type { LatencyRow } from '../bench/bot/latency.ts';
import type { ThroughputResult } from '../bench/bot/throughput.ts';
import { knowledgeBaseEvents, RequestStream } from '../bench/bot/workload.ts';
import { UsageError } from '../bench/shared/flags.ts';

describe('bot bench workload', () => {
  it('stores N faq.upserted entries with distinct ids, and sends the same texts for the same prefix', () => {
    const kb = knowledgeBaseEvents(150, 'x-');
    expect(kb).toHaveLength(150);
    expect(kb.every((e) => e.type === 'faq.upserted')).toBe(true);
    expect(new Set(kb.map((e) => e.id)).size).toBe(150);
    expect(new Set(kb.map((e) => e.faq)).size).toBe(150);
    const a = new RequestStream('p-');
    const b = new RequestStream('p-');
    const sent = Array.from({ length: 300 }, () => a.request());
    expect(Array.from({ length: 300 }, () => b.request())).toEqual(sent);
    expect(new Set(sent.map((e) => e.request)).size).toBe(300);
    expect(sent.every((e) => e.type === 'service.requested' && e.channel === 'chat' && typeof e.text === 'string' && e.text.length > 0)).toBe(true);
  });
});

describe('options', () => {
  it('defaults to both parts, 1,000 and 10,000 entries, three rounds', () => {
    const prepared = BOT_BENCH.prepare([]);
    expect(prepared).not.toBe('help');
    expect((prepared as { options: unknown }).options).toMatchObject({ part: 'both', latency: { sizes: [1000, 10000], requests: 1000 }, throughput: { entries: 1000, rounds: 3, concurrency: 64, durability: 'fsync' } });
  });

  it('refuses a size that is not a whole number and an unknown part', () => {
    expect(() => BOT_BENCH.prepare(['--sizes', '10,x'])).toThrow(UsageError);
    expect(() => BOT_BENCH.prepare(['--part', 'everything'])).toThrow(UsageError);
  });
});

describe('a tiny run of both parts', () => {
  it('times every request against a real engine and compares off and first in alternating runs', async () => {
    const prepared = BOT_BENCH.prepare(['--sizes', '20,64', '--requests', '12', '--warmup-requests', '2', '--entries', '64', '--rounds', '2', '--seconds', '1', '--warmup', '0', '--concurrency', '4', '--durability', 'none']);
    if (prepared === 'help') throw new Error('help');
    const { result, headline } = await prepared.run(0);
    const { latency, throughput } = result as { latency: LatencyRow[]; throughput: ThroughputResult };

    expect(latency.map((r) => [r.entries, r.requests])).toEqual([
      [20, 12],
      [64, 12],
    ]);
    for (const row of latency) {
      expect(row.answer.p50Ms).toBeGreaterThan(0);
      expect(row.answer.p99Ms).toBeGreaterThanOrEqual(row.answer.p50Ms);
      expect(row.answer.maxMs).toBeGreaterThanOrEqual(row.answer.p99Ms);
      expect(row.apply.p50Ms).toBeGreaterThan(0);
      expect(row.afterReopenMs).toBeGreaterThan(0);
      expect(row.confidentShare).toBeGreaterThanOrEqual(0);
      expect(row.confidentShare).toBeLessThanOrEqual(1);
    }
    // The fixture's own 64 entries answer most of its labelled questions.
    expect(latency[1].confidentShare).toBeGreaterThan(0.3);

    expect(throughput.runs.map((r) => [r.round, r.mode])).toEqual([
      [0, 'off'],
      [0, 'first'],
      [1, 'first'],
      [1, 'off'],
    ]);
    for (const run of throughput.runs) {
      expect(run.refused).toEqual({});
      expect(run.requestsPerS).toBeGreaterThan(0);
      if (run.mode === 'off') expect(run.botShare).toBe(0);
    }
    expect(throughput.ratio).toBeCloseTo(throughput.firstPerS / throughput.offPerS);
    expect(Object.keys(headline)).toEqual(expect.arrayContaining(['20 entries answer p99 ms', '64 entries apply p99 ms', 'off requests/s', 'first requests/s', 'first ÷ off']));
  }, 120_000);
});
