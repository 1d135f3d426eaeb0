// Crash test of returns anywhere: ship orders whose two lines are allocated at two warehouses
// (each line's SKU is stocked at one of them only) are shipped and returned at a third
// location, a store, in one or two returns (or one return of part of it), while other stock
// traffic (receipts, counter sales, transfers) runs beside them. Several clients stream this over HTTP, each request after the
// answer of the one before, and `omni serve` is killed with SIGKILL at random moments, restarted
// on the same data dir, and each client sends its unanswered request again first, as a real
// client retries. Afterwards:
//   - every acknowledged return is on its order exactly once, with every line it named (all or
//     nothing), and the order's status and returned units follow from them;
//   - every SKU's stock, at every location, is what the acknowledged events make it: on hand
//     = received − sold ± transferred − shipped + returned, nothing left reserved; in sum over
//     every SKU, on hand = received − shipped + returned − sold;
//   - sending every return again changes nothing: each is answered as the first time, duplicate.
// The seed is printed; OMNI_RETURN_CRASH_SEED replays it.

import { Agent } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventResult, InputEvent } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { getStock, httpPost, killHard, prng, startServe, tempDirs, type Prng, type RunningServe } from './fixtures/omni-process.ts';

const SEED = Number(process.env.OMNI_RETURN_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KILLS = 4;
const CLIENTS = 3;
const ORDERS_PER_CLIENT = 16;
const SECRET = 'return-crash-secret';
const TOKEN = signToken({ sub: 'return-crash', role: 'admin' }, SECRET);
const SHIP_TO = { lat: 49.0, lon: 10.0 };
const LOCATIONS: InputEvent[] = [
  { id: 'loc-W1', type: 'location.upserted', location: 'W1', kind: 'warehouse', lat: 50.1, lon: 8.7 },
  { id: 'loc-W2', type: 'location.upserted', location: 'W2', kind: 'warehouse', lat: 48.1, lon: 11.6 },
  { id: 'loc-S3', type: 'location.upserted', location: 'S3', kind: 'store', lat: 52.5, lon: 13.4 },
];

const dirs = tempDirs('omni-return-crash-');
afterAll(() => dirs.cleanup());

interface Sent {
  event: InputEvent;
  /** The first answer, without the duplicate flag. */
  answer?: EventResult & Record<string, any>;
}

/**
 * One client's script: per order, a request with its receipts and the order, one with its
 * shipping, one or two with its returns at S3; other stock traffic goes before the order event
 * of a request, on SKUs of the client's earlier orders (a request's stock moves after its order
 * event could reach a SKU before or after the order's steps there).
 */
function script(n: number, rng: Prng): InputEvent[][] {
  const requests: InputEvent[][] = [];
  const old: string[] = [];
  let e = 0;
  const id = () => `c${n}-e${e++}`;
  const noise = (): InputEvent[] => {
    if (old.length === 0) return [];
    return Array.from({ length: rng.int(0, 4) }, (): InputEvent => {
      const sku = rng.pick(old);
      const r = rng.next();
      if (r < 0.4) return { id: id(), type: 'stock.received', sku, location: rng.pick(['W1', 'W2', 'S3']), qty: rng.int(1, 5) };
      if (r < 0.7) return { id: id(), type: 'stock.sold', sku, location: 'S3', qty: rng.int(1, 2), channel: 'store' };
      return { id: id(), type: 'stock.transfer', transfer: `${id()}-t`, sku, from: 'S3', to: 'W1', qty: 1 };
    });
  };
  for (let i = 0; i < ORDERS_PER_CLIENT; i++) {
    const order = `c${n}-o${i}`;
    const a = `${order}-a`;
    const b = `${order}-b`;
    const qa = rng.int(1, 3);
    const qb = rng.int(1, 3);
    requests.push([
      ...noise(),
      { id: id(), type: 'stock.received', sku: a, location: 'W1', qty: qa + rng.int(0, 2) },
      { id: id(), type: 'stock.received', sku: b, location: 'W2', qty: qb + rng.int(0, 2) },
      { id: id(), type: 'order.placed', order, customer: `cust-${n}`, channel: 'web', ship: SHIP_TO, lines: [{ sku: a, qty: qa, price: 300 }, { sku: b, qty: qb, price: 450 }] },
    ]);
    requests.push([...noise(), { id: id(), type: 'order.shipped', order }]);
    // All at once, or part first and the rest later.
    const firstA = rng.chance(0.5) ? qa : rng.int(0, qa - 1);
    const firstB = firstA === qa ? qb : rng.int(1, qb);
    const first = [...(firstA > 0 ? [{ sku: a, qty: firstA }] : []), { sku: b, qty: firstB }];
    requests.push([...noise(), { id: id(), type: 'order.returned', return: `${order}-r1`, order, location: 'S3', channel: 'store', lines: first }]);
    const rest = [...(qa > firstA ? [{ sku: a, qty: qa - firstA }] : []), ...(qb > firstB ? [{ sku: b, qty: qb - firstB }] : [])];
    // Some orders keep the rest: partially_returned.
    if (rest.length > 0 && rng.chance(0.75)) requests.push([...noise(), { id: id(), type: 'order.returned', return: `${order}-r2`, order, location: 'S3', lines: rest }]);
    old.push(a, b);
  }
  return requests;
}

class Client {
  readonly requests: Sent[][];
  private next = 0;
  /** Requests unanswered at a kill, those of them holding a return, and events found applied when sent again. */
  maybe = 0;
  maybeReturns = 0;
  appliedBefore = 0;

  constructor(n: number, rng: Prng) {
    this.requests = script(n, rng).map((r) => r.map((event) => ({ event })));
  }

  get done(): boolean {
    return this.next >= this.requests.length;
  }

  get sent(): Sent[] {
    return this.requests.slice(0, this.next).flat();
  }

  /** Sends requests in order until the script ends, `stop()` says so, or the connection fails. */
  async run(url: string, agent: Agent, stop: () => boolean, onAnswer: () => void): Promise<void> {
    let retry = true;
    while (!this.done && !stop()) {
      const batch = this.requests[this.next];
      let answer;
      try {
        answer = await httpPost(agent, url, TOKEN, batch.map((s) => s.event));
      } catch {
        this.maybe++;
        if (batch.some((s) => s.event.type === 'order.returned')) this.maybeReturns++;
        return;
      }
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.results).toHaveLength(batch.length);
      answer.body.results.forEach((result: EventResult & { duplicate?: true }, i: number) => {
        const { duplicate, ...first } = result;
        // Only the request sent again after a kill may find its events applied already.
        if (duplicate) expect(retry, `${batch[i].event.id} answered duplicate on its first send`).toBe(true);
        if (duplicate) this.appliedBefore++;
        batch[i].answer = first as Sent['answer'];
      });
      this.next++;
      retry = false;
      onAnswer();
    }
  }
}

