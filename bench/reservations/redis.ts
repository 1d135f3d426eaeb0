// Redis as a target of `omni bench reservations`: the Debian redis-server on a free loopback
// port with a temp dir, AOF on (`appendonly yes`), the fsync policy as chosen, RDB snapshots
// off so no fork competes for the CPU. The reservation logic is three Lua scripts (EVALSHA
// through ioredis defineCommand), each one round trip and atomic like a transaction:
//   stock row   = hash stock:<sku>@<location> {onHand, reserved}
//   reservation = hash res:<id> {row, qty}
// commit/release read the row key from the reservation, as the SQL version does with
// `DELETE … RETURNING`; that touches an undeclared key, fine on one server (not on a cluster).
//
// Connections: one ioredis connection per client, auto-pipelining off, so each client has one
// command in flight on its own connection — the same shape as the HTTP and PostgreSQL clients.
// (One shared auto-pipelined connection would batch round trips, which the others cannot.)

import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { rowKey, rowsOf, type RowState } from './workload.ts';
import type { ReserveAnswer, TargetKind } from './target.ts';
import { freePort } from '../shared/server-process.ts';
import { peerDir, removePeerDir, spawnPeer } from './processes.ts';

type Durability = 'always' | 'everysec' | 'no';

const REDIS_SERVER = process.env.OMNI_BENCH_REDIS_SERVER ?? '/usr/bin/redis-server';

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
type Client = Redis & ReservationCommands;

const stockKey = (sku: string, location: string) => `stock:${rowKey(sku, location)}`;
const resKey = (id: string) => `res:${id}`;

function connect(port: number): Client {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableAutoPipelining: false, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined); // surfaced through the failing command instead
  r.defineCommand('reserve', { numberOfKeys: 2, lua: RESERVE_LUA });
  r.defineCommand('commit', { numberOfKeys: 1, lua: endLua(true) });
  r.defineCommand('release', { numberOfKeys: 1, lua: endLua(false) });
  return r as Client;
}

export const redisTarget: TargetKind<Durability> = {
  name: 'redis',
  durabilities: { always: 'durable', everysec: 'relaxed', no: 'unsynced' },
  unavailable: () => (existsSync(REDIS_SERVER) ? undefined : `no ${REDIS_SERVER} (set OMNI_BENCH_REDIS_SERVER)`),
  async start(durability, o) {
    const dir = peerDir('resv-redis');
    const port = await freePort();
    const server = spawnPeer({
      file: REDIS_SERVER,
      args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', durability, '--save', '', '--daemonize', 'no', '--protected-mode', 'no'],
      readyPattern: /Ready to accept connections/,
      cwd: dir,
    });
    const admin = connect(port);
    const clients: Client[] = [];
    const stop = async () => {
      for (const c of [admin, ...clients]) c.disconnect();
      await server.stop('SIGTERM'); // redis-server: flush the AOF and exit
      removePeerDir(dir);
    };
    try {
      await server.ready;
      await admin.connect();
    } catch (error) {
      await stop();
      throw error;
    }
    return {
      settings: `appendonly yes, appendfsync ${durability}, save ""`,
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
        const c = connect(port);
        clients.push(c);
        await c.connect();
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
      serverCpuSeconds: () => server.cpuSeconds(),
      stop,
    };
  },
};
