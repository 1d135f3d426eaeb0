// omnistream as a target of `omni bench loyalty`: `omni serve` on a fresh data dir
// (bench/shared/omni-http.ts), every redemption one `POST /v1/events` carrying one
// `loyalty.redeemed` event over a keep-alive connection. The answer comes once the redemption and
// its refund index are durable (two steps: the customer's partition, then the redemption's);
// each redemption also keeps its id (a repeat is refused), what it spent (for a refund) and a
// history entry, which the peers' versions do not.

import { describeAnswer, OMNI_TIERS, startOmni, type OmniDurability } from '../shared/omni-http.ts';
import { chunked } from '../../loadgen/mod.ts';
import type { LoyaltyTargetKind, RedeemAnswer } from './target.ts';

/** Balances read back at once at the end (each a GET of the customer's export). */
const READERS = 16;

export const omnistreamLoyalty: LoyaltyTargetKind<OmniDurability> = {
  name: 'omnistream',
  durabilities: OMNI_TIERS,
  unavailable: () => undefined,
  async start(durability, o) {
    const omni = await startOmni(durability, { label: 'loyalty-omni', concurrency: o.concurrency });
    return {
      settings: omni.settings,
      connections: `${omni.connections}: loyalty.redeemed`,
      async seed(customers, balance) {
        const events = customers.map((c) => ({ id: `seed-${c}`, type: 'loyalty.earned', subject: c, points: balance, reason: 'bench' }));
        for (const batch of chunked(events, 5000)) {
          const bad = (await omni.post(batch)).find((r) => !r.ok);
          if (bad) throw new Error(`omnistream seed failed: ${describeAnswer(bad)}`);
        }
      },
      async session() {
        return {
          async redeem(r): Promise<RedeemAnswer> {
            const [a] = await omni.post({ id: r.id, type: 'loyalty.redeemed', subject: r.customer, points: r.points, redemption: r.id });
            if (a?.ok) return 'ok';
            if (a?.error?.code === 'insufficient_points') return 'insufficient_points';
            throw new Error(`omnistream redeem ${r.id}: ${describeAnswer(a)}`);
          },
          close: async () => undefined,
        };
      },
      async balances(customers) {
        const out = new Map<string, number>();
        const read = async (customer: string) => {
          const res = await omni.get(`/v1/customers/${encodeURIComponent(customer)}`, 'admin');
          if (res.status === 404) return;
          if (res.status !== 200) throw new Error(`GET /v1/customers/${customer}: ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
          const balance = (res.json as { loyalty?: { balance?: number } }).loyalty?.balance;
          if (balance !== undefined) out.set(customer, balance);
        };
        for (const part of chunked([...customers], READERS)) await Promise.all(part.map(read));
        return out;
      },
      serverCpuSeconds: () => omni.cpuSeconds(),
      stop: () => omni.stop(),
    };
  },
};
