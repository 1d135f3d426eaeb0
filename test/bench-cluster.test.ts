// `omni bench cluster`, a tiny run: the embedded server and the three-node cluster both take the
// receipt load, one node killed -9 under it is served again and comes back, and the bench's own
// exactly-once check passes (every acknowledged receipt counted once on every node).

import { describe, expect, it } from 'vitest';
import { runClusterBench } from '../bench/cluster/cluster-bench.ts';

describe('omni bench cluster', () => {
  it('measures both targets, times a kill -9 and finds every receipt counted once', async () => {
    const r = await runClusterBench({ seconds: 0.5, warmupSeconds: 0, posters: 2, batch: 5, skus: 8, partitions: 4, kills: 1, targetMs: 5000 }, 0);
    expect(r.embedded.ackedEvents).toBeGreaterThan(0);
    expect(r.cluster.ackedEvents).toBeGreaterThan(0);
    expect(r.kills).toHaveLength(1);
    expect(r.kills[0].servedAgainMs).toBeGreaterThanOrEqual(Math.max(r.kills[0].settledMs, r.kills[0].probeMs));
    expect(r.receiptsAcked).toBeGreaterThanOrEqual(r.cluster.ackedEvents);
    expect(r.mismatches).toEqual([]);
    expect(r.exactlyOnce).toBe(true);
  }, 180_000);
});
