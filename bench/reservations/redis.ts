// Redis as a target of `omni bench reservations`: a fresh redis-server started by
// bench/shared/peer-redis.ts (AOF on, the fsync policy as chosen, one connection per client
// without auto-pipelining). The reservation logic is three Lua scripts, each one round trip and
// atomic like a transaction:
//   stock row   = hash stock:<sku>@<location> {onHand, reserved}
//   reservation = hash res:<id> {row, qty}
// commit/release read the row key from the reservation, as the SQL version does with
// `DELETE … RETURNING`; that touches an undeclared key, fine on one server (not on a cluster).

import { rowKey, rowsOf, type RowState } from './workload.ts';
import type { ReserveAnswer, TargetKind } from './target.ts';
import { REDIS_TIERS, redisUnavailable, startRedis, type RedisDurability } from '../shared/peer-redis.ts';

const RESERVE_LUA = `
local s = redis.call('HMGET', KEYS[1], 'onHand', 'reserved')
local onHand = tonumber(s[1])
if not onHand then return -2 end
local qty = tonumber(ARGV[1])
if onHand - tonumber(s[2]) < qty then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('HINCRBY', KEYS[1], 'reserved', qty)
redis.call('HSET', KEYS[2], 'row', KEYS[1], 'qty', qty)
return 1`;

const endLua = (commit: boolean) => `
local r = redis.call('HMGET', KEYS[1], 'row', 'qty')
if not r[1] then return 0 end
local qty = tonumber(r[2])
${commit ? "redis.call('HINCRBY', r[1], 'onHand', -qty)" : ''}
redis.call('HINCRBY', r[1], 'reserved', -qty)
redis.call('DEL', KEYS[1])
return 1`;

/** The commands defineCommand adds. */
interface ReservationCommands {
  reserve(row: string, res: string, qty: number): Promise<number>;
  commit(res: string): Promise<number>;
  release(res: string): Promise<number>;
}

const stockKey = (sku: string, location: string) => `stock:${rowKey(sku, location)}`;
const resKey = (id: string) => `res:${id}`;

const COMMANDS = {
  reserve: { numberOfKeys: 2, lua: RESERVE_LUA },
  commit: { numberOfKeys: 1, lua: endLua(true) },
  release: { numberOfKeys: 1, lua: endLua(false) },
};

export const redisTarget: TargetKind<RedisDurability> = {
  name: 'redis',
  durabilities: REDIS_TIERS,
  unavailable: redisUnavailable,
  async start(durability, o) {
    const redis = await startRedis<ReservationCommands>(durability, { label: 'resv-redis', commands: COMMANDS });
    const { admin } = redis;
    return {
      settings: redis.settings,
      connections: `${o.concurrency} ioredis connections (one per client, no auto-pipelining), EVALSHA of Lua scripts`,
      async seed(shape, stock) {
        const rows = rowsOf(shape);
        for (let i = 0; i < rows.length; i += 5000) {
          const p = admin.pipeline();
          for (const r of rows.slice(i, i + 5000)) p.hset(stockKey(r.sku, r.location), 'onHand', stock, 'reserved', 0);
          await p.exec();
        }
      },
      async session() {
        const c = await redis.connect();
        return {
          async reserve(r): Promise<ReserveAnswer> {
            const answer = await c.reserve(stockKey(r.sku, r.location), resKey(r.id), r.qty);
            if (answer === 1) return 'ok';
            if (answer === 0) return 'insufficient_stock';
            throw new Error(`redis reserve ${r.id}: ${answer === -1 ? 'reservation exists' : 'unknown row'}`);
          },
          async end(r) {
            return (await c[r.end](resKey(r.id))) === 1;
          },
          close: async () => void c.disconnect(),
        };
      },
      async snapshot(rows) {
        const p = admin.pipeline();
        for (const r of rows) p.hmget(stockKey(r.sku, r.location), 'onHand', 'reserved');
        const answers = (await p.exec()) ?? [];
        const out = new Map<string, RowState>();
        rows.forEach((r, i) => {
          const [err, v] = answers[i] ?? [];
          const [onHand, reserved] = (v as Array<string | null> | undefined) ?? [];
          if (!err && onHand != null && reserved != null) out.set(rowKey(r.sku, r.location), { onHand: Number(onHand), reserved: Number(reserved) });
        });
        return out;
      },
      serverCpuSeconds: () => redis.cpuSeconds(),
      stop: () => redis.stop(),
    };
  },
};
