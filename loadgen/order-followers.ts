// Customers following their own orders, as a shopper does in the app after checking out: once
// the server has accepted an `order.placed`, a connection with the order's customer's token
// (role customer, sub = the order's customer) subscribes to `order/<id>` and watches it until it
// reaches the status the run's steps leave it in (then closes), or the run ends. The topic is
// readable only once the order exists, so the customer subscribes after the placing is
// answered, as a real app does. At most `max` follow at once; an order placed while all are
// taken is not followed (counted, not hidden).
//
// Measured, from the events' scheduled send times as everywhere in the loadgen:
// - push: an `order/<id>` update received − its `ts` (the scheduled time of the step that changed
//   the order: ready, picked up, shipped, …);
// - seen: the order's first snapshot received − the `order.placed`'s scheduled time (placing
//   answered, then the subscription's round trip: when the customer first sees the order).

import { decodeServerFrame, frameSender } from './omni-frames.ts';
import { LatencyRecorder, epochMs } from './latency.ts';
import { subscriberUrl } from './omni-subscriber.ts';
import type { Format } from './types.ts';
import { openWire, type WireSocket } from './ws-wire.ts';

/** Statuses after which nothing more can happen to an order in a run (a return window aside). */
const FINAL = new Set(['cancelled', 'expired', 'returned']);
const MAX_ERROR_SAMPLES = 5;

export interface OrderFollowersOptions {
  url: string;
  format: Format;
  max: number;
  mintCustomer(customer: string): string;
  /** The status the run leaves the order in (the scenario's plan). */
  endOf(order: string): string | undefined;
}

export interface OrderFollowFinal {
  followed: number;
  /** Placed orders not followed: every follower was busy. */
  skipped: number;
  snapshots: number;
  updates: number;
  /** Followers that saw their order reach the status the run leaves it in. */
  finished: number;
  /** Updates by the order's status. */
  byStatus: Record<string, number>;
  errors: number;
  errorSamples: string[];
  push: LatencyRecorder;
  seen: LatencyRecorder;
}

/** Nothing followed yet (also what a run whose orders nobody followed reports). */
export function noFollowers(): OrderFollowFinal {
  return { followed: 0, skipped: 0, snapshots: 0, updates: 0, finished: 0, byStatus: {}, errors: 0, errorSamples: [], push: new LatencyRecorder(), seen: new LatencyRecorder() };
}

export class OrderFollowers {
  private readonly open = new Set<WireSocket>();
  private readonly tally = noFollowers();
  private closing = false;

  constructor(private readonly o: OrderFollowersOptions) {}

  /** An `order.placed` (scheduled at `placedAt`) was accepted: its customer starts following it. */
  placed(order: string, customer: string, placedAt: number): void {
    const end = this.o.endOf(order);
    if (this.closing) return;
    if (this.open.size >= this.o.max) {
      this.tally.skipped++;
      return;
    }
    this.tally.followed++;
    const topic = `order/${order}`;
    const t = this.tally;
    let done = false;
    const send = frameSender(() => socket, this.o.format);
    const reached = (status: unknown) => {
      if (status !== end && !FINAL.has(status as string)) return;
      t.finished++;
      done = true;
      socket.close();
    };
    const socket = openWire(subscriberUrl({ url: this.o.url, format: this.o.format, token: this.o.mintCustomer(customer) }), {
      onOpen: () => send({ op: 'sub', topic }),
      onMessage: (data, binary) => {
        const now = epochMs();
        const msg = decodeServerFrame(data, binary);
        if (typeof msg === 'string') return this.error(`${topic}: ${msg}`);
        if (msg.op === 'snapshot' && msg.topic === topic) {
          t.snapshots++;
          t.seen.recordSince(placedAt, now);
          return reached(statusOf(msg.data));
        }
        if (msg.op === 'update' && msg.topic === topic) {
          const status = statusOf(msg.data);
          t.updates++;
          t.byStatus[String(status)] = (t.byStatus[String(status)] ?? 0) + 1;
          if (typeof msg.ts === 'number') t.push.recordSince(msg.ts, now);
          return reached(status);
        }
        if (msg.op === 'pong' || (msg.op === 'result' && msg.ok === true)) return;
        const { code, message } = msg as { code?: unknown; message?: unknown };
        this.error(`${topic}: unexpected ${String(msg.op)} ${String(code ?? '')} ${String(message ?? '')}`.trim());
      },
      onClose: (code) => {
        this.open.delete(socket);
        if (!done && !this.closing) this.error(`${topic}: connection closed by the server (${code})`);
      },
      onError: (error) => {
        if (!this.closing) this.error(`${topic}: ${error.message}`);
      },
    });
    this.open.add(socket);
  }

  /** Snapshots and updates received so far. */
  get heard(): number {
    return this.tally.snapshots + this.tally.updates;
  }

  /** Closes every follower; the counts and histograms are final. */
  stop(): OrderFollowFinal {
    this.closing = true;
    for (const socket of this.open) socket.close();
    this.open.clear();
    return this.tally;
  }

  private error(detail: string): void {
    this.tally.errors++;
    if (this.tally.errorSamples.length < MAX_ERROR_SAMPLES) this.tally.errorSamples.push(detail);
  }
}

function statusOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null ? (data as { status?: unknown }).status : undefined;
}
