// POST /v1/events over C keep-alive connections: one request per connection at a time, so the
// caller's in-flight cap is the real one (nothing waits unseen in the agent's queue).

import { Agent, request } from 'node:http';
import { pack, unpack } from 'msgpackr';
import type { InputEvent } from '../engine/mod.ts';
import type { Format } from './types.ts';

export interface EventResultLike {
  ok: boolean;
  error?: { code: string };
}

/** An HTTP answer (status > 0) or a failure to get one (status 0, `failure` says why). */
export interface PostAnswer {
  status: number;
  results?: EventResultLike[];
  failure?: string;
}

export type Poster = (events: InputEvent[]) => Promise<PostAnswer>;

export interface HttpPoster {
  post: Poster;
  close(): void;
}

const CONTENT_TYPE: Record<Format, string> = { msgpack: 'application/msgpack', json: 'application/json' };

export function httpPoster(baseUrl: string, token: string, format: Format, connections: number, timeoutMs = 30_000): HttpPoster {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const post: Poster = (events) =>
    new Promise<PostAnswer>((resolve) => {
      const body = format === 'msgpack' ? pack(events) : Buffer.from(JSON.stringify(events));
      const req = request(
        {
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || 80,
          method: 'POST',
          path: '/v1/events',
          agent,
          headers: { 'content-type': CONTENT_TYPE[format], 'content-length': body.length, authorization: `Bearer ${token}` },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('error', (e) => resolve({ status: 0, failure: e.message }));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const raw = parts.length === 1 ? parts[0] : Buffer.concat(parts);
            if (status !== 200) return resolve({ status, failure: `HTTP ${status} ${raw.toString('utf8').slice(0, 200)}` });
            try {
              const isPack = String(res.headers['content-type'] ?? '').includes('msgpack');
              const answer = (isPack ? unpack(raw) : JSON.parse(raw.toString('utf8'))) as { results?: EventResultLike[] };
              resolve({ status, results: answer.results });
            } catch (e) {
              resolve({ status, failure: `undecodable answer: ${(e as Error).message}` });
            }
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => resolve({ status: 0, failure: e.message }));
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}
