// Peer for `omni bench fanout`: live stock on Socket.IO 4 as its documentation has you write it —
// `new Server({ parser: msgpackParser, transports: ['websocket'] })`, one room per topic; a client
// `emit('sub', topic)`s, joins the room and gets a `snapshot` emit, then every update is a room
// broadcast, `io.to(topic).emit('update', {topic, seq, data, ts})`, which encodes the packet once
// for the whole room. Payloads are the same objects the ws peer and omnistream send.
//
// What Socket.IO does with a slow client: queues its packets in engine.io's per-socket write
// buffer while the `ws` socket underneath is still writing, without limit; no conflation. No
// volatile emits here: they drop updates, which the other targets do not.
//
// Run: node --import tsx bench/push/peers/socketio-server.ts [--host H] [--port N]

import { fileURLToPath } from 'node:url';
import { Server, type ServerOptions } from 'socket.io';
import msgpackParser from 'socket.io-msgpack-parser';
import { exitOnSignal, listenFromArgv, peerHttpServer } from './peer-http.ts';
import { StockFeed } from './stock-feed.ts';
import type { Peer } from './ws-server.ts';

/** `options` go to Socket.IO after the bench's own (tests shorten the ping interval). */
export function socketIoPeer(options: Partial<ServerOptions> = {}): Peer & { io: Server } {
  const feed = new StockFeed();
  const io = new Server({ parser: msgpackParser, transports: ['websocket'], serveClient: false, ...options });
  const server = peerHttpServer(feed, {
    watched: (topic) => io.sockets.adapter.rooms.has(topic),
    publish(updates) {
      for (const u of updates) io.to(u.topic).emit('update', u);
    },
  });
  io.attach(server);
  io.on('connection', (socket) => {
    socket.on('sub', (topic: unknown) => {
      if (typeof topic !== 'string') return;
      void socket.join(topic);
      socket.emit('snapshot', feed.snapshot(topic));
    });
    socket.on('unsub', (topic: unknown) => {
      if (typeof topic === 'string') void socket.leave(topic);
    });
  });
  return {
    server,
    feed,
    io,
    close() {
      io.disconnectSockets(true);
      void io.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const peer = socketIoPeer();
  exitOnSignal(() => peer.close());
  await listenFromArgv(peer.server, 'socket.io peer');
}
