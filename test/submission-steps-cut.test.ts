// With several engine threads, a request's event whose steps run on other partitions (a
// reservation: its hold at the SKU) goes to its thread only once the request's events on other
// threads before it are answered, i.e. committed. Sent together, its thread could commit it
// first; a kill -9 right then left its hold in the outbox, applied at restart before the stock
// received just before it in the request, which only the client's retry brought back: the hold
// found no stock where a replay of the acknowledged events found enough (test/crash.test.ts,
// --workers 2, under load). These tests watch what the router hands each thread.

import { describe, expect, it } from 'vitest';
import { EventCounts } from '../engine/event-counts.ts';
import { partitionOf } from '../engine/partitions.ts';
import { ProcessorIndex } from '../engine/processor-index.ts';
import { SubmissionRouter } from '../engine/submission-router.ts';
import { unpack, type PackedSubmission, type Payload } from '../engine/thread-messages.ts';
import { defaultProcessors, type EventResult, type InputEvent } from '../engine/mod.ts';

const PARTITIONS = 8;
const processors = new ProcessorIndex(defaultProcessors());
const threadOf = (event: InputEvent, threads: number) => partitionOf(processors.byType.get(event.type)!.partitionKey(event), PARTITIONS) % threads;

interface Sent {
  thread: number;
  part: number;
  ids: string[];
}

/** A router over `threads` fake engine threads: what each is handed, and a way to answer a part. */
function fakeThreads(threads: number) {
  const sent: Sent[] = [];
  let onSend = () => {};
  const router = new SubmissionRouter({
    processors,
    partitionCount: PARTITIONS,
    threads,
    counts: new EventCounts(),
    refusal: () => undefined,
    send: (thread: number, payload: Payload) => {
      for (const [part, built] of unpack<PackedSubmission[]>(payload)) sent.push({ thread, part, ids: built.map(([e]) => e.id) });
      onSend();
    },
    sendLogged: () => {},
  });
  /** Resolves once `n` parts were handed to the threads in all. */
  const parts = (n: number) =>
    new Promise<void>((resolve) => {
      onSend = () => sent.length >= n && resolve();
      onSend();
    });
  /** A few turns of the event loop: time enough for a part that would go to have gone. */
  const turns = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const answer = (s: Sent) =>
    router.answer(
      s.part,
      s.ids.map((id): EventResult => ({ id, ok: true })),
      undefined,
    );
  return { router, sent, parts, turns, answer };
}

const received = (id: string, sku: string): InputEvent => ({ id, type: 'stock.received', sku, location: 'S1', qty: 16 });
const reserve = (id: string, sku: string): InputEvent => ({ id, type: 'stock.reserve', reservation: `${id}-hold`, sku, qty: 4, ttlMs: 60_000 });

/** A SKU whose events one thread applies and a reservation applied on the other (or the same). */
function keysOn(threads: number, sameThread: boolean): { sku: string; hold: string } {
  const sku = 'sku-0';
  for (let n = 0; n < 1000; n++) {
    const hold = `r-${n}`;
    if ((threadOf(received('x', sku), threads) === threadOf(reserve(hold, sku), threads)) === sameThread) return { sku, hold };
  }
  throw new Error('no such reservation id');
}

describe('a reservation after stock moves of another engine thread in one request', () => {
  it('goes to its thread only after the moves are answered (committed)', async () => {
    const { router, sent, parts, turns, answer } = fakeThreads(2);
    const { sku, hold } = keysOn(2, false);
    const results = router.submit([received('e1', sku), reserve(hold, sku)]);
    await parts(1);
    // Nothing more goes while the move is not durable.
    await turns();
    expect(sent.map((s) => s.ids)).toEqual([['e1']]);
    answer(sent[0]);
    await parts(2);
    expect(sent.map((s) => s.ids)).toEqual([['e1'], [hold]]);
    expect(sent[1].thread).not.toBe(sent[0].thread);
    answer(sent[1]);
    expect((await results).map((r) => r.id)).toEqual(['e1', hold]);
  });

  it('is not cut when its thread applies the moves too, or with one thread: they commit in order', async () => {
    for (const threads of [2, 1]) {
      const { router, sent, parts, answer } = fakeThreads(threads);
      const { sku, hold } = keysOn(threads, true);
      const results = router.submit([received('e1', sku), reserve(hold, sku)]);
      await parts(1);
      expect(sent.map((s) => s.ids)).toEqual([['e1', hold]]);
      answer(sent[0]);
      expect(await results).toHaveLength(2);
    }
  });

  it('is not cut when it comes first; a request sent meanwhile waits for a cut one to be answered whole', async () => {
    const { router, sent, parts, turns, answer } = fakeThreads(2);
    const { sku, hold } = keysOn(2, false);
    const first = router.submit([reserve(hold, sku), received('e1', sku)]);
    await parts(2);
    await turns();
    expect(sent.flatMap((s) => s.ids).sort()).toEqual(['e1', hold].sort());
    sent.splice(0).forEach(answer);
    await first;

    // Another reservation of the same key would overtake the cut one's second part.
    const cut = router.submit([received('e2', sku), reserve(hold, sku)]);
    const later = router.submit([reserve(hold, sku)]);
    await parts(1);
    await turns();
    expect(sent.map((s) => s.ids)).toEqual([['e2']]);
    answer(sent[0]);
    await parts(2);
    await turns();
    expect(sent.map((s) => s.ids)).toEqual([['e2'], [hold]]);
    answer(sent[1]);
    await cut;
    await parts(3);
    expect(sent.map((s) => s.ids)).toEqual([['e2'], [hold], [hold]]);
    answer(sent[2]);
    expect(await later).toHaveLength(1);
  });

  it('holds back only requests sharing a key with the cut one, and those sharing a key with a held one', async () => {
    const { router, sent, parts, turns, answer } = fakeThreads(2);
    const { sku, hold } = keysOn(2, false);
    const cut = router.submit([received('e1', sku), reserve(hold, sku)]);
    await parts(1);
    // Another SKU's request has nothing to keep in order with it: it goes at once.
    const other = router.submit([received('o1', 'sku-other')]);
    await parts(2);
    expect(sent.map((s) => s.ids)).toEqual([['e1'], ['o1']]);
    answer(sent[1]);
    expect((await other).map((r) => r.id)).toEqual(['o1']);
    // The cut one's SKU waits for it; a request of that other SKU and a third one waits behind that one.
    const same = router.submit([received('s1', sku), received('s2', 'sku-third')]);
    const behind = router.submit([received('b1', 'sku-third')]);
    await turns();
    expect(sent.map((s) => s.ids)).toEqual([['e1'], ['o1']]);
    answer(sent[0]);
    await parts(3);
    answer(sent[2]);
    await cut;
    await parts(4);
    await turns();
    expect(sent.slice(3).flatMap((s) => s.ids).sort()).toEqual(['s1', 's2']);
    sent.slice(3).forEach(answer);
    await same;
    await parts(sent.length + 1);
    expect(sent.at(-1)!.ids).toEqual(['b1']);
    answer(sent.at(-1)!);
    expect((await behind).map((r) => r.id)).toEqual(['b1']);
  });
});
