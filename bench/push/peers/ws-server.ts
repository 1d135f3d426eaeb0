// Peer for `omni bench fanout`: live stock on a plain `ws` server, written as a ws user would —
// a Map of topic → subscribed sockets, each update serialised once and the same bytes sent to
// every subscriber. It speaks the subset of omnistream's wire protocol the load generator uses
// (`sub` → `snapshot` then `update`s, `unsub`, `ping` → `pong`; JSON text frames, msgpack binary
// frames, the format chosen by `?format=` or by the client's last frame, as omnistream does).
//
// What it does not do, as ws does not: no conflation and no slow-client bound. ws.send() queues
// into the socket's user-space buffer without limit, so a subscriber that cannot keep up sees its
// latency grow for the rest of the run (and the server's memory with it) rather than a jump in seq.
//
// Run: node --import tsx bench/push/peers/ws-server.ts [--host H] [--port N]

import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { pack, unpack } from 'msgpackr';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { exitOnSignal, listenFromArgv, peerHttpServer } from './peer-http.ts';
import { StockFeed } from './stock-feed.ts';

interface Client {
  ws: WebSocket;
  /** Answer in msgpack (binary frames) rather than JSON. */
  binary: boolean;
  /** Set by ?format=: the client's frames no longer switch the format. */
  fixed: boolean;
  topics: Set<string>;
}

export interface Peer {
  server: Server;
  feed: StockFeed;
  close(): void;
}

export function wsPeer(): Peer {
  const feed = new StockFeed();
  const subscribers = new Map<string, Set<Client>>();
  const server = peerHttpServer(feed, {
    watched: (topic) => (subscribers.get(topic)?.size ?? 0) > 0,
    publish(updates) {
      for (const u of updates) {
        const message = { op: 'update', topic: u.topic, seq: u.seq, data: u.data, ts: u.ts };
        // Encoded at most once per format; a Buffer is sent as-is (a string would be re-encoded per socket).
        let json: Buffer | undefined;
        let msgpack: Buffer | undefined;
        for (const c of subscribers.get(u.topic) ?? []) {
          if (c.binary) c.ws.send((msgpack ??= pack(message)), { binary: true });
          else c.ws.send((json ??= Buffer.from(JSON.stringify(message))), { binary: false });
        }
      }
    },
  });
  // perMessageDeflate is off by default in ws, as compression is in omnistream.
  const wss = new WebSocketServer({ server, path: '/v1/ws' });
  wss.on('connection', (ws, req) => {
    const format = new URL(req.url ?? '/', 'http://peer').searchParams.get('format');
    const client: Client = { ws, binary: format === 'msgpack', fixed: format !== null, topics: new Set() };
    const send = (body: Record<string, unknown>) => ws.send(client.binary ? pack(body) : JSON.stringify(body), { binary: client.binary });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!client.fixed) client.binary = isBinary;
      let op: Record<string, unknown>;
      try {
        const bytes = data as Buffer;
        op = isBinary ? unpack(bytes) : JSON.parse(bytes.toString('utf8'));
      } catch {
        return send({ op: 'error', code: 'bad_frame', message: 'undecodable frame' });
      }
      const topic = op?.topic;
      if (op?.op === 'ping') return send(op.id === undefined ? { op: 'pong' } : { op: 'pong', id: op.id });
      if (typeof topic !== 'string') return send({ op: 'error', code: 'bad_frame', message: 'needs op and topic' });
      if (op.op === 'sub') {
        client.topics.add(topic);
        let set = subscribers.get(topic);
        if (!set) subscribers.set(topic, (set = new Set()));
        set.add(client);
        send({ op: 'snapshot', ...feed.snapshot(topic) });
      } else if (op.op === 'unsub') {
        client.topics.delete(topic);
        subscribers.get(topic)?.delete(client);
      } else send({ op: 'error', code: 'bad_frame', message: `unknown op '${String(op.op)}'`, ref: topic });
    });
    ws.on('close', () => {
      for (const topic of client.topics) subscribers.get(topic)?.delete(client);
    });
  });
  return {
    server,
    feed,
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const peer = wsPeer();
  exitOnSignal(() => peer.close());
  await listenFromArgv(peer.server, 'ws peer');
}
