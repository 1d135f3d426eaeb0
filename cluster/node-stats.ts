// What a node reports about its part in the cluster (GET /metrics): how far each partition's
// reader is behind its log, how often ownership changed here and how long takeovers took, and
// how many publishes JetStream acknowledged. Counters are plain fields bumped at each change;
// the lag is asked of the servers when read, so keeping it costs nothing between scrapes.

import { copyConsumerName } from './changelog.ts';
import type { ClusterConnection } from './connection.ts';
import type { EventLog } from './event-log.ts';
import { ownerConsumerName } from './partition-reader.ts';

/** One partition's reader: `owner` reads its event log, `copy` its changelog. */
export interface PartitionLag {
  partition: number;
  role: 'owner' | 'copy';
  /** Entries in the log not yet delivered to this node's durable consumer. */
  pending: number;
}

export interface ClusterStats {
  /** One entry per partition whose consumer could be read; none while NATS is away. */
  lag: PartitionLag[];
  /** Partitions taken over (owner started) and given up (owner stopped) since start. */
  ownerChanges: { gained: number; lost: number };
  /** Takeovers completed since start, their summed and last time from lease gained to owner started. */
  takeovers: { count: number; seconds: number; lastSeconds: number };
  /** Publishes JetStream acknowledged, per log, and their summed time (one NATS round trip each). */
  roundTrips: { events: PublishStats; changes: PublishStats };
}

export interface PublishStats {
  acks: number;
  seconds: number;
}

export class NodeStats {
  private readonly gainedAt = new Map<number, number>();
  private readonly changes = { gained: 0, lost: 0 };
  private readonly takeovers = { count: 0, seconds: 0, lastSeconds: 0 };

  constructor(
    private readonly conn: ClusterConnection,
    private readonly events: EventLog,
    private readonly changelog: EventLog,
    private readonly nodeId: string,
  ) {}

  /** A lease was gained: the takeover's clock starts (a transition before it may still be running). */
  leaseGained(p: number): void {
    this.gainedAt.set(p, performance.now());
  }

  /** The partition's owner started here. */
  tookOver(p: number): void {
    this.changes.gained++;
    const since = this.gainedAt.get(p);
    this.gainedAt.delete(p);
    if (since === undefined) return;
    const seconds = (performance.now() - since) / 1000;
    this.takeovers.count++;
    this.takeovers.seconds += seconds;
    this.takeovers.lastSeconds = seconds;
  }

  /** The partition's owner stopped here. */
  gaveUp(): void {
    this.changes.lost++;
  }

  /** `owned` says which role reads each partition now; a consumer that cannot be read is left out. */
  async read(owned: (p: number) => boolean): Promise<ClusterStats> {
    const lag = !this.conn.connected
      ? []
      : await Promise.all(
          Array.from({ length: this.events.partitions }, async (_, partition): Promise<PartitionLag | undefined> => {
            const role = owned(partition) ? 'owner' : 'copy';
            const [stream, consumer] = role === 'owner' ? [this.events.stream, ownerConsumerName(partition)] : [this.changelog.stream, copyConsumerName(this.nodeId, partition)];
            try {
              const info = await this.conn.jsm.consumers.info(stream, consumer);
              return { partition, role, pending: info.num_pending };
            } catch {
              return undefined;
            }
          }),
        );
    return {
      lag: lag.filter((l): l is PartitionLag => l !== undefined),
      ownerChanges: { ...this.changes },
      takeovers: { ...this.takeovers },
      roundTrips: { events: { ...this.events.stats }, changes: { ...this.changelog.stats } },
    };
  }
}
