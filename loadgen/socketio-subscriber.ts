// Subscribers for a Socket.IO 4 server using socket.io-msgpack-parser (the fan-out bench's
// Socket.IO peer), on the load generator's WebSocket client (ws-wire.ts) so that the
// receiving side costs the same per message whichever server is measured. Speaks just enough
// engine.io v4 (websocket transport only, no polling, no upgrade) and Socket.IO v5:
//
//   URL          /socket.io/?EIO=4&transport=websocket
//   server text  "0{sid,pingInterval,pingTimeout,maxPayload}" (engine.io open), then "2" pings
//   client text  "3" (pong) for each ping
//   binary       an engine.io message whose payload is one msgpack-encoded Socket.IO packet
//                {type, nsp, data?, id?}: 0 CONNECT, 1 DISCONNECT, 2 EVENT (data = [name, ...args]),
//                4 CONNECT_ERROR — socket.io-msgpack-parser encodes each packet as one buffer,
//                and engine.io sends a buffer as a binary frame without a type prefix.
//
// The client sends CONNECT for "/", then `emit('sub', topic)` per topic; the server answers
// `snapshot` {topic, seq, epoch, data} and then `update` {topic, seq, data, ts}. Counters and
// push latency (receive time − update.ts) are the same as the omnistream subscribers'.

import { Unpackr, pack } from 'msgpackr';
import { msgpackNumberBytes, readMsgpackNumber, readTrailingTs, startsWithBytes, type ScannedUpdate } from '../client/mod.ts';
import { epochMs } from './latency.ts';
import type { OmniSubscriber, SubscriberSpec } from './omni-subscriber.ts';
import type { SubscriberTally } from './types.ts';
import { SeqCheck, SubscriberEnd } from './seq-check.ts';
import { openWire, type WireSocket } from './ws-wire.ts';

const CONNECT = 0;
const DISCONNECT = 1;
const EVENT = 2;
const CONNECT_ERROR = 4;
const NSP = '/';
// notepack (the parser's msgpack) writes integers above 2^32, such as an epoch-ms `ts`, as
// 64-bit ints, which msgpackr would otherwise decode as BigInt.
const unpacker = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

interface SioPacket {
  type: number;
  nsp: string;
  data?: unknown;
}

// The exact bytes socket.io-msgpack-parser (notepack) writes for the peer's room broadcast
// {type: 2, data: ['update', {topic, seq, data, ts}], nsp: '/'}: keys in that order.
const UPDATE_PREFIX = Buffer.from([0x83, 0xa4, ...Buffer.from('type'), 0x02, 0xa4, ...Buffer.from('data'), 0x92, 0xa6, ...Buffer.from('update'), 0x84, 0xa5, ...Buffer.from('topic')]);
const UPDATE_SEQ = Buffer.from([0xa3, ...Buffer.from('seq')]);
const UPDATE_DATA = Buffer.from([0xa4, ...Buffer.from('data')]);
const UPDATE_SUFFIX = Buffer.from([0xa3, ...Buffer.from('nsp'), 0xa1, 0x2f]);
const scanned: ScannedUpdate = { topic: '', seq: 0, ts: 0 };

/**
 * Topic, seq and ts of an `update` packet without decoding its data, as the omnistream
 * subscriber reads its updates (client/update-scan.ts), so the receiving side costs the same per
 * message for every target; undefined for any other layout (then the packet is decoded in full).
 * The result object is reused: read it before the next call.
 */
export function scanSocketIoUpdate(buf: Buffer): ScannedUpdate | undefined {
  if (!startsWithBytes(buf, UPDATE_PREFIX, 0) || !startsWithBytes(buf, UPDATE_SUFFIX, buf.length - UPDATE_SUFFIX.length)) return undefined;
  let at = UPDATE_PREFIX.length;
  const t = buf[at];
  const topicLength = (t & 0xe0) === 0xa0 ? t & 0x1f : t === 0xd9 ? buf[at + 1] : -1;
  if (topicLength < 0) return undefined;
  at += t === 0xd9 ? 2 : 1;
  const topicStart = at;
  at += topicLength;
  if (!startsWithBytes(buf, UPDATE_SEQ, at)) return undefined;
  at += UPDATE_SEQ.length;
  const seq = readMsgpackNumber(buf, at);
  if (seq === undefined || !Number.isInteger(seq) || !startsWithBytes(buf, UPDATE_DATA, at + msgpackNumberBytes(buf[at]))) return undefined;
  const ts = readTrailingTs(buf.subarray(0, buf.length - UPDATE_SUFFIX.length));
  if (ts === undefined) return undefined;
  scanned.topic = buf.toString('utf8', topicStart, topicStart + topicLength);
  scanned.seq = seq;
  scanned.ts = ts;
  return scanned;
}

