// GET /metrics of `omni serve --nats` against a real nats-server: a node that took every
// partition over reports each partition's owner lag (0 once its events are applied), 8 partitions
// gained in 8 takeovers with their time, and at least one acknowledged publish per event logged
// and per changelog fence.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { clusterServe } from './fixtures/cluster-serve.ts';
import { startNatsServer, stopNatsServers } from './nats-harness.ts';

const SECRET = 'cluster-metrics-test-secret-0123456789';
const PARTITIONS = 8;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopNatsServers();
});

const { startNode, post } = clusterServe('cluster-metrics', SECRET, cleanups);

const until = (what: string, check: () => Promise<boolean>) => vi.waitFor(async () => expect(await check(), what).toBe(true), { timeout: 30_000, interval: 100 });

/** Every sample of a scrape, by name and labels as written (`name{a="x",b="y"}`). */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

const ownerLag = (samples: Map<string, number>, p: number) => samples.get(`omni_cluster_partition_lag{partition="${p}",role="owner"}`);

describe('omni serve --nats: /metrics', () => {
  it('reports owner lag per partition, takeovers, owner changes and NATS round trips', async () => {
    const nats = await startNatsServer();
    const node = await startNode(nats.url, 'n1', ['--partitions', String(PARTITIONS)]);
    const url = await node.listening;
    await until('/readyz is 200', async () => (await fetch(`${url}/readyz`)).status === 200);

    const events = [
      { id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 },
      ...['A', 'B', 'C', 'D', 'E', 'F'].map((sku) => ({ id: `r-${sku}`, type: 'stock.received', sku, location: 'S1', qty: 3 })),
    ];
    const answered = await post(url, events);
    expect(answered.status).toBe(200);
    expect(answered.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);

    // The answers come once each owner applied its batch; its consumer has then delivered everything.
    let samples = new Map<string, number>();
    await until('every partition has owner lag 0', async () => {
      samples = await scrape(url);
      return Array.from({ length: PARTITIONS }, (_, p) => ownerLag(samples, p)).every((lag) => lag === 0);
    });
    // One node owns everything: no copies to report.
    expect([...samples.keys()].filter((k) => k.includes('role="copy"'))).toEqual([]);
    expect(samples.get('omni_cluster_owner_changes_total{change="gained"}')).toBe(PARTITIONS);
    expect(samples.get('omni_cluster_owner_changes_total{change="lost"}')).toBe(0);
    expect(samples.get('omni_cluster_takeovers_total')).toBe(PARTITIONS);
    const takeoverSeconds = samples.get('omni_cluster_takeover_seconds_total')!;
    const lastTakeover = samples.get('omni_cluster_last_takeover_seconds')!;
    expect(takeoverSeconds).toBeGreaterThan(0);
    expect(takeoverSeconds / PARTITIONS).toBeLessThan(30);
    expect(lastTakeover).toBeGreaterThan(0);
    expect(lastTakeover).toBeLessThanOrEqual(takeoverSeconds);
    // Each event is one publish to its partition's log; each takeover fenced its changelog.
    expect(samples.get('omni_nats_round_trips_total{log="events"}')).toBeGreaterThanOrEqual(events.length);
    expect(samples.get('omni_nats_round_trips_total{log="changes"}')).toBeGreaterThanOrEqual(PARTITIONS);
    expect(samples.get('omni_nats_round_trip_seconds_total{log="events"}')).toBeGreaterThan(0);
    expect(samples.get('omni_nats_round_trip_seconds_total{log="changes"}')).toBeGreaterThan(0);
  });
});
