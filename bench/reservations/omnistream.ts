// omnistream as a target of `omni bench reservations`: `omni serve` as a child process on a
// fresh data dir (bench/shared/server-process.ts), every operation one `POST /v1/events` carrying one
// JSON event over a keep-alive connection — one round trip per operation, as for the peers. The
// server's group commit is what batches concurrent clients into one durable commit.

import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { signToken } from '../../gateway/mod.ts';
import { rowKey, type RowState } from './workload.ts';
import type { ReserveAnswer, TargetKind } from './target.ts';
import { freshDir, removeDir, processCpuSeconds, startServer } from '../shared/server-process.ts';
import { chunked, locationEvents, seedEvents } from '../../loadgen/mod.ts';

type Durability = 'fsync' | 'commit' | 'none';

interface EventAnswer {
  ok: boolean;
  error?: { code: string; message?: string };
}

function call(agent: Agent, port: number, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        } catch {
          reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
        }
      });
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** POSTs events, returns their results; anything but 200 throws. */
async function post(agent: Agent, port: number, token: string, events: unknown): Promise<EventAnswer[]> {
  const res = await call(agent, port, token, 'POST', '/v1/events', events);
  const results = (res.json as { results?: EventAnswer[] } | undefined)?.results;
  if (res.status !== 200 || !results) throw new Error(`POST /v1/events: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
  return results;
}

function describe(a: EventAnswer | undefined): string {
  return a?.error ? `${a.error.code}: ${a.error.message ?? ''}` : JSON.stringify(a);
}

export const omnistreamTarget: TargetKind<Durability> = {
  name: 'omnistream',
  durabilities: { fsync: 'durable', commit: 'relaxed', none: 'unsynced' },
  unavailable: () => undefined,
  async start(durability, o) {
    const dir = freshDir('resv-omni');
    const secret = randomBytes(32).toString('base64url');
    const server = startServer({ dataDir: dir, secret, durability });
    const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency + 1, maxFreeSockets: o.concurrency + 1 });
    const stop = async () => {
      agent.destroy();
      await server.stop();
      removeDir(dir);
    };
    let port: number;
    try {
      port = Number(new URL(await server.listening).port);
    } catch (error) {
      await stop();
      throw error;
    }
    const token = signToken({ sub: 'bench-reservations', role: 'ingest', exp: Math.floor(Date.now() / 1000) + 24 * 3600 }, secret);
    const prefix = `rv${o.runNo}`;
    return {
      settings: `omni serve --durability ${durability}`,
      connections: `${o.concurrency} keep-alive HTTP/1.1 connections (node:http Agent), one JSON event per POST`,
      async seed(shape, stock) {
        const batches = [locationEvents(shape.locations, prefix), ...chunked(seedEvents(shape.skus, shape.locations, prefix, stock), 5000)];
        for (const events of batches) {
          const bad = (await post(agent, port, token, events)).find((r) => !r.ok);
          if (bad) throw new Error(`omnistream seed failed: ${describe(bad)}`);
        }
      },
      async session() {
        return {
          async reserve(r): Promise<ReserveAnswer> {
            const [a] = await post(agent, port, token, { id: `${r.id}:r`, type: 'stock.reserve', reservation: r.id, sku: r.sku, location: r.location, qty: r.qty });
            if (a?.ok) return 'ok';
            if (a?.error?.code === 'insufficient_stock') return 'insufficient_stock';
            throw new Error(`omnistream reserve ${r.id}: ${describe(a)}`);
          },
          async end(r) {
            const [a] = await post(agent, port, token, { id: `${r.id}:e`, type: `stock.${r.end}`, reservation: r.id });
            if (a?.ok) return true;
            if (a?.error?.code === 'unknown_reservation') return false;
            throw new Error(`omnistream ${r.end} ${r.id}: ${describe(a)}`);
          },
          close: async () => undefined,
        };
      },
      async snapshot(rows) {
        const out = new Map<string, RowState>();
        for (const sku of new Set(rows.map((r) => r.sku))) {
          const res = await call(agent, port, token, 'GET', `/v1/stock/${encodeURIComponent(sku)}`);
          if (res.status === 404) continue;
          if (res.status !== 200) throw new Error(`GET /v1/stock/${sku}: ${res.status}`);
          const locs = (res.json as { locations: Record<string, RowState> }).locations;
          for (const [location, s] of Object.entries(locs)) out.set(rowKey(sku, location), { onHand: s.onHand, reserved: s.reserved, available: s.available });
        }
        return out;
      },
      serverCpuSeconds: () => processCpuSeconds(server.pid),
      stop,
    };
  },
};