/** The engine.io URL of a server given as http://HOST:PORT. */
export function socketIoUrl(httpUrl: string): string {
  const u = new URL(httpUrl);
  return `ws://${u.host}/socket.io/?EIO=4&transport=websocket`;
}

export interface SocketIoHandlers {
  /** The WebSocket is open (the namespace is not connected yet). */
  onOpen(): void;
  /** The Socket.IO namespace is connected: events may be emitted. */
  onConnect(): void;
  /** An event; `receivedAt` (epoch ms) was read when its frame arrived, before any decoding. */
  onEvent(name: string, args: unknown[], receivedAt: number): void;
  onClose(code: number, reason: string): void;
  onError(error: Error): void;
}

/** One Socket.IO client connection on the default namespace. */
export class SocketIoClient {
  private readonly wire: WireSocket;
  private connected = false;

  constructor(httpUrl: string, private readonly h: SocketIoHandlers) {
    this.wire = openWire(socketIoUrl(httpUrl), {
      onOpen: () => h.onOpen(),
      onMessage: (data, binary) => (binary ? this.packet(data, epochMs()) : this.engineText(data.toString('latin1'))),
      onClose: (code, reason) => h.onClose(code, reason),
      onError: (error) => h.onError(error),
    });
  }

  emit(name: string, ...args: unknown[]): void {
    if (!this.connected) throw new Error('Socket.IO namespace not connected yet');
    this.send({ type: EVENT, nsp: NSP, data: [name, ...args] });
  }

  close(): void {
    if (this.connected && this.wire.open) this.send({ type: DISCONNECT, nsp: NSP });
    // Also while still connecting: the wire ends that attempt and reports its close.
    this.wire.close();
    this.connected = false;
  }

  private send(p: SioPacket): void {
    this.wire.sendBinary(pack(p));
  }

  /** engine.io text packets: open, ping, close (messages from this parser are all binary). */
  private engineText(text: string): void {
    switch (text[0]) {
      case '0':
        return this.send({ type: CONNECT, nsp: NSP });
      case '2':
        return this.wire.sendText('3');
      case '1':
        return this.wire.close();
      default:
        return this.h.onError(new Error(`unexpected engine.io packet '${text.slice(0, 40)}'`));
    }
  }

  private packet(data: Buffer, receivedAt: number): void {
    const update = scanSocketIoUpdate(data);
    if (update !== undefined) return this.h.onEvent('update', [update], receivedAt);
    let p: SioPacket;
    try {
      p = unpacker.unpack(data) as SioPacket;
    } catch (error) {
      return this.h.onError(new Error(`undecodable Socket.IO packet: ${(error as Error).message}`));
    }
    if (p.nsp !== NSP) return;
    if (p.type === EVENT && Array.isArray(p.data) && typeof p.data[0] === 'string') this.h.onEvent(p.data[0], p.data.slice(1), receivedAt);
    else if (p.type === CONNECT) {
      this.connected = true;
      this.h.onConnect();
    } else if (p.type === CONNECT_ERROR) this.h.onError(new Error(`Socket.IO connect refused: ${JSON.stringify(p.data)}`));
    else if (p.type === DISCONNECT) this.wire.close();
  }
}

/**
 * One subscriber connection to a Socket.IO peer, reporting to the same tally as
 * openOmniSubscriber (so SubscriberGroup can run either): snapshots, updates with their push
 * latency, seq checks, lost connections.
 */
export function openSocketIoSubscriber(spec: SubscriberSpec, tally: SubscriberTally): OmniSubscriber {
  const seqs = new SeqCheck(spec.topics, tally, spec.client);
  const end = new SubscriberEnd(tally, seqs);
  const client = new SocketIoClient(spec.url, {
    onOpen() {
      tally.opened();
      if (seqs.subscribed) tally.subscribed();
    },
    onConnect() {
      for (const topic of spec.topics) client.emit('sub', topic);
    },
    onEvent(name, args, now) {
      const msg = args[0] as { topic?: unknown; seq?: unknown; ts?: unknown } | undefined;
      if (name === 'snapshot') return seqs.snapshot(msg?.topic, msg?.seq);
      if (name !== 'update') return tally.error(`unexpected event ${name}`);
      seqs.decodedUpdate(msg, now);
    },
    onClose: (code) => end.closed(code),
    onError: (error) => end.failed(error),
  });
  return {
    close() {
      end.closing();
      client.close();
    },
  };
}
