// Loyalty points and a single-use coupon survive kill -9: `omni serve` (a real child process,
// fsync, two engine threads) gets requests that earn, redeem and refund points of linked
// customers by their different ids and use one coupon, and is killed with SIGKILL while two are
// in flight, three times. The requests in flight are sent again to the restarted server, as a
// client retries. Afterwards a retry answers as the first time, every balance is what its
// answered events make it (nothing lost, nothing applied twice, never below zero), and the
// coupon was used once.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EventResult, InputEvent } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { killHard, postEvents, prng, startServe, tempDirs, type RunningServe } from './fixtures/omni-process.ts';

const SEED = Number(process.env.OMNI_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SECRET = 'loyalty-crash-secret';
const ADMIN = signToken({ sub: 'ops', role: 'admin' }, SECRET);
const CUSTOMERS = 4;
const dirs = tempDirs('omni-loyalty-crash-');
/** The server now running, killed after the test whatever happened. */
let current: RunningServe | undefined;
afterEach(async () => void (current && (await killHard(current))));
afterAll(() => dirs.cleanup());

const ids = (i: number) => [`c${i}`, `phone:+4915100000${i}`, `email:u${i}@example.com`];

/** Sends one request and gets its answers, every one of them, or fails the test. */
async function send(events: InputEvent[]): Promise<EventResult[]> {
  const answer = await postEvents(current!.url, ADMIN, events);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.results as EventResult[];
}

describe('loyalty across kill -9', () => {
  it(`balances and a coupon's uses are exactly what the answers say after restarts (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const dataDir = dirs.make();
    const restart = async () => void (current = await startServe({ dataDir, secret: SECRET, workers: 2 }));
    await restart();
    const setup: InputEvent[] = [{ id: 'coupon', type: 'coupon.issued', coupon: 'ONCE', value: 10 }];
    for (let i = 0; i < CUSTOMERS; i++) {
      setup.push({ id: `link-${i}`, type: 'identity.linked', ids: ids(i).slice(1), customer: ids(i)[0] });
      setup.push({ id: `start-${i}`, type: 'loyalty.earned', subject: ids(i)[1], points: 10 });
    }
    expect((await send(setup)).filter((a) => !a.ok)).toEqual([]);

    const answers = new Map<string, EventResult>();
    const refundable: string[][] = Array.from({ length: CUSTOMERS }, () => []);
    let n = 0;
    const request = (): InputEvent[] => {
      const k = n++;
      const i = k % CUSTOMERS;
      const [, phone, email] = ids(i);
      const events: InputEvent[] = [
        { id: `earn-${k}`, type: 'loyalty.earned', subject: phone, points: 3 },
        { id: `redeem-${k}`, type: 'loyalty.redeemed', subject: email, points: 7, redemption: `R${k}` },
        { id: `use-${k}`, type: 'coupon.redeemed', coupon: 'ONCE', subject: ids(i)[0] },
      ];
      const back = refundable[i].shift();
      if (back !== undefined) events.push({ id: `refund-${back}`, type: 'loyalty.refunded', redemption: back });
      return events;
    };
    const record = (events: InputEvent[], got: EventResult[]) => {
      events.forEach((ev, j) => {
        answers.set(ev.id, got[j]);
        if (ev.type === 'loyalty.redeemed' && got[j].ok) refundable[Number(ev.id.slice('redeem-'.length)) % CUSTOMERS].push(ev.redemption as string);
      });
    };

    // Three rounds of a few requests, then two in flight when the process dies.
    for (let round = 0; round < 3; round++) {
      const before = random.int(1, 4);
      for (let k = 0; k < before; k++) {
        const events = request();
        record(events, await send(events));
      }
      const inFlight = [request(), request()];
      const firstAnswers = inFlight.map((events) => postEvents(current!.url, ADMIN, events).then((a) => a.body.results as EventResult[], () => undefined));
      await new Promise((resolve) => setTimeout(resolve, random.int(0, 15)));
      expect((await killHard(current!)).signal).toBe('SIGKILL');
      const answeredBefore = await Promise.all(firstAnswers);
      await restart();
      for (const [j, events] of inFlight.entries()) {
        const got = await send(events);
        const first = answeredBefore[j];
        if (first !== undefined) expect(got).toEqual(first.map((a) => ({ ...a, duplicate: true })));
        record(events, got);
      }
    }

    const ok = (id: string) => answers.get(id)?.ok === true;
    for (const [id, a] of answers) if (!a.ok) expect(['insufficient_points', 'coupon_used'], `${id}: ${JSON.stringify(a)}`).toContain(a.error.code);
    expect([...answers.keys()].filter((id) => id.startsWith('use-') && ok(id))).toHaveLength(1);
    for (let i = 0; i < CUSTOMERS; i++) {
      const mine = (prefix: string) => [...answers.keys()].filter((id) => id.startsWith(prefix) && ok(id) && Number(id.slice(prefix.length).replace(/^R/, '')) % CUSTOMERS === i).length;
      const expected = 10 + 3 * mine('earn-') - 7 * mine('redeem-') + 7 * mine('refund-R');
      const response = await fetch(`${current!.url}/v1/customers/${encodeURIComponent(ids(i)[2])}`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const body = (await response.json()) as { customer: string; loyalty: { balance: number } };
      expect(body.customer).toBe(ids(i)[0]);
      expect(body.loyalty.balance, `customer ${i}`).toBe(expected);
      expect(body.loyalty.balance).toBeGreaterThanOrEqual(0);
    }
  }, 120_000);
});
