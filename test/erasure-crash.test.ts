// Erasures survive kill -9: `omni serve` (a real child process, fsync, its engine on threads of
// its own) gets a stream of requests, each holding a customer's erasure among other traffic
// (activity of other shoppers, sales), and is killed with SIGKILL while two are in flight, three
// times. The requests in flight when it died are sent again to the restarted server, as a client
// retries. Afterwards every acknowledged erasure is complete: each of the customer's ids is
// unknown to the export, its order keeps its lines without the customer, its request is gone;
// the customers not erased are whole, and a repeated erasure answers as the first did.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EventResult, InputEvent } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { killHard, postEvents, prng, startServe, tempDirs, type RunningServe } from './fixtures/omni-process.ts';

const SEED = Number(process.env.OMNI_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SECRET = 'erasure-crash-secret';
const ADMIN = signToken({ sub: 'ops', role: 'admin' }, SECRET);
const CUSTOMERS = 24;
const KILLS = 3;
/** Requests per round before the one in flight at the kill (at least one). */
const MAX_BEFORE_KILL = 4;

const dirs = tempDirs('omni-erasure-crash-');
const running = new Set<RunningServe>();
afterEach(async () => {
  for (const s of running) await killHard(s);
  running.clear();
});
afterAll(() => dirs.cleanup());

const ids = (i: number) => ({ customer: `c${i}`, phone: `phone:+4915100000${String(i).padStart(3, '0')}`, email: `email:u${i}@example.com` });

function customerEvents(i: number): InputEvent[] {
  const { customer, phone, email } = ids(i);
  return [
    { id: `link-${i}`, type: 'identity.linked', ids: [phone, email], customer },
    { id: `view-${i}`, type: 'activity.viewed', subject: phone, sku: 'A', channel: 'web', ts: 1_000 + i },
    { id: `order-${i}`, type: 'order.placed', order: `o${i}`, customer: email, pickup: 'S1', lines: [{ sku: 'A', qty: 1 }] },
    { id: `ask-${i}`, type: 'service.requested', request: `q${i}`, subject: customer, channel: 'chat', topic: 'returns' },
  ];
}

async function serve(dataDir: string): Promise<RunningServe> {
  const server = await startServe({ dataDir, secret: SECRET, workers: 2 });
  running.add(server);
  return server;
}

async function post(server: RunningServe, events: InputEvent[]): Promise<EventResult[]> {
  const answer = await postEvents(server.url, ADMIN, events);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.results as EventResult[];
}

async function get(server: RunningServe, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return { status: response.status, body: await response.json() };
}

describe('customer.erased across kill -9', () => {
  it(`every acknowledged erasure is complete after restart (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const dataDir = dirs.make();
    let server = await serve(dataDir);
    const setup: InputEvent[] = [
      { id: 'loc', type: 'location.upserted', location: 'S1', kind: 'store', lat: 1, lon: 2 },
      { id: 'stock-A', type: 'stock.received', sku: 'A', location: 'S1', qty: 1000 },
      { id: 'stock-B', type: 'stock.received', sku: 'B', location: 'S1', qty: 1000 },
    ];
    expect((await post(server, setup)).every((a) => a.ok)).toBe(true);
    for (let i = 0; i < CUSTOMERS; i++) expect((await post(server, customerEvents(i))).filter((a) => !a.ok), `customer ${i}`).toEqual([]);
    for (let i = 0; i < CUSTOMERS; i++) {
      expect((await post(server, [{ id: `say-${i}`, type: 'service.message', request: `q${i}`, from: 'customer', text: `call me on ${ids(i).phone}` }]))[0].ok).toBe(true);
    }

    const acknowledged = new Map<number, EventResult>();
    let next = 0;
    let traffic = 0;
    const request = (): { erased: number; events: InputEvent[] } => {
      const erased = next++;
      const other = traffic++;
      return {
        erased,
        events: [
          { id: `view-other-${other}`, type: 'activity.viewed', subject: `shopper${other}`, sku: 'B', channel: 'app', ts: 5_000 + other },
          { id: `erase-${erased}`, type: 'customer.erased', customer: erased % 2 === 0 ? ids(erased).phone : ids(erased).email },
          { id: `sold-${other}`, type: 'stock.sold', sku: 'B', location: 'S1', qty: 1 },
        ],
      };
    };
    const record = (erased: number, answers: EventResult[]) => {
      expect(answers.every((a) => a.ok), JSON.stringify(answers)).toBe(true);
      acknowledged.set(erased, answers[1]);
    };

    for (let round = 0; round < KILLS; round++) {
      const before = random.int(1, MAX_BEFORE_KILL);
      for (let k = 0; k < before; k++) {
        const r = request();
        record(r.erased, await post(server, r.events));
      }
      // Two requests in flight when the process dies, a few milliseconds in: maybe applied, maybe
      // answered, maybe not even read.
      const inFlight = [request(), request()];
      const firstAnswers = inFlight.map((r) => postEvents(server.url, ADMIN, r.events).then((a) => a.body.results as EventResult[], () => undefined));
      await new Promise((resolve) => setTimeout(resolve, random.int(0, 15)));
      expect((await killHard(server)).signal).toBe('SIGKILL');
      running.delete(server);
      const answeredBefore = await Promise.all(firstAnswers);
      server = await serve(dataDir);
      // The client's retries: the same ids, answered as the first time (or now, if never applied).
      for (const [n, r] of inFlight.entries()) {
        const answers = await post(server, r.events);
        const first = answeredBefore[n];
        if (first !== undefined) expect(answers[1]).toEqual({ ...first[1], duplicate: true });
        record(r.erased, answers);
      }
    }

    expect(acknowledged.size).toBe(next);
    for (const [i, answer] of acknowledged) {
      const { customer, phone, email } = ids(i);
      expect(answer, `erasure ${i}`).toMatchObject({ ok: true, erased: { ids: 3, orders: 1, requests: 1, messages: 1 } });
      for (const id of [customer, phone, email]) expect((await get(server, `/v1/customers/${encodeURIComponent(id)}`)).status, id).toBe(404);
      const order = await get(server, `/v1/orders/o${i}`);
      expect(order.body).toMatchObject({ order: `o${i}`, status: 'placed', lines: [{ sku: 'A', qty: 1 }] });
      expect(order.body.customer, `order o${i}`).toBeUndefined();
      expect((await get(server, `/v1/requests/q${i}`)).status).toBe(404);
    }
    // The customers not erased are whole.
    for (let i = next; i < CUSTOMERS; i++) {
      const held = await get(server, `/v1/customers/${encodeURIComponent(ids(i).email)}`);
      expect(held.status, `customer ${i}`).toBe(200);
      expect(held.body.customer).toBe(`c${i}`);
    }
    // Sent again, every erasure answers as the first time, marked duplicate.
    for (const [i, answer] of acknowledged) {
      const [again] = await post(server, [{ id: `erase-${i}`, type: 'customer.erased', customer: i % 2 === 0 ? ids(i).phone : ids(i).email }]);
      const { duplicate: _first, ...firstAnswer } = answer as EventResult & { duplicate?: boolean };
      expect(again).toEqual({ ...firstAnswer, duplicate: true });
    }
  }, 120_000);
});
