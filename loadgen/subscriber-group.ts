// N WebSocket subscribers in one thread, on the typed SDK (client/mod.ts) over the `ws` package.
// Each client subscribes to its topics; every update is counted per client and its push latency
// (receive time − update.ts, where ts is the oldest event folded into the update, i.e. that
// event's scheduled send time) goes into a histogram.

import { WebSocket } from 'ws';
import { connect, type OmniClient, type WebSocketConstructor } from '../client/mod.ts';
import { LatencyRecorder, epochMs } from './latency.ts';
import type { Format } from './options.ts';

export interface GroupOptions {
  url: string;
  token?: string;
  format: Format;
  /** Topics of each client: topics[c] for client c. */
  topics: string[][];
  /** Give up waiting for the first snapshots after this long. */
  readyTimeoutMs?: number;
}

export interface GroupSample {
  clients: number;
  connected: number;
  snapshots: number;
  received: number;
  errors: number;
}

export interface GroupFinal extends GroupSample {
  /** Updates received by each client, in the order of `topics`. */
  perClient: number[];
  /** Push latency histogram (compressed base64). */
  push: string;
}

export class SubscriberGroup {
  readonly push = new LatencyRecorder();
  readonly interval = new LatencyRecorder();
  private readonly clients: OmniClient[] = [];
  private readonly perClient: number[];
  private connected = 0;
  private snapshots = 0;
  private firstSnapshots = 0;
  private errors = 0;
  private received = 0;
  private readonly wanted: number;
  private onReady: (() => void) | undefined;

  constructor(private readonly o: GroupOptions) {
    this.perClient = o.topics.map(() => 0);
    this.wanted = o.topics.reduce((s, t) => s + t.length, 0);
  }

  /** Connects every client; resolves once each subscription has had its snapshot (or on timeout). */
  async start(): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      this.onReady = resolve;
      if (this.wanted === 0) resolve();
      setTimeout(resolve, this.o.readyTimeoutMs ?? 20_000).unref();
    });
    this.o.topics.forEach((topics, c) => this.open(c, topics));
    await ready;
  }

  private open(c: number, topics: string[]): void {
    const client = connect({ url: this.o.url, token: this.o.token, format: this.o.format, WebSocket: WebSocket as unknown as WebSocketConstructor, heartbeat: false });
    client.on('open', () => this.connected++);
    client.on('close', () => this.connected--);
    client.on('error', () => this.errors++);
    for (const topic of topics) {
      let first = true;
      client.subscribe(topic, {
        onSnapshot: () => {
          this.snapshots++;
          if (first) {
            first = false;
            if (++this.firstSnapshots === this.wanted) this.onReady?.();
          }
        },
        onUpdate: (_data, _seq, ts) => {
          const now = epochMs();
          this.perClient[c]++;
          this.received++;
          if (typeof ts === 'number') {
            this.push.recordSince(ts, now);
            this.interval.recordSince(ts, now);
          }
        },
        onError: () => this.errors++,
      });
    }
    this.clients.push(client);
  }

  sample(): GroupSample {
    return { clients: this.clients.length, connected: this.connected, snapshots: this.snapshots, received: this.received, errors: this.errors };
  }

  /** Closes every client and returns the totals. */
  stop(): GroupFinal {
    const final: GroupFinal = { ...this.sample(), perClient: [...this.perClient], push: this.push.encode() };
    for (const client of this.clients) client.close();
    return final;
  }
}
