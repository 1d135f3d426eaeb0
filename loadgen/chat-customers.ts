// The customers' side of the service scenario's chats, on the loadgen's WebSocket client (ws-wire.ts).
// Subjects are drawn from 100,000 customers, so a connection per customer would not stay bounded:
// instead a chatting request gets its own customer connection (customer token, sub = the
// request's subject) only while it is assigned, and at most `max` are open at once — a request
// assigned while all are taken does not chat (counted, not hidden). The connection subscribes to
// `request/<id>`, answers every agent message with one of its own, and closes once the request is
// completed. A message's text starts with its send time (epoch ms, the same clock in this
// process), so whichever side receives it measures the relay latency without any shared map.

import { decodeServerFrame, frameSender } from './omni-frames.ts';
import { epochMs } from './latency.ts';
import { subscriberUrl } from './omni-subscriber.ts';
import type { Format } from './types.ts';
import { openWire, type WireSocket } from './ws-wire.ts';

export interface ChatTally {
  /** A chat message sent at `sentMs` reached the other side at `nowMs`. */
  relayed(to: 'customer' | 'agent', sentMs: number, nowMs: number): void;
  error(detail: string): void;
}

/** What a desk hears about its request's customer. */
export interface CustomerHandlers {
  /** The customer's `request/<id>` snapshot arrived: messages sent from now on reach it. */
  ready(): void;
  /** The customer connection failed before the chat was over: the desk stops waiting for it. */
  gone(): void;
}

/** A chat message's text: its send time first, so the receiver can measure the relay. */
export const chatText = (from: 'agent' | 'customer', k: number) => `${epochMs()} ${from} message ${k}`;

/** The send time a chat message's text starts with; undefined when it is not one of ours. */
export function sentAtOf(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const ms = Number(text.slice(0, text.indexOf(' ')));
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export interface ChatCustomersOptions {
  url: string;
  format: Format;
  /** Most customer connections open at once. */
  max: number;
  mintCustomer(subject: string): string;
}

export class ChatCustomers {
  private readonly open = new Set<WireSocket>();
  private skippedCount = 0;
  private closing = false;

  constructor(
    private readonly o: ChatCustomersOptions,
    private readonly tally: ChatTally,
  ) {}

  /** Requests that did not chat because every customer connection was taken. */
  get skipped(): number {
    return this.skippedCount;
  }

  /** Opens `subject`'s connection for `request`; false (and nothing opened) when all `max` are taken. */
  join(request: string, subject: string, handlers: CustomerHandlers): boolean {
    if (this.closing) return false;
    if (this.open.size >= this.o.max) {
      this.skippedCount++;
      return false;
    }
    const topic = `request/${request}`;
    let replies = 0;
    let ready = false;
    let over = false;
    let failed = false;
    const send = frameSender(() => socket, this.o.format);
    const end = () => {
      over = true;
      socket.close();
    };
    const onUpdate = (data: Record<string, unknown> | null, now: number) => {
      if (data?.type === 'status') return data.status === 'completed' ? end() : undefined;
      // Our own messages come back too: only the agent's are answered.
      if (data?.type !== 'message' || data.from !== 'agent') return;
      const sentMs = sentAtOf(data.text);
      if (sentMs === undefined) return this.tally.error(`${topic}: agent message without a send time`);
      this.tally.relayed('customer', sentMs, now);
      send({ op: 'message', request, text: chatText('customer', replies), id: `${request}-c${replies++}` });
    };
    const socket = openWire(subscriberUrl({ url: this.o.url, format: this.o.format, token: this.o.mintCustomer(subject) }), {
      onOpen: () => send({ op: 'sub', topic }),
      onMessage: (data, binary) => {
        const now = epochMs();
        const msg = decodeServerFrame(data, binary);
        if (typeof msg === 'string') return this.tally.error(`customer: ${msg}`);
        if (msg.op === 'snapshot' && msg.topic === topic) {
          // An event topic has one snapshot per sub (docs/protocol.md); another would start the chat over.
          if (ready) return this.tally.error(`${topic}: a second snapshot`);
          ready = true;
          return handlers.ready();
        }
        if (msg.op === 'update' && msg.topic === topic) return onUpdate(msg.data as Record<string, unknown> | null, now);
        if (msg.op === 'result' && msg.ok === true) return;
        const { error, code, topic: about } = msg as { error?: unknown; code?: unknown; topic?: unknown };
        this.tally.error(`customer ${subject}: unexpected ${String(msg.op)} ${JSON.stringify(error ?? code ?? about ?? '')}`);
      },
      onClose: (code) => {
        this.open.delete(socket);
        if (over || this.closing) return;
        if (!failed) this.tally.error(`customer connection closed by the server (${code})`);
        handlers.gone();
      },
      onError: (error) => {
        failed = true;
        if (!this.closing) this.tally.error(`customer: ${error.message}`);
      },
    });
    this.open.add(socket);
    return true;
  }

  close(): void {
    this.closing = true;
    for (const socket of this.open) socket.close();
    this.open.clear();
  }
}
