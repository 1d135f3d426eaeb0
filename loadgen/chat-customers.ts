// The customers' side of the service scenario, on the loadgen's WebSocket client (ws-wire.ts).
// Subjects are drawn from 100,000 customers, so a connection per customer would not stay bounded:
// instead a request gets its own customer connection (customer token, sub = the request's
// subject), and at most `max` are open at once — a request that finds all taken goes without
// (counted, not hidden). The connection subscribes to `request/<id>`.
//
// Two ways to get one: a desk's chat opens it when the request is assigned (`join`), answers
// every agent message with one of its own, and closes it once the request is completed; a
// customer following its request from the start (first contact, service-customers.ts) opens it
// once the request is answered (`follow`), and a desk's chat later joins that same connection.
// A message's text starts with its send time (epoch ms, the same clock in this process), so
// whichever side receives it measures the relay latency without any shared map.

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

/** What a customer following its request hears on `request/<id>` (and the answers to its events). */
export interface RequestWatch {
  ready(nowMs: number): void;
  /** A message from the bot or an agent. */
  message(from: 'bot' | 'agent', data: Record<string, unknown>, nowMs: number): void;
  /** A status change; the connection stays open until the watch closes it. */
  status(status: string, nowMs: number): void;
  /** The answer to an event this customer sent (its id is `ref`). */
  result(ref: string, ok: boolean, answer: Record<string, unknown>): void;
  /** The connection failed or was closed by the server. */
  gone(): void;
}

/** A followed request's customer connection. */
export interface CustomerLine {
  /** Sends an event as this customer (`{op:'event'}`); its answer comes to the watch's `result`. */
  send(event: Record<string, unknown> & { id: string; type: string }): void;
  close(): void;
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

/** One request's customer connection. */
interface Line {
  socket: WireSocket;
  ready: boolean;
  /** Closed by us (completed, or the watch is done): no error when it goes. */
  over: boolean;
  failed: boolean;
  replies: number;
  desk?: CustomerHandlers;
  watch?: RequestWatch;
}

export class ChatCustomers {
  private readonly lines = new Map<string, Line>();
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

  /** Customer connections open now. */
  get open(): number {
    return this.lines.size;
  }

  /**
   * The desk's chat on `request`: its customer's connection if one follows it already, else a new
   * one for `subject`; false (and nothing opened) when all `max` are taken.
   */
  join(request: string, subject: string, handlers: CustomerHandlers): boolean {
    if (this.closing) return false;
    const line = this.lines.get(request) ?? this.openLine(request, subject);
    if (line === undefined) {
      this.skippedCount++;
      return false;
    }
    line.desk = handlers;
    if (line.ready) handlers.ready();
    return true;
  }

  /** A customer following `request` from now on; undefined (nothing opened) when all `max` are taken. */
  follow(request: string, subject: string, watch: RequestWatch): CustomerLine | undefined {
    if (this.closing) return undefined;
    // A desk may have been assigned it (and opened its chat) before the request's answer came back.
    const line = this.lines.get(request) ?? this.openLine(request, subject);
    if (line === undefined || line.watch !== undefined) return undefined;
    line.watch = watch;
    if (line.ready) watch.ready(epochMs());
    const send = frameSender(() => line.socket, this.o.format);
    return {
      send: (event) => send({ op: 'event', event }),
      close: () => this.end(request, line),
    };
  }

  close(): void {
    this.closing = true;
    for (const line of this.lines.values()) line.socket.close();
    this.lines.clear();
  }

  private end(request: string, line: Line): void {
    line.over = true;
    if (this.lines.get(request) === line) this.lines.delete(request);
    line.socket.close();
  }

  private openLine(request: string, subject: string): Line | undefined {
    if (this.lines.has(request) || this.lines.size >= this.o.max) return undefined;
    const topic = `request/${request}`;
    const send = frameSender(() => line.socket, this.o.format);
    const onUpdate = (data: Record<string, unknown> | null, now: number) => {
      if (data?.type === 'status') {
        const status = String(data.status);
        if (line.watch) return line.watch.status(status, now);
        return status === 'completed' ? this.end(request, line) : undefined;
      }
      // Our own messages come back too: only the agent's and the bot's are heard.
      if (data?.type !== 'message') return;
      if (data.from === 'bot') return line.watch?.message('bot', data, now);
      if (data.from !== 'agent') return;
      line.watch?.message('agent', data, now);
      const sentMs = sentAtOf(data.text);
      if (sentMs === undefined) return this.tally.error(`${topic}: agent message without a send time`);
      this.tally.relayed('customer', sentMs, now);
      send({ op: 'message', request, text: chatText('customer', line.replies), id: `${request}-c${line.replies++}` });
    };
    const socket = openWire(subscriberUrl({ url: this.o.url, format: this.o.format, token: this.o.mintCustomer(subject) }), {
      onOpen: () => send({ op: 'sub', topic }),
      onMessage: (data, binary) => {
        const now = epochMs();
        const msg = decodeServerFrame(data, binary);
        if (typeof msg === 'string') return this.tally.error(`customer: ${msg}`);
        if (msg.op === 'snapshot' && msg.topic === topic) {
          // An event topic has one snapshot per sub (docs/protocol.md); another would start the chat over.
          if (line.ready) return this.tally.error(`${topic}: a second snapshot`);
          line.ready = true;
          line.watch?.ready(now);
          return line.desk?.ready();
        }
        if (msg.op === 'update' && msg.topic === topic) return onUpdate(msg.data as Record<string, unknown> | null, now);
        // Events the customer sent are answered by ref (their id); chat messages' answers are ok and unread.
        const ref = (msg as { ref?: unknown }).ref;
        if (msg.op === 'result' && line.watch && typeof ref === 'string' && !ref.startsWith(`${request}-c`)) return line.watch.result(ref, msg.ok === true, msg as unknown as Record<string, unknown>);
        if (msg.op === 'result' && msg.ok === true) return;
        // A reply crossing the request's end (its customer resolved it while the agent wrote) is refused as ended.
        if (msg.op === 'result' && line.watch && (msg as { error?: { code?: unknown } }).error?.code === 'conflict') return;
        const { error, code, topic: about } = msg as { error?: unknown; code?: unknown; topic?: unknown };
        this.tally.error(`customer ${subject}: unexpected ${String(msg.op)} ${JSON.stringify(error ?? code ?? about ?? '')}`);
      },
      onClose: (code) => {
        if (this.lines.get(request) === line) this.lines.delete(request);
        if (line.over || this.closing) return;
        if (!line.failed) this.tally.error(`customer connection closed by the server (${code})`);
        line.desk?.gone();
        line.watch?.gone();
      },
      onError: (error) => {
        line.failed = true;
        if (!this.closing) this.tally.error(`customer: ${error.message}`);
      },
    });
    const line: Line = { socket, ready: false, over: false, failed: false, replies: 0 };
    this.lines.set(request, line);
    return line;
  }
}
