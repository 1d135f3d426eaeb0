// Which nodes are up, and which partitions each should own. Every node announces itself on one
// subject at a fixed pace; a node not heard from for a while is down. Partitions are assigned
// by rendezvous hashing over the nodes up: every node computes the same assignment from the same
// view, and a node joining or leaving moves only its own share. Views may differ for a moment
// (an announcement on its way): the leases settle who owns a partition meanwhile.

import type { Subscription } from '@nats-io/transport-node';
import type { ClusterConnection } from './connection.ts';

const DEFAULT_HEARTBEAT_MS = 1_000;

export interface MembershipOptions {
  nodeId: string;
  /** How often this node announces itself (ms). */
  heartbeatMs?: number;
  /** Silent this long, a node is down (ms; default three and a half heartbeats). */
  downAfterMs?: number;
  /** The nodes up changed: called with them in id order. */
  onChange?: (nodes: string[]) => void;
}

export class Membership {
  private readonly seen = new Map<string, number>();
  private readonly sub: Subscription;
  private readonly timer: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private readonly downAfterMs: number;
  private view: string[];
  private stopped = false;

  constructor(
    private readonly conn: ClusterConnection,
    private readonly opts: MembershipOptions,
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.downAfterMs = opts.downAfterMs ?? Math.round(this.heartbeatMs * 3.5);
    this.seen.set(opts.nodeId, Number.POSITIVE_INFINITY);
    this.view = [opts.nodeId];
    this.sub = conn.nc.subscribe(conn.names.nodesSubject, {
      callback: (err, msg) => {
        if (err || this.stopped) return;
        const node = new TextDecoder().decode(msg.data);
        const fresh = !this.seen.has(node);
        if (node !== opts.nodeId) this.seen.set(node, Date.now());
        // A node new to this one hears of it at once, so that it is counted in the next assignment.
        if (fresh) {
          this.announce();
          this.check();
        }
      },
    });
    this.announce();
    this.timer = setInterval(() => {
      this.announce();
      this.check();
    }, this.heartbeatMs);
  }

  /** The nodes up, this one among them, in id order. */
  nodes(): string[] {
    return this.view;
  }

  /** The partitions of `count` that rendezvous hashing gives `node` among the nodes up now. */
  assigned(count: number, node = this.opts.nodeId): number[] {
    return Array.from({ length: count }, (_, p) => p).filter((p) => ownerAmong(p, this.view) === node);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.sub.unsubscribe();
  }

  private announce(): void {
    // Nothing to do while disconnected: the client buffers it, and a stale announcement is harmless.
    if (!this.conn.nc.isClosed()) this.conn.nc.publish(this.conn.names.nodesSubject, new TextEncoder().encode(this.opts.nodeId));
  }

  private check(): void {
    const now = Date.now();
    for (const [node, at] of this.seen) if (now - at > this.downAfterMs) this.seen.delete(node);
    const view = [...this.seen.keys()].sort();
    if (view.join('\n') === this.view.join('\n')) return;
    this.view = view;
    this.opts.onChange?.(view);
  }
}

/** The node of `nodes` with the highest hash of (partition, node): the same for every caller. */
export function ownerAmong(partition: number, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const node of nodes) {
    const score = fnv1a(`${partition}/${node}`);
    if (score > bestScore || (score === bestScore && best !== undefined && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final mix: FNV's low bits alone spread short keys that differ in one character poorly.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
