// Ack latency is measured from each event's scheduled send time: a stall of the server or of
// the load generator itself shows in the percentiles (coordinated omission corrected).

import { describe, expect, it } from 'vitest';
import type { InputEvent } from '../engine/mod.ts';
import type { PostAnswer } from '../loadgen/http-poster.ts';
import { IngestDriver } from '../loadgen/ingest.ts';
import { LatencyRecorder } from '../loadgen/latency.ts';
import { OpenLoopSchedule } from '../loadgen/schedule.ts';

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A server that answers after `delay(sendTime)` ms of fake time; `advance` moves the clock. */
function simulated(delay: (sentAt: number) => number) {
  let now = 0;
  const pending: Array<{ at: number; resolve(a: PostAnswer): void; events: InputEvent[] }> = [];
  const post = (events: InputEvent[]) => new Promise<PostAnswer>((resolve) => pending.push({ at: now + delay(now), resolve, events }));
  const advance = async (to: number, driver: IngestDriver, tickMs: number, skipTicks?: (t: number) => boolean) => {
    for (; now < to; now += 1) {
      for (const p of pending.filter((x) => x.at <= now)) {
        pending.splice(pending.indexOf(p), 1);
        p.resolve({ status: 200, results: p.events.map(() => ({ ok: true })) });
      }
      await flush();
      if (now % tickMs === 0 && !skipTicks?.(now)) driver.tick();
    }
  };
  return { post, advance, clock: () => now };
}

describe('latency from the scheduled time', () => {
  it('records nothing below 1 µs and exact values otherwise', () => {
    const r = new LatencyRecorder();
    r.recordSince(100, 100);
    r.recordSince(100, 112.5);
    expect(r.count).toBe(2);
    expect(r.summary().max).toBeCloseTo(12.5, 1);
    expect(r.summary().p50).toBeCloseTo(0.001, 3);
  });

  it('a 200 ms server stall shows in the percentiles of every event due during it', async () => {
    // 1000 events/s for 1 s; answers take 1 ms, except that nothing is answered from 400 to 600 ms.
    const sim = simulated((t) => (t >= 400 && t < 600 ? 600 - t : 1));
    const driver = new IngestDriver({ schedule: new OpenLoopSchedule(0, 1000, 1), next: () => ({ id: 'x', type: 't' }), post: sim.post, batch: 100, maxInFlight: 10_000, clock: sim.clock });
    await sim.advance(1200, driver, 1);
    const s = driver.ack.summary();
    expect(s.count).toBe(1000);
    // 20% of the events waited for the stall: p50 is fast, p90 and up see it, max ≈ 200 ms.
    expect(s.p50).toBeLessThan(2);
    expect(driver.ack.histogram.getValueAtPercentile(90) / 1000).toBeGreaterThan(50);
    expect(s.p99).toBeGreaterThan(180);
    expect(s.max).toBeGreaterThanOrEqual(199);
    expect(s.max).toBeLessThan(202);
  });

  it('a 100 ms stall of the load generator itself shows too: the late events carry their scheduled time', async () => {
    const sim = simulated(() => 1);
    const driver = new IngestDriver({ schedule: new OpenLoopSchedule(0, 1000, 1), next: () => ({ id: 'x', type: 't' }), post: sim.post, batch: 1000, maxInFlight: 10_000, clock: sim.clock });
    // No ticks from 300 to 399 ms (a GC pause): the tick at 400 sends their events, 1 ms later answered.
    await sim.advance(1100, driver, 1, (t) => t >= 300 && t < 400);
    const s = driver.ack.summary();
    expect(s.count).toBe(1000);
    expect(s.max).toBeGreaterThanOrEqual(100);
    expect(s.max).toBeLessThan(103);
    // ~10% of the events were late by 1…100 ms: p95 is in the stall, p50 is not.
    expect(driver.ack.histogram.getValueAtPercentile(95) / 1000).toBeGreaterThan(40);
    expect(s.p50).toBeLessThan(2);
  });

  it('recordWithInterval fills in the samples a stall hid', () => {
    const r = new LatencyRecorder();
    r.recordWithInterval(100, 10); // one 100 ms lag of a 10 ms tick stands for 10 samples
    expect(r.count).toBe(10);
    expect(r.summary().max).toBeCloseTo(100, 0);
  });

  it('survives the trip across threads', () => {
    const r = new LatencyRecorder();
    for (let i = 1; i <= 100; i++) r.recordSince(0, i);
    const back = LatencyRecorder.decode(r.encode());
    const [a, b] = [back.summary(), r.summary()];
    expect(a.count).toBe(b.count);
    // Equal within the histogram's 3 significant digits (a decoded max is its bucket's top).
    for (const k of ['p50', 'p99', 'p999', 'max'] as const) expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(b[k] * 0.001);
  });
});
