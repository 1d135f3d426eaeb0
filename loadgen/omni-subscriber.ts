// One omnistream subscriber connection for the load generator, on its WebSocket client
// (ws-wire.ts): subscribes to its topics, checks every topic's seq, and reports snapshots,
// updates (with their push latency), conflation and errors to a tally shared by many
// connections. No reconnect: a load generator reports a lost connection, it does not hide it.

import { scanUpdate } from '../client/mod.ts';
import { decodeServerFrame, frameSender } from './omni-frames.ts';
import { epochMs } from './latency.ts';
import { SeqCheck, SubscriberEnd } from './seq-check.ts';
import type { Format, SubscriberTally } from './types.ts';
import { openWire, type WireSocket } from './ws-wire.ts';

// Declared in types.ts, which seq-check.ts also reads, so that it need not import this file.

export interface SubscriberSpec {
  /** Server base, http://host:port (or ws://…; the path defaults to /v1/ws). */
  url: string;
  token?: string;
  format: Format;
  topics: string[];
  /** This connection's index in the tally's per-client counts. */
  client: number;
}

export interface OmniSubscriber {
  close(): void;
}

export function openOmniSubscriber(spec: SubscriberSpec, tally: SubscriberTally): OmniSubscriber {
  const seqs = new SeqCheck(spec.topics, tally, spec.client);
  const end = new SubscriberEnd(tally, seqs);
  const send = frameSender(() => socket, spec.format);
  const socket: WireSocket = openWire(subscriberUrl(spec), {
    onOpen() {
      tally.opened();
      if (seqs.subscribed) tally.subscribed();
      for (const topic of spec.topics) send({ op: 'sub', topic });
    },
    onMessage(data, binary) {
      const now = epochMs();
      if (binary !== (spec.format === 'msgpack')) return tally.error(`${binary ? 'binary' : 'text'} frame on a ${spec.format} connection`);
      const update = scanUpdate(data, binary);
      if (update !== undefined) return seqs.update(update.topic, update.seq, update.ts, now);
      const msg = decodeServerFrame(data, binary);
      if (typeof msg === 'string') return tally.error(msg);
      switch (msg.op) {
        case 'update':
          return seqs.decodedUpdate(msg, now);
        case 'snapshot':
          return seqs.snapshot(msg.topic, msg.seq);
        case 'pong':
          return;
        case 'error':
          return tally.error(`error ${String(msg.code)}: ${String(msg.message)}`);
        default:
          return tally.error(`unexpected op ${String(msg.op)}`);
      }
    },
    onClose: (code) => end.closed(code),
    onError: (error) => end.failed(error),
  });

  return {
    close() {
      end.closing();
      socket.close();
    },
  };
}

/** ws://host:port/v1/ws?format=…&token=… from the loadgen's http:// base. */
export function subscriberUrl(spec: Pick<SubscriberSpec, 'url' | 'format' | 'token'>): string {
  const url = new URL(spec.url);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.pathname === '/') url.pathname = '/v1/ws';
  url.searchParams.set('format', spec.format);
  if (spec.token !== undefined) url.searchParams.set('token', spec.token);
  return url.href;
}
