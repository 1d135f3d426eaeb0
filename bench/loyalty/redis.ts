// Redis as a target of `omni bench loyalty`: a fresh redis-server (bench/shared/peer-redis.ts).
// A balance is a string key `points:<customer>`; a redemption is one Lua script (EVALSHA, one
// round trip, atomic) that checks the balance and decrements it. Nothing else is recorded (no
// redemption id, no history: see docs/benchmarks.md).

import { chunked } from '../../loadgen/mod.ts';
import { REDIS_TIERS, redisUnavailable, startRedis, type RedisDurability } from '../shared/peer-redis.ts';
import type { LoyaltyTargetKind, RedeemAnswer } from './target.ts';

const REDEEM_LUA = `
local balance = tonumber(redis.call('GET', KEYS[1]))
if not balance then return -1 end
local points = tonumber(ARGV[1])
if balance < points then return 0 end
redis.call('DECRBY', KEYS[1], points)
return 1`;

interface LoyaltyCommands {
  redeem(key: string, points: number): Promise<number>;
}

const pointsKey = (customer: string) => `points:${customer}`;

export const redisLoyalty: LoyaltyTargetKind<RedisDurability> = {
  name: 'redis',
  durabilities: REDIS_TIERS,
  unavailable: redisUnavailable,
  async start(durability, o) {
    const redis = await startRedis<LoyaltyCommands>(durability, { label: 'loyalty-redis', commands: { redeem: { numberOfKeys: 1, lua: REDEEM_LUA } } });
    return {
      settings: redis.settings,
      connections: `${o.concurrency} ioredis connections (one per client, no auto-pipelining), one EVALSHA per redemption`,
      async seed(customers, balance) {
        for (const part of chunked(customers, 5000)) await redis.admin.mset(...part.flatMap((c) => [pointsKey(c), String(balance)]));
      },
      async session() {
        const c = await redis.connect();
        return {
          async redeem(r): Promise<RedeemAnswer> {
            const answer = await c.redeem(pointsKey(r.customer), r.points);
            if (answer === 1) return 'ok';
            if (answer === 0) return 'insufficient_points';
            throw new Error(`redis redeem ${r.id}: no balance for ${r.customer}`);
          },
          close: async () => void c.disconnect(),
        };
      },
      async balances(customers) {
        const out = new Map<string, number>();
        for (const part of chunked(customers, 5000)) {
          const values = await redis.admin.mget(...part.map(pointsKey));
          part.forEach((c, k) => {
            if (values[k] != null) out.set(c, Number(values[k]));
          });
        }
        return out;
      },
      serverCpuSeconds: () => redis.cpuSeconds(),
      stop: () => redis.stop(),
    };
  },
};
