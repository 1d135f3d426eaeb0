// Crash test: `omni serve --durability fsync` ingests over HTTP from several concurrent clients
// and is killed with SIGKILL at random moments, then restarted on the same data dir, again and
// again. Afterwards:
//   (a) the state equals a replay, in a fresh engine, of every event in each client's send order,
//       and every answer the server gave equals the replay's answer: nothing acknowledged was
//       lost, nothing was applied twice or out of order;
//       Shoppers' events (activity, identity links) are in the mix too, over ids of their own
//       client, and each resolves to the same customer as in the replay;
//   (b) sending every event again changes nothing: each answer is the first one with
//       "duplicate": true, and the stock (seq included) stays as it was.
//
// Each client is a sequential stream (next request after the answer) over its own SKUs, so the
// order of every SKU's events is exactly its client's send order, and the replay sends each
// client's requests the same way. A request without an answer
// when the process died is "maybe applied"; the client sends it again, first thing, to the
// restarted server, exactly as a real client retries, and the answer says which it was
// (duplicate: true = applied before the crash). The seed is printed; OMNI_CRASH_SEED replays it.
// It runs twice: with the engine in the request thread (--workers 1) and on a thread of its own
// (--workers 2), where an answer waits for the engine thread's commit.

import { Agent } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, type EventResult, type InputEvent } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import {
  getStock,
  httpPost,
  killHard,
  prng,
  spawnServe,
  startServe,
  tempDirs,
  type Prng,
  type RunningServe,
} from './fixtures/omni-process.ts';

