// omnistream as a target of `omni bench reservations`: `omni serve` on a fresh data dir
// (bench/shared/omni-http.ts), every operation one `POST /v1/events` carrying one JSON event over
// a keep-alive connection — one round trip per operation, as for the peers.

import { describeAnswer, OMNI_TIERS, startOmni, type OmniDurability } from '../shared/omni-http.ts';
import { rowKey, type RowState } from './workload.ts';
import type { ReserveAnswer, TargetKind } from './target.ts';
import { chunked, locationEvents, seedEvents } from '../../loadgen/mod.ts';

export const omnistreamTarget: TargetKind<OmniDurability> = {
  name: 'omnistream',
  durabilities: OMNI_TIERS,
  unavailable: () => undefined,
  async start(durability, o) {
    const omni = await startOmni(durability, { label: 'resv-omni', concurrency: o.concurrency });
    const prefix = `rv${o.runNo}`;
    return {
      settings: omni.settings,
      connections: omni.connections,
      async seed(shape, stock) {
        const batches = [locationEvents(shape.locations, prefix), ...chunked(seedEvents(shape.skus, shape.locations, prefix, stock), 5000)];
        for (const events of batches) {
          const bad = (await omni.post(events)).find((r) => !r.ok);
          if (bad) throw new Error(`omnistream seed failed: ${describeAnswer(bad)}`);
        }
      },
      async session() {
        return {
          async reserve(r): Promise<ReserveAnswer> {
            const [a] = await omni.post({ id: `${r.id}:r`, type: 'stock.reserve', reservation: r.id, sku: r.sku, location: r.location, qty: r.qty });
            if (a?.ok) return 'ok';
            if (a?.error?.code === 'insufficient_stock') return 'insufficient_stock';
            throw new Error(`omnistream reserve ${r.id}: ${describeAnswer(a)}`);
          },
          async end(r) {
            const [a] = await omni.post({ id: `${r.id}:e`, type: `stock.${r.end}`, reservation: r.id });
            if (a?.ok) return true;
            if (a?.error?.code === 'unknown_reservation') return false;
            throw new Error(`omnistream ${r.end} ${r.id}: ${describeAnswer(a)}`);
          },
          close: async () => undefined,
        };
      },
      async snapshot(rows) {
        const out = new Map<string, RowState>();
        for (const sku of new Set(rows.map((r) => r.sku))) {
          const res = await omni.get(`/v1/stock/${encodeURIComponent(sku)}`);
          if (res.status === 404) continue;
          if (res.status !== 200) throw new Error(`GET /v1/stock/${sku}: ${res.status}`);
          const locs = (res.json as { locations: Record<string, RowState> }).locations;
          for (const [location, s] of Object.entries(locs)) out.set(rowKey(sku, location), { onHand: s.onHand, reserved: s.reserved, available: s.available });
        }
        return out;
      },
      serverCpuSeconds: () => omni.cpuSeconds(),
      stop: () => omni.stop(),
    };
  },
};
