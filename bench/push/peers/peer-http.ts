// The ingest side shared by the peer servers: the same `POST /v1/events` omnistream takes (a
// JSON or msgpack array of events, or one event; answered `{"results":[…]}` in the body's
// format), on node:http — the server a ws or Socket.IO user attaches their library to. The
// peers answer as soon as the events are applied in memory and pushed; omnistream answers once
// they are fsync'd. No tokens are checked (the load generator's are ignored).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pack, unpack } from 'msgpackr';
import type { StockFeed, StockUpdate } from './stock-feed.ts';

/** Same bound as omnistream's gateway. */
const MAX_BODY = 4 * 1024 * 1024;

export interface Publisher {
  /** Whether anyone subscribes to a topic now (no update is built for nobody). */
  watched(topic: string): boolean;
  publish(updates: StockUpdate[]): void;
}

export function peerHttpServer(feed: StockFeed, publisher: Publisher): Server {
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/events') return void ingest(feed, publisher, req, res);
    if (req.method === 'GET' && req.url === '/healthz') return reply(res, 200, false, { ok: true });
    // Socket.IO answers its own paths on the same server; everything else is unknown.
    if (!req.url?.startsWith('/socket.io/')) reply(res, 404, false, { error: { code: 'not_found', message: 'not found' } });
  });
  // Node closes a keep-alive connection after 5 s idle, racing a client that reuses it (ECONNRESET
  // on the next POST); a server behind a load balancer is configured past the balancer's idle
  // timeout, as here, so the load generator's pooled connections stay usable.
  server.keepAliveTimeout = 65_000;
  return server;
}

async function ingest(feed: StockFeed, publisher: Publisher, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const msgpack = String(req.headers['content-type'] ?? '').includes('msgpack');
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return reply(res, 413, msgpack, { error: { code: 'too_large', message: 'body over 4 MiB' } });
    parts.push(chunk);
  }
  let body: unknown;
  try {
    const raw = Buffer.concat(parts);
    body = msgpack ? unpack(raw) : JSON.parse(raw.toString('utf8'));
  } catch {
    return reply(res, 400, msgpack, { error: { code: 'bad_request', message: 'unparsable body' } });
  }
  if (typeof body !== 'object' || body === null) return reply(res, 400, msgpack, { error: { code: 'bad_request', message: 'not an event or an array' } });
  const events = (Array.isArray(body) ? body : [body]) as Array<Record<string, unknown>>;
  const { results, updates } = feed.ingest(events, (topic) => publisher.watched(topic));
  publisher.publish(updates);
  reply(res, 200, msgpack, { results });
}

function reply(res: ServerResponse, status: number, msgpack: boolean, body: unknown): void {
  const bytes = msgpack ? pack(body) : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': msgpack ? 'application/msgpack' : 'application/json', 'content-length': bytes.length });
  res.end(bytes);
}

/** `--host H --port N` (port 0 = a free one), then the `listening on http://HOST:PORT` line. */
export function listenFromArgv(server: Server, name: string, argv = process.argv.slice(2)): Promise<string> {
  const flag = (n: string, fallback: string) => {
    const i = argv.indexOf(`--${n}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const host = flag('host', '127.0.0.1');
  const port = Number(flag('port', '0'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const url = `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}`;
      console.log(`${name} listening on ${url}`);
      resolve(url);
    });
  });
}

/** SIGTERM / SIGINT: close and exit, as `omni serve` does (nothing to flush: no durability). */
export function exitOnSignal(close: () => void): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      close();
      process.exit(0);
    });
  }
}
