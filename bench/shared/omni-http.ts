// `omni serve` for the comparison benches (reservations, loyalty): a child process on a fresh
// data dir (server-process.ts), driven over keep-alive HTTP/1.1 — every operation one
// `POST /v1/events` carrying one JSON event, one round trip, as for the peers. The server's group
// commit is what batches concurrent clients into one durable commit.

import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { signToken } from '../../gateway/mod.ts';
import { freshDir, processCpuSeconds, removeDir, startServer } from './server-process.ts';
import type { Tier } from './tiers.ts';

export type OmniDurability = 'fsync' | 'commit' | 'none';

export const OMNI_TIERS: Readonly<Record<OmniDurability, Tier>> = { fsync: 'durable', commit: 'relaxed', none: 'unsynced' };

export interface EventAnswer {
  ok: boolean;
  error?: { code: string; message?: string };
  [extra: string]: unknown;
}

export function describeAnswer(a: EventAnswer | undefined): string {
  return a?.error ? `${a.error.code}: ${a.error.message ?? ''}` : JSON.stringify(a);
}

type Role = 'ingest' | 'admin';

export interface RunningOmni {
  /** The durability setting, for the report. */
  readonly settings: string;
  /** How the clients connect, for the report. */
  readonly connections: string;
  /** POSTs events with an ingest token and returns their results; anything but 200 throws. */
  post(events: unknown): Promise<EventAnswer[]>;
  /** GET with a token of `role`; the status and the parsed body. */
  get(path: string, role?: Role): Promise<{ status: number; json: unknown }>;
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
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

/** `omni serve --durability D` on a fresh dir (label names it), with sockets for C clients and one more. */
export async function startOmni(durability: OmniDurability, o: { label: string; concurrency: number }): Promise<RunningOmni> {
  const dir = freshDir(o.label);
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
  const exp = Math.floor(Date.now() / 1000) + 24 * 3600;
  const tokens: Record<Role, string> = {
    ingest: signToken({ sub: `bench-${o.label}`, role: 'ingest', exp }, secret),
    admin: signToken({ sub: `bench-${o.label}-admin`, role: 'admin', exp }, secret),
  };
  return {
    settings: `omni serve --durability ${durability}`,
    connections: `${o.concurrency} keep-alive HTTP/1.1 connections (node:http Agent), one JSON event per POST`,
    async post(events) {
      const res = await call(agent, port, tokens.ingest, 'POST', '/v1/events', events);
      const results = (res.json as { results?: EventAnswer[] } | undefined)?.results;
      if (res.status !== 200 || !results) throw new Error(`POST /v1/events: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
      return results;
    },
    get: (path, role = 'ingest') => call(agent, port, tokens[role], 'GET', path),
    cpuSeconds: () => processCpuSeconds(server.pid),
    stop,
  };
}
