// One receiver of `omni bench receiver`, as a child process so that its CPU time is its own:
// opens `--connections N` to the sender with the chosen client, reads every message as
// `--read` says, prints `open` once all are up, then answers `start` and `stop` lines on stdin —
// at `stop` it prints {messages, cpuMicros, seconds} for the window between them and exits.
//
// Run: node --import tsx bench/receiver/receiver-child.ts --receiver loadgen|ws --url ws://… --connections N --read none|scan|decode

import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { decodeFrame, scanUpdate } from '../../client/mod.ts';
import { openWire } from '../../loadgen/mod.ts';

const { values } = parseArgs({ options: { receiver: { type: 'string' }, url: { type: 'string' }, connections: { type: 'string' }, read: { type: 'string' } } });
const { receiver, url, read } = values;
const connections = Number(values.connections);
if (url === undefined || !(connections > 0)) throw new Error('receiver: --url and --connections are required');

/** What each read does with a message; the results feed a sink so that none is optimised away. */
const readOne: (data: Buffer, binary: boolean) => number =
  read === 'none'
    ? (data) => data.length
    : read === 'scan'
      ? (data, binary) => scanUpdate(data, binary)?.seq ?? -1
      : (data, binary) => (decodeFrame(binary ? data : data.toString('utf8')) as { seq: number }).seq;

let messages = 0;
let sink = 0;
function onMessage(data: Buffer, binary: boolean): void {
  messages++;
  sink += readOne(data, binary);
}

let opened = 0;
function onOpen(): void {
  if (++opened === connections) console.log('open');
}

for (let i = 0; i < connections; i++) {
  if (receiver === 'loadgen') {
    openWire(url, { onOpen, onMessage, onClose() {}, onError: (e) => console.error(e.message) });
  } else {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on('open', onOpen);
    socket.on('message', (data, binary) => onMessage(data as Buffer, binary));
    socket.on('error', (e) => console.error(e.message));
  }
}

let window: { cpu: NodeJS.CpuUsage; at: number; messages: number } | undefined;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'start') window = { cpu: process.cpuUsage(), at: performance.now(), messages };
  if (line === 'stop' && window !== undefined) {
    const cpu = process.cpuUsage(window.cpu);
    console.log(JSON.stringify({ messages: messages - window.messages, cpuMicros: cpu.user + cpu.system, seconds: (performance.now() - window.at) / 1000, sink: sink === 0.5 }));
    process.exit(0);
  }
});