/** sku → location → [onHand, reserved], from the acknowledged events alone. */
function expectedStock(sent: Sent[]): Map<string, Map<string, [number, number]>> {
  const stock = new Map<string, Map<string, [number, number]>>();
  const add = (sku: string, location: string, onHand: number, reserved: number) => {
    const rows = stock.get(sku) ?? stock.set(sku, new Map()).get(sku)!;
    const [h, r] = rows.get(location) ?? [0, 0];
    rows.set(location, [h + onHand, r + reserved]);
  };
  const allocations = new Map<string, Array<{ sku: string; qty: number; location: string }>>();
  for (const { event: ev, answer } of sent) {
    // A transfer may find too little at S3 (sold there meanwhile): refused, it moved nothing. Everything else is applied.
    if (ev.type === 'stock.transfer' && answer?.ok === false) {
      expect(answer.error.code, ev.id).toBe('insufficient_stock');
      continue;
    }
    expect(answer?.ok, `${ev.id} ${ev.type}: ${JSON.stringify(answer)}`).toBe(true);
    if (ev.type === 'stock.received') add(ev.sku as string, ev.location as string, ev.qty as number, 0);
    if (ev.type === 'stock.sold') add(ev.sku as string, ev.location as string, -(ev.qty as number), 0);
    if (ev.type === 'stock.transfer') {
      add(ev.sku as string, ev.from as string, -(ev.qty as number), 0);
      add(ev.sku as string, ev.to as string, ev.qty as number, 0);
    }
    if (ev.type === 'order.placed') {
      allocations.set(ev.order as string, answer!.allocation);
      for (const a of answer!.allocation) add(a.sku, a.location, 0, a.qty);
    }
    if (ev.type === 'order.shipped') for (const a of allocations.get(ev.order as string)!) add(a.sku, a.location, -a.qty, -a.qty);
    if (ev.type === 'order.returned') for (const l of ev.lines as Array<{ sku: string; qty: number }>) add(l.sku, ev.location as string, l.qty, 0);
  }
  return stock;
}

const sum = (sent: Sent[], type: string, qty: (ev: InputEvent) => number) => sent.filter((s) => s.event.type === type).reduce((n, s) => n + qty(s.event), 0);
const linesQty = (ev: InputEvent) => (ev.lines as Array<{ qty: number }>).reduce((n, l) => n + l.qty, 0);