const SEED = Number(process.env.OMNI_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Kills per worker count (two counts run: 12 in all). */
const KILLS = 6;
/** Extra kills while the process is still starting (LMDB open, recovery), not counted above. */
const STARTUP_KILLS = new Set([2]);
const WORKERS = 4;
const SKUS_PER_WORKER = 3;
const SECRET = 'crash-test-secret';
const TOKEN = signToken({ sub: 'crash-feed', role: 'ingest' }, SECRET);
/** Holds that never expire during the test, in the server (real clock) or the replay. */
const TTL_MS = 30 * 24 * 3600 * 1000;

const LOCATIONS: InputEvent[] = [
  { id: 'loc-S1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 31.23, lon: 121.47, lowStock: 2 },
  { id: 'loc-S2', type: 'location.upserted', location: 'S2', kind: 'store', lat: 31.0, lon: 121.2 },
  { id: 'loc-WH', type: 'location.upserted', location: 'WH', kind: 'warehouse', lat: 30.5, lon: 120.9 },
];
const LOCATION_IDS = ['S1', 'S2', 'WH'];
const SAGA_TYPES = new Set(['stock.reserve', 'stock.release', 'stock.commit', 'order.placed', 'order.fulfilled', 'order.cancelled']);

const dirs = tempDirs('omni-crash-test-');
afterAll(() => dirs.cleanup());

interface Sent {
  event: InputEvent;
  /** The first answer, without the duplicate flag. */
  answer?: EventResult;
}

/** One client: a sequential stream of batches over its own SKUs. */
class Client {
  readonly skus: string[];
  readonly sent: Sent[] = [];
  /** The same events as sent, one entry per request: the replay sends them so. */
  readonly requests: Sent[][] = [];
  /** The batch sent last and not answered (maybe applied); sent again first. */
  pending: Sent[] | undefined;
  maybeEvents = 0;
  maybeAppliedBeforeCrash = 0;
  private next = 0;
  /** A reservation or order event made for a request that had one already: the next request's first. */
  private carried: InputEvent | undefined;
  private readonly holds = new Set<string>();
  private readonly orders = new Set<string>();
  private readonly closedOrders: string[] = [];
  /** The SKUs each reservation or order this client named holds or will hold (its steps' SKUs). */
  private readonly sagaSkus = new Map<string, string[]>();

  constructor(
    readonly n: number,
    private readonly rng: Prng,
  ) {
    this.skus = Array.from({ length: SKUS_PER_WORKER }, (_, k) => `c${n}-sku${k}`);
  }

  /** Sends batches until `stop()` says so or the connection fails (the server died). */
  async run(url: string, agent: Agent, stop: () => boolean, onAnswer: () => void): Promise<void> {
    while (!stop()) {
      const retry = this.pending !== undefined;
      const batch = (this.pending ??= this.generate());
      let answer;
      try {
        answer = await httpPost(agent, url, TOKEN, batch.map((s) => s.event));
      } catch {
        if (!retry) this.maybeEvents += batch.length;
        return;
      }
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      this.record(batch, answer.body.results, retry);
      this.pending = undefined;
      onAnswer();
    }
  }

  private record(batch: Sent[], results: EventResult[], retry: boolean): void {
    expect(results).toHaveLength(batch.length);
    results.forEach((result, i) => {
      const sent = batch[i];
      expect(result.id).toBe(sent.event.id);
      const { duplicate, ...first } = result;
      // Ids are never reused: only a retry of an unanswered request may find its events applied.
      if (duplicate) expect(retry, `${sent.event.id} answered duplicate on its first send`).toBe(true);
      if (retry && duplicate) this.maybeAppliedBeforeCrash++;
      sent.answer = first as EventResult;
      this.learn(sent.event, first as EventResult);
    });
  }

  /** What the client knows from its answers, to make later events mostly meaningful. */
  private learn(ev: InputEvent, answer: EventResult): void {
    if (!answer.ok) return;
    if (ev.type === 'stock.reserve') this.holds.add(ev.reservation as string);
    if (ev.type === 'stock.release' || ev.type === 'stock.commit') this.holds.delete(ev.reservation as string);
    if (ev.type === 'order.placed') this.orders.add(ev.order as string);
    if (ev.type === 'order.fulfilled' || ev.type === 'order.cancelled') {
      this.orders.delete(ev.order as string);
      this.closedOrders.push(ev.order as string);
    }
  }

  private generate(): Sent[] {
    // A reservation's or order's steps run at its SKUs after its request's commit, and only the
    // stock moves sent before it in its request are promised to come first (docs/protocol.md,
    // "Threads"). So a request holds at most one reservation or order event (two on one SKU may
    // take its stock in either order), and none of its SKUs' stock moves after it: one thread
    // applies such a move before the steps, while two threads apply it after them when an
    // identity link between them cuts the request. Both go to the next request instead.
    const batch: Sent[] = [];
    const size = this.rng.int(1, 25);
    let saga: Set<string> | undefined;
    while (batch.length < size) {
      const event = this.carried ?? this.event();
      this.carried = undefined;
      const sagaEvent = SAGA_TYPES.has(event.type);
      if ((saga && sagaEvent) || (saga?.has(event.sku as string) && event.type.startsWith('stock.'))) {
        this.carried = event;
        break;
      }
      if (sagaEvent) saga = new Set(this.skusOfSaga(event));
      batch.push({ event });
    }
    this.sent.push(...batch);
    this.requests.push(batch);
    return batch;
  }

  /** The SKUs whose stock a reservation or order event's steps read or change. */
  private skusOfSaga(ev: InputEvent): string[] {
    const id = (ev.reservation ?? ev.order) as string;
    const named = ev.type === 'stock.reserve' ? [ev.sku as string] : ev.type === 'order.placed' ? (ev.lines as { sku: string }[]).map((l) => l.sku) : [];
    // A reserve may reuse a held id (a conflict): keep the SKUs of both.
    const skus = [...new Set([...(this.sagaSkus.get(id) ?? []), ...named])];
    this.sagaSkus.set(id, skus);
    return skus;
  }

  /** Shoppers of this client only, so their answers do not depend on other clients' timing. */
  readonly shoppers: string[] = [];

  private customerEvent(id: string): InputEvent {
    const { rng } = this;
    const k = rng.int(1, 6);
    // Event time moves a minute per event, with now and then a gap that ends a session.
    const ts = 1_700_000_000_000 + this.next * 60_000 + (rng.chance(0.1) ? 3600_000 : 0);
    if (rng.chance(0.3)) {
      const ids = [`device:c${this.n}-d${k}`, rng.chance(0.5) ? `phone:c${this.n}-p${rng.int(1, 4)}` : `email:c${this.n}-${rng.int(1, 4)}@x`];
      return { id, type: 'identity.linked', ids, ...(rng.chance(0.5) ? { customer: `c${this.n}-member${rng.int(1, 3)}` } : {}), ts };
    }
    const subject = rng.chance(0.5) ? `device:c${this.n}-d${k}` : `phone:c${this.n}-p${rng.int(1, 4)}`;
    if (!this.shoppers.includes(subject)) this.shoppers.push(subject);
    return { id, type: rng.pick(['activity.viewed', 'activity.viewed', 'activity.carted']), subject, sku: rng.pick(this.skus), channel: 'app', ts };
  }

  private event(): InputEvent {
    const { rng } = this;
    const id = `c${this.n}-e${this.next++}`;
    if (rng.chance(0.15)) return this.customerEvent(id);
    const sku = rng.pick(this.skus);
    const location = rng.pick(LOCATION_IDS);
    const known = (set: Set<string>, unknown: string) => (set.size > 0 && rng.chance(0.85) ? rng.pick([...set]) : unknown);
    const r = rng.next();
    if (r < 0.18) return { id, type: 'stock.received', sku, location, qty: rng.int(1, 20) };
    if (r < 0.22) return { id, type: 'stock.returned', sku, location, qty: rng.int(1, 3), channel: 'web' };
    if (r < 0.32) return { id, type: 'stock.sold', sku, location, qty: rng.int(1, 6), channel: 'store' };
    if (r < 0.35) return { id, type: 'stock.adjusted', sku, location, onHand: rng.int(0, 40) };
    if (r < 0.38) return { id, type: 'stock.safety', sku, location, safety: rng.int(0, 4) };
    if (r < 0.56) {
      // Now and then an id already held: a conflict.
      const reservation = this.holds.size > 0 && rng.chance(0.05) ? rng.pick([...this.holds]) : `${id}-hold`;
      const ev: InputEvent = { id, type: 'stock.reserve', reservation, sku, qty: rng.int(1, 6), ttlMs: TTL_MS };
      if (rng.chance(0.7)) ev.location = location;
      return ev;
    }
    if (r < 0.64) return { id, type: 'stock.release', reservation: known(this.holds, `${id}-none`) };
    if (r < 0.71) return { id, type: 'stock.commit', reservation: known(this.holds, `${id}-none`) };
    if (r < 0.79) {
      const to = rng.pick(LOCATION_IDS.filter((l) => l !== location));
      return { id, type: 'stock.transfer', transfer: `${id}-t`, sku, from: location, to, qty: rng.int(1, 8) };
    }
    if (r < 0.9) {
      const lines = Array.from({ length: rng.int(1, 3) }, () => ({ sku: rng.pick(this.skus), qty: rng.int(1, 4) }));
      const ev: InputEvent = { id, type: 'order.placed', order: `${id}-order`, lines, customer: `cust-${rng.int(1, 5)}` };
      // WH as pickup is refused (not a store): a rejection to replay too.
      if (rng.chance(0.5)) ev.pickup = location;
      else ev.ship = { lat: 30 + rng.int(0, 2000) / 1000, lon: 120.5 + rng.int(0, 1500) / 1000 };
      return ev;
    }
    const order = this.orders.size > 0 && rng.chance(0.85) ? rng.pick([...this.orders]) : this.closedOrders.at(-1) ?? `${id}-none`;
    return { id, type: rng.chance(0.5) ? 'order.fulfilled' : 'order.cancelled', order };
  }
}

/** The answer as the replay can reproduce it: `expiresAt` follows each run's own clock. */
function comparable(answer: EventResult | undefined): unknown {
  if (answer === undefined) return undefined;
  const { expiresAt: _expiresAt, duplicate: _duplicate, ...rest } = answer as Record<string, unknown>;
  return rest;
}

describe.each([1, 2])('omni serve --workers %i', (workers) => {
  it(
    `SIGKILL ${KILLS}+ times mid-ingest: state = replay of all acknowledged events, none applied twice (seed ${SEED})`,
    async () => {
      const rng = prng(SEED);
      const dataDir = dirs.make();
      const clients = Array.from({ length: WORKERS }, (_, n) => new Client(n, prng(SEED + 1 + n)));
      let server: RunningServe | undefined;
      let killed = 0;
      let answersAtKill = 0;
      const stop = async (s: RunningServe | undefined) => {
        if (s) await killHard(s);
      };

      try {
        server = await startServe({ dataDir, secret: SECRET, workers });
        const setup = await httpPost(new Agent(), server.url, TOKEN, LOCATIONS);
        expect(setup.body.results.every((r: EventResult) => r.ok)).toBe(true);

        for (let round = 0; round < KILLS; round++) {
          const agent = new Agent({ keepAlive: true });
          const target = rng.int(3, 30);
          const extraDelay = rng.int(0, 15);
          let answers = 0;
          let killIssued = false;
          const current: RunningServe = server!;
          const kill = () => {
            if (killIssued) return;
            killIssued = true;
            answersAtKill += answers;
            current.child.kill('SIGKILL');
          };
          const onAnswer = () => {
            if (++answers === target) setTimeout(kill, extraDelay);
          };
          await Promise.all(clients.map((c) => c.run(current.url, agent, () => killIssued, onAnswer)));
          // Every client stops only when its connection fails: if the kill was not ours, the
          // process died by itself.
          expect(killIssued, `the server died on its own:\n${current.stderr()}`).toBe(true);
          expect(await current.exited).toEqual({ code: null, signal: 'SIGKILL' });
          agent.destroy();
          killed++;

          if (STARTUP_KILLS.has(round)) {
            const starting = spawnServe({ dataDir, secret: SECRET, workers });
            await new Promise((resolve) => setTimeout(resolve, rng.int(0, 1200)));
            await killHard(starting);
          }
          server = await startServe({ dataDir, secret: SECRET, workers });
        }

        // The last restart: every client's unanswered batch is sent again, so all is answered.
        const agent = new Agent({ keepAlive: true });
        const final = server!;
        await Promise.all(clients.map((c) => (c.pending ? c.run(final.url, agent, () => c.pending === undefined, () => {}) : undefined)));
        for (const c of clients) {
          expect(c.pending).toBeUndefined();
          for (const s of c.sent) expect(s.answer, s.event.id).toBeDefined();
        }

        // (a) Replay every event, per client in its send order, in a fresh engine whose clock
        // stands still (so no hold expires).
        const replay = await openEngine({
          path: dirs.make(),
          processors: defaultProcessors(),
          clock: { now: () => 1_700_000_000_000 },
          autoTimers: false,
          durability: 'none',
        });
        try {
          expect((await replay.submit(LOCATIONS)).every((r) => r.ok)).toBe(true);
          for (const c of clients) {
            // Request by request, each after the answer of the one before, as the client sent
            // them: a reservation's or an order's steps run on other partitions after its
            // request's commit, so where the next request starts matters, as it did live.
            const expected: EventResult[] = [];
            for (const request of c.requests) expected.push(...(await replay.submit(request.map((s) => s.event))));
            const mismatch = c.sent.findIndex((s, i) => JSON.stringify(comparable(s.answer)) !== JSON.stringify(comparable(expected[i])));
            if (mismatch >= 0) {
              const s = c.sent[mismatch];
              expect.fail(
                `client ${c.n}, event #${mismatch} ${JSON.stringify(s.event)}:\n  server said ${JSON.stringify(s.answer)}\n  replay says ${JSON.stringify(expected[mismatch])}`,
              );
            }
          }

          const skus = clients.flatMap((c) => c.skus);
          const stockBefore = new Map<string, unknown>();
          for (const sku of skus) {
            const got = await getStock(final.url, sku);
            const want = replay.snapshot(`stock/${sku}`)?.data;
            if (want === undefined) {
              expect(got.status, sku).toBe(404);
            } else {
              expect(got.status, sku).toBe(200);
              const { seq, ...data } = got.body;
              expect(data, sku).toEqual(want);
              expect(seq, sku).toBeGreaterThan(0);
            }
            stockBefore.set(sku, got);
          }

          // Every shopper resolves to the same customer as in the replay, with a list.
          for (const c of clients) {
            for (const subject of c.shoppers) {
              const got = await fetch(`${final.url}/v1/customers/${encodeURIComponent(subject)}/recommendations`, { headers: { authorization: `Bearer ${TOKEN}` } });
              const want = replay.query('customers', 'recommendations', { subject, limit: 20 }) as { customer: string };
              expect(got.status, subject).toBe(200);
              expect(((await got.json()) as { customer: string }).customer, subject).toBe(want.customer);
            }
          }

          // (b) Every event again: all duplicates with their first answers; nothing moves. An
          // invalid_event is not remembered (a corrected event may reuse its id): it is decided
          // again, the same way.
          const again = (answer: EventResult | undefined) =>
            (answer as { error?: { code?: string } }).error?.code === 'invalid_event' ? answer : { ...answer, duplicate: true };
          for (const c of clients) {
            for (let i = 0; i < c.sent.length; i += 1000) {
              const chunk = c.sent.slice(i, i + 1000);
              const resent = await httpPost(agent, final.url, TOKEN, chunk.map((s) => s.event));
              expect(resent.status).toBe(200);
              expect(resent.body.results).toEqual(chunk.map((s) => again(s.answer)));
            }
          }
          for (const sku of skus) expect(await getStock(final.url, sku), sku).toEqual(stockBefore.get(sku));
        } finally {
          await replay.close();
        }
        agent.destroy();

        const events = clients.reduce((n, c) => n + c.sent.length, 0);
        const maybe = clients.reduce((n, c) => n + c.maybeEvents, 0);
        const appliedBefore = clients.reduce((n, c) => n + c.maybeAppliedBeforeCrash, 0);
        console.log(
          `crash test (--workers ${workers}) seed ${SEED}: ${killed} kills (+${STARTUP_KILLS.size} during start-up), ${events} events, ` +
            `${answersAtKill} answers before the kills, ${maybe} events unanswered at a kill (${appliedBefore} of them had been applied)`,
        );
        expect(killed).toBe(KILLS);
        expect(maybe, 'some requests were in flight at the kills').toBeGreaterThan(0);
      } finally {
        await stop(server);
      }
    },
    120_000,
  );
});
