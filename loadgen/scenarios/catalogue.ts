// The retailer's catalogue: SKUs whose popularity is Zipf(s=1) over a seeded ranking, so a few
// SKUs carry most of the browsing, selling and ordering, as in real shops. The ranking is
// shuffled so the hot SKUs are spread over the key space (and over the engine's partitions).

import { ZipfSampler, prng, skuName } from '../stock-workload.ts';

export class Catalogue {
  readonly size: number;
  private readonly zipf: ZipfSampler;
  /** rank → SKU name. */
  private readonly byRank: string[];

  constructor(skus: number, seed: number) {
    this.size = skus;
    this.zipf = new ZipfSampler(skus, 1);
    const index = Array.from({ length: skus }, (_, i) => i);
    const rand = prng(seed);
    for (let i = skus - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [index[i], index[j]] = [index[j], index[i]];
    }
    this.byRank = index.map(skuName);
  }

  /** A SKU drawn by popularity from a uniform draw u in [0, 1). */
  popular(u: number): string {
    return this.byRank[this.zipf.sample(u)];
  }

  /** Up to `count` distinct SKUs drawn by popularity (fewer only when the catalogue is smaller). */
  distinct(count: number, rand: () => number): string[] {
    const want = Math.min(count, this.size);
    const picked = new Set<string>();
    // Bounded: in a tiny catalogue the popular head can take many draws to get past.
    for (let tries = 0; picked.size < want && tries < want * 20; tries++) picked.add(this.popular(rand()));
    return [...picked];
  }

  /** Every SKU, for the set-up stock. */
  all(): readonly string[] {
    return this.byRank;
  }
}
