// The sending side of `omni bench receiver`, run as a child process so that its CPU is not
// counted against the receiver being measured: a bare RFC 6455 server over node:net that accepts
// `--connections N` upgrades, then writes one pre-encoded server frame (`--frame HEX`, as the
// gateway encodes an update) `--rate R` times a second, round robin over the connections, on
// 5 ms ticks — the frames due to one connection in a tick go out in one write, as a corked
// server sends them. It ignores what clients send and runs until it is killed.
//
// Run: node --import tsx bench/receiver/sender.ts --connections N --rate R --frame HEX

import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const TICK_MS = 5;
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A connection with this much unsent is not keeping up: its frames for the tick are dropped. */
const BACKLOG_LIMIT = 4 * 1024 * 1024;

const { values } = parseArgs({ options: { connections: { type: 'string' }, rate: { type: 'string' }, frame: { type: 'string' } } });
const connections = Number(values.connections);
const rate = Number(values.rate);
const frame = Buffer.from(values.frame ?? '', 'hex');
if (!(connections > 0 && rate > 0 && frame.length > 0)) throw new Error('sender: --connections, --rate and --frame are required');
// Headroom for ticks that fire late on a busy machine: their backlog still goes out.
const perTickMax = 4 * Math.ceil((rate * TICK_MS) / 1000 / connections) + 4;
const block = Buffer.concat(Array.from({ length: perTickMax }, () => frame));
const open: Socket[] = [];

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    if (head.indexOf('\r\n\r\n') < 0) return;
    socket.off('data', onData);
    socket.resume();
    const key = /sec-websocket-key: *(\S+)/i.exec(head.toString('latin1'))?.[1] ?? '';
    const accept = createHash('sha1').update(key + ACCEPT_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    open.push(socket);
    if (open.length === connections) start();
  };
  socket.on('data', onData);
});

function start(): void {
  const started = performance.now();
  let sent = 0;
  let cursor = 0;
  const counts = new Uint32Array(connections);
  setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate) - sent;
    for (let i = 0; i < due; i++) counts[(cursor + i) % connections]++;
    cursor = (cursor + due) % connections;
    sent += due;
    for (let c = 0; c < connections; c++) {
      const k = Math.min(counts[c], perTickMax);
      counts[c] = 0;
      const socket = open[c];
      if (k === 0 || socket.destroyed || socket.writableLength > BACKLOG_LIMIT) continue;
      socket.write(block.subarray(0, k * frame.length));
    }
  }, TICK_MS);
}

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`sender listening on ${typeof address === 'object' && address ? address.port : 0}`);
});
