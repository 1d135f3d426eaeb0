// The /metrics figures of a node in a cluster (`omni serve --nats`): registered only when the
// engine reports them, so an embedded server's /metrics has no omni_cluster_ lines. Read once per
// scrape: the lag asks NATS about every partition's consumer.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterStatsReport, GatewayEngine } from '../engine-port.ts';

export function registerClusterMetrics(registry: Registry, engine: GatewayEngine): void {
  const clusterStats = engine.clusterStats?.bind(engine);
  if (!clusterStats) return;
  // prom-client collects every metric of a scrape at once (Promise.all): they share one reading.
  let reading: Promise<ClusterStatsReport> | undefined;
  const stats = () => (reading ??= clusterStats().finally(() => (reading = undefined)));

  const figure = <L extends string>(kind: typeof Gauge | typeof Counter, name: string, help: string, labelNames: L[], fill: (s: ClusterStatsReport, set: (labels: Partial<Record<L, string>>, value: number) => void) => void) =>
    new kind<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        // A failed reading leaves these lines out rather than failing the scrape.
        const s = await stats().catch(() => undefined);
        this.reset();
        if (s) fill(s, (labels, value) => this.inc(labels, value));
      },
    });

  figure(Gauge, 'omni_cluster_partition_lag', "Entries in a partition's log this node has not read yet: its event log where it owns the partition (role owner), its changelog where it keeps a copy (role copy). A partition whose consumer could not be read has no line.", ['partition', 'role'], (s, set) => {
    for (const l of s.lag) set({ partition: String(l.partition), role: l.role }, l.pending);
  });
  figure(Counter, 'omni_cluster_owner_changes_total', 'Partitions this node took over (gained) and gave up (lost) since start.', ['change'], (s, set) => {
    set({ change: 'gained' }, s.ownerChanges.gained);
    set({ change: 'lost' }, s.ownerChanges.lost);
  });
  figure(Counter, 'omni_cluster_takeovers_total', 'Takeovers completed here since start: a lease gained, then its changelog fenced, the copy caught up and the owner started.', [], (s, set) => set({}, s.takeovers.count));
  figure(Counter, 'omni_cluster_takeover_seconds_total', 'Time from lease gained to owner started, summed over the takeovers (divided by omni_cluster_takeovers_total: the mean restore time).', [], (s, set) => set({}, s.takeovers.seconds));
  figure(Gauge, 'omni_cluster_last_takeover_seconds', 'Time from lease gained to owner started of the last takeover here (0 before any).', [], (s, set) => set({}, s.takeovers.lastSeconds));
  figure(Counter, 'omni_nats_round_trips_total', 'Publishes JetStream acknowledged, each one NATS round trip: to the event log (events) and the changelog (changes).', ['log'], (s, set) => {
    set({ log: 'events' }, s.roundTrips.events.acks);
    set({ log: 'changes' }, s.roundTrips.changes.acks);
  });
  figure(Counter, 'omni_nats_round_trip_seconds_total', 'Time from publish to acknowledgement, summed over omni_nats_round_trips_total.', ['log'], (s, set) => {
    set({ log: 'events' }, s.roundTrips.events.seconds);
    set({ log: 'changes' }, s.roundTrips.changes.seconds);
  });
}