describe.each([1, 2])('omni serve --workers %i', (workers) => {
  it(`returns at a third store of orders allocated at two warehouses, SIGKILL ${KILLS} times mid-stream: each acknowledged return applied once, whole; stock totals right (seed ${SEED})`, async () => {
    const rng = prng(SEED + workers);
    const dataDir = dirs.make();
    const clients = Array.from({ length: CLIENTS }, (_, n) => new Client(n, prng(SEED + 100 * workers + n)));
    let server: RunningServe = await startServe({ dataDir, secret: SECRET, workers });
    try {
      const setup = await httpPost(new Agent(), server.url, TOKEN, LOCATIONS);
      expect(setup.body.results.every((r: EventResult) => r.ok)).toBe(true);

      for (let round = 0; round < KILLS; round++) {
        const agent = new Agent({ keepAlive: true });
        const target = rng.int(4, 20);
        let answers = 0;
        let killed = false;
        const current = server;
        const onAnswer = () => {
          if (++answers !== target) return;
          setTimeout(() => {
            killed = true;
            current.child.kill('SIGKILL');
          }, rng.int(0, 10));
        };
        await Promise.all(clients.map((c) => c.run(current.url, agent, () => killed, onAnswer)));
        expect(killed, `the stream ended before the kill, or the server died on its own:\n${current.stderr()}`).toBe(true);
        expect(await current.exited).toEqual({ code: null, signal: 'SIGKILL' });
        agent.destroy();
        server = await startServe({ dataDir, secret: SECRET, workers });
      }

      const agent = new Agent({ keepAlive: true });
      const final = server;
      await Promise.all(clients.map((c) => c.run(final.url, agent, () => false, () => {})));
      for (const c of clients) expect(c.done).toBe(true);
      const sent = clients.flatMap((c) => c.sent);

      // Every acknowledged return is on its order once, whole; the order's state follows from them.
      const orders = new Map<string, { placed: InputEvent; returns: InputEvent[] }>();
      for (const { event } of sent) {
        if (event.type === 'order.placed') orders.set(event.order as string, { placed: event, returns: [] });
        if (event.type === 'order.returned') orders.get(event.order as string)!.returns.push(event);
      }
      for (const [id, { placed, returns }] of orders) {
        const response = await fetch(`${final.url}/v1/orders/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(response.status, id).toBe(200);
        const view = (await response.json()) as any;
        const lines = placed.lines as Array<{ sku: string; qty: number; price: number }>;
        expect(new Set(view.allocation.map((a: { location: string }) => a.location)), id).toEqual(new Set(['W1', 'W2']));
        expect(view.returns.map((r: { return: string }) => r.return), id).toEqual(returns.map((r) => r.return));
        for (const [i, r] of returns.entries()) {
          const refund = (r.lines as Array<{ sku: string; qty: number }>).reduce((n, l) => n + l.qty * lines.find((x) => x.sku === l.sku)!.price, 0);
          expect(view.returns[i], id).toMatchObject({ return: r.return, location: 'S3', lines: r.lines, refund });
        }
        const returned = (sku: string) => returns.flatMap((r) => r.lines as Array<{ sku: string; qty: number }>).filter((l) => l.sku === sku).reduce((n, l) => n + l.qty, 0);
        expect(view.lines, id).toEqual(lines.map((l) => ({ ...l, returned: returned(l.sku) })));
        expect(view.status, id).toBe(lines.every((l) => returned(l.sku) === l.qty) ? 'returned' : 'partially_returned');
      }

      // Every SKU's stock, location by location, is what the acknowledged events make it.
      const expected = expectedStock(sent);
      let onHand = 0;
      for (const [sku, rows] of expected) {
        const got = await getStock(final.url, sku);
        expect(got.status, sku).toBe(200);
        for (const [location, [h, r]] of rows) expect(got.body.locations[location], `${sku}@${location}`).toMatchObject({ onHand: h, reserved: r });
        for (const [location, row] of Object.entries(got.body.locations as Record<string, { onHand: number; reserved: number }>)) {
          if (!rows.has(location)) expect(row, `${sku}@${location}`).toMatchObject({ onHand: 0, reserved: 0 });
        }
        expect(got.body.reserved, sku).toBe(0);
        onHand += got.body.onHand;
      }
      const received = sum(sent, 'stock.received', (ev) => ev.qty as number);
      const sold = sum(sent, 'stock.sold', (ev) => ev.qty as number);
      const shipped = [...orders.values()].reduce((n, o) => n + linesQty(o.placed), 0);
      const returned = sum(sent, 'order.returned', linesQty);
      expect(onHand).toBe(received - shipped + returned - sold);

      // Every return again: answered as the first time, duplicate; no stock moves.
      const returnsSent = sent.filter((s) => s.event.type === 'order.returned');
      const before = await Promise.all([...expected.keys()].map((sku) => getStock(final.url, sku)));
      const again = await httpPost(agent, final.url, TOKEN, returnsSent.map((s) => s.event));
      expect(again.body.results).toEqual(returnsSent.map((s) => ({ ...s.answer, duplicate: true })));
      expect(await Promise.all([...expected.keys()].map((sku) => getStock(final.url, sku)))).toEqual(before);
      agent.destroy();

      const count = (field: 'maybe' | 'maybeReturns' | 'appliedBefore') => clients.reduce((n, c) => n + c[field], 0);
      const maybe = count('maybe');
      console.log(
        `return crash test (--workers ${workers}) seed ${SEED}: ${KILLS} kills, ${sent.length} events, ${returnsSent.length} returns of ${orders.size} orders, ` +
          `${maybe} requests unanswered at a kill (${count('maybeReturns')} with a return; ${count('appliedBefore')} events found applied when sent again); ` +
          `on hand ${onHand} = received ${received} − shipped ${shipped} + returned ${returned} − sold ${sold}`,
      );
      expect(maybe, 'some requests were in flight at the kills').toBeGreaterThan(0);
    } finally {
      await killHard(server);
    }
  }, 180_000);
});
