// The open-loop schedule and the ingest driver on a fake clock: how many events each tick
// sends, with which scheduled times, and that slow answers never hold sends back.

import { describe, expect, it } from 'vitest';
import type { InputEvent } from '../engine/mod.ts';
import type { PostAnswer } from '../loadgen/http-poster.ts';
import { IngestDriver } from '../loadgen/ingest.ts';
import { OpenLoopSchedule } from '../loadgen/schedule.ts';

/** A poster whose answers the test releases by hand. */
function manualPoster() {
  const calls: Array<{ events: InputEvent[]; answer(a?: Partial<PostAnswer>): void }> = [];
  const post = (events: InputEvent[]) =>
    new Promise<PostAnswer>((resolve) => {
      calls.push({ events, answer: (a = {}) => resolve({ status: 200, results: events.map((e) => ({ ok: true, id: e.id })), ...a }) });
    });
  return { calls, post };
}

function source() {
  let n = 0;
  return () => ({ id: `e${n++}`, type: 'stock.received' }) as InputEvent;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('OpenLoopSchedule', () => {
  it('makes event i due at start + i/rate, and a tick takes everything due since the last one', () => {
    const s = new OpenLoopSchedule(1000, 100, 2); // one event every 10 ms for 2 s
    expect(s.total).toBe(200);
    expect(s.timeOf(0)).toBe(1000);
    expect(s.timeOf(7)).toBe(1070);
    expect(s.take(999)).toEqual({ from: 0, to: 0 });
    expect(s.take(1000)).toEqual({ from: 0, to: 1 });
    expect(s.take(1009.9)).toEqual({ from: 1, to: 1 });
    expect(s.take(1010)).toEqual({ from: 1, to: 2 });
    // A tick that comes 95 ms late gets the events of every tick it missed.
    expect(s.take(1105)).toEqual({ from: 2, to: 11 });
    expect(s.take(9999)).toEqual({ from: 11, to: 200 });
    expect(s.done).toBe(true);
    expect(s.take(20_000)).toEqual({ from: 200, to: 200 });
  });

  it('agrees with timeOf at fractional rates', () => {
    const s = new OpenLoopSchedule(0, 3, 10);
    for (let i = 0; i < s.total; i++) {
      expect(s.dueBy(s.timeOf(i))).toBe(i + 1);
      expect(s.dueBy(s.timeOf(i) - 1e-6)).toBe(i);
    }
  });
});

describe('IngestDriver', () => {
  it('sends the due events every tick, stamped with their scheduled time, without waiting for answers', async () => {
    let now = 0;
    const poster = manualPoster();
    const schedule = new OpenLoopSchedule(0, 1000, 1); // 1 event/ms
    const driver = new IngestDriver({ schedule, next: source(), post: poster.post, batch: 4, maxInFlight: 1000, clock: () => now });
    for (now = 0; now < 50; now += 5) driver.tick(); // ticks at 0, 5, …, 45 ms
    // Nothing answered, yet every due event went out: 46 events (0 … 45 ms), batches of at most 4.
    const sent = poster.calls.flatMap((c) => c.events);
    expect(sent.length).toBe(46);
    expect(sent.map((e) => e.ts)).toEqual(Array.from({ length: 46 }, (_, i) => i));
    expect(Math.max(...poster.calls.map((c) => c.events.length))).toBe(4);
    // Tick at 5 ms: events 1…5 due (5 of them) → batches of 4 and 1.
    expect(poster.calls[1].events.map((e) => e.ts)).toEqual([1, 2, 3, 4]);
    expect(poster.calls[2].events.map((e) => e.ts)).toEqual([5]);
    expect(driver.snapshot()).toMatchObject({ sent: 46, acked: 0, inFlight: poster.calls.length });

    now = 60;
    for (const c of poster.calls) c.answer();
    await flush();
    expect(driver.snapshot()).toMatchObject({ sent: 46, acked: 46, errors: 0, inFlight: 0 });
  });

  it('counts rejected events and failed requests as errors, so sent = acked + errors', async () => {
    let now = 0;
    const poster = manualPoster();
    const driver = new IngestDriver({ schedule: new OpenLoopSchedule(0, 1000, 0.01), next: source(), post: poster.post, batch: 5, maxInFlight: 10, clock: () => now });
    now = 9;
    driver.tick();
    expect(poster.calls.length).toBe(2);
    const [a, b] = poster.calls;
    a.answer({ results: a.events.map((e, i) => (i === 0 ? { ok: false, error: { code: 'insufficient_stock' } } : { ok: true })) });
    b.answer({ status: 503, results: undefined, failure: 'HTTP 503' });
    await flush();
    const c = driver.snapshot();
    expect(c).toMatchObject({ sent: 10, acked: 4, errors: 6, failedRequests: 1, errorCodes: { insufficient_stock: 1, http_503: 5 } });
    expect(c.sent).toBe(c.acked + c.errors);
    expect(driver.finished).toBe(true);
  });

  it('holds events back only at the in-flight cap, says so, and sends them as answers come', async () => {
    let now = 0;
    const poster = manualPoster();
    const warnings: string[] = [];
    const driver = new IngestDriver({ schedule: new OpenLoopSchedule(0, 1000, 1), next: source(), post: poster.post, batch: 2, maxInFlight: 2, clock: () => now, warn: (m) => warnings.push(m) });
    now = 9;
    driver.tick(); // 10 due, room for 2 requests of 2
    expect(poster.calls.length).toBe(2);
    expect(driver.waiting).toBe(6);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/loadgen overloaded/);
    now = 30;
    poster.calls[0].answer();
    await flush();
    // The freed slot went at once to the oldest waiting events, with their original times.
    expect(poster.calls[2].events.map((e) => e.ts)).toEqual([4, 5]);
    expect(driver.snapshot()).toMatchObject({ overloadedTicks: 1, maxWaiting: 6 });
    driver.abandonWaiting();
    expect(driver.snapshot().unsent).toBe(4);
  });
});
