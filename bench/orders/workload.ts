// The events of `omni bench orders`: S stores (every location a store, so any can be a pickup),
// N SKUs with stock received first, then pickup orders of L distinct SKUs each going through
// their lifecycle, or plain stock events (received / sold) over the same rows for comparison.
// SKU popularity is Zipf(s=1) or uniform, as in loadgen/stock-workload.ts; deterministic per seed.

import type { InputEvent } from '../../engine/mod.ts';
import { ZipfSampler, locationEvents, locationName, prng, seedEvents, skuName, type Distribution } from '../../loadgen/mod.ts';

/**
 * How an order goes after it is placed: `pickup` the §11 lifecycle (ready at the store, then
 * picked up); `fulfilled` the older one-step close (order.fulfilled), which needs no status.
 */
export type OrderFlow = 'pickup' | 'fulfilled';

export const FLOW_STEPS: Record<OrderFlow, readonly string[]> = {
  pickup: ['order.placed', 'order.ready', 'order.picked_up'],
  fulfilled: ['order.placed', 'order.fulfilled'],
};

/** Units each (sku, store) row is seeded with: enough that a long run never runs a hot row dry. */
export const ORDER_SEED_QTY = 10_000_000;

const CHANNELS = ['web', 'app', 'kiosk', 'phone', 'social', 'store'] as const;

export interface OrderShape {
  skus: number;
  stores: number;
  linesPerOrder: number;
  dist: Distribution;
  flow: OrderFlow;
}

/** Every location a store: a pickup order may name any of them. */
export function storeEvents(stores: number, idPrefix: string): InputEvent[] {
  return locationEvents(stores, idPrefix).map((ev) => ({ ...ev, kind: 'store' }));
}

/** The locations, then ORDER_SEED_QTY of every SKU at every store. */
export function setupEvents(shape: Pick<OrderShape, 'skus' | 'stores'>, idPrefix: string): { locations: InputEvent[]; stock: Iterable<InputEvent> } {
  return { locations: storeEvents(shape.stores, idPrefix), stock: seedEvents(shape.skus, shape.stores, idPrefix, ORDER_SEED_QTY) };
}

/** One order's events, one per step of its flow, in the order they are sent. */
export type OrderSteps = InputEvent[];

/** Picks SKUs (by popularity) and stores (uniformly) from one seeded stream. */
class RowPicker {
  readonly rand: () => number;
  private readonly zipf: ZipfSampler | undefined;
  private readonly skuNames: string[];
  private readonly storeNames: string[];

  constructor(shape: Pick<OrderShape, 'skus' | 'stores' | 'dist'>, seed: number) {
    this.rand = prng(seed);
    this.zipf = shape.dist === 'zipf' ? new ZipfSampler(shape.skus, 1) : undefined;
    this.skuNames = Array.from({ length: shape.skus }, (_, i) => skuName(i));
    this.storeNames = Array.from({ length: shape.stores }, (_, i) => locationName(i));
  }

  sku(): string {
    const u = this.rand();
    return this.skuNames[this.zipf ? this.zipf.sample(u) : Math.floor(u * this.skuNames.length)];
  }

  store(): string {
    return this.storeNames[Math.floor(this.rand() * this.storeNames.length)];
  }
}

export class OrderWorkload {
  private readonly pick: RowPicker;
  private n = 0;

  constructor(
    private readonly shape: OrderShape,
    private readonly idPrefix: string,
    seed = 1,
  ) {
    if (shape.linesPerOrder > shape.skus) throw new Error(`${shape.linesPerOrder} distinct lines need at least as many SKUs (got ${shape.skus})`);
    this.pick = new RowPicker(shape, seed);
  }

  /** The next order: its placing event and each later step, ids unique under the prefix. */
  nextOrder(): OrderSteps {
    const { rand } = this.pick;
    const order = `${this.idPrefix}-o${this.n++}`;
    const skus = new Set<string>();
    while (skus.size < this.shape.linesPerOrder) skus.add(this.pick.sku());
    const pickup = this.pick.store();
    const customer = `${this.idPrefix}-c${Math.floor(rand() * 100_000)}`;
    const lines = [...skus].map((sku) => ({ sku, qty: 1 + Math.floor(rand() * 2) }));
    const placed: InputEvent = { id: `${order}/placed`, type: 'order.placed', order, customer, pickup, lines };
    if (this.shape.flow === 'fulfilled') return [placed, { id: `${order}/fulfilled`, type: 'order.fulfilled', order }];
    // The fields orders across channels add: where it was bought and what it cost (the commerce figures count them).
    placed.channel = CHANNELS[Math.floor(rand() * CHANNELS.length)];
    placed.currency = 'EUR';
    placed.lines = lines.map((l) => ({ ...l, price: 100 + Math.floor(rand() * 9900) }));
    return [placed, { id: `${order}/ready`, type: 'order.ready', order }, { id: `${order}/picked_up`, type: 'order.picked_up', order }];
  }

  /** Events per order, the placing included. */
  get steps(): number {
    return FLOW_STEPS[this.shape.flow].length;
  }

  orders(count: number): OrderSteps[] {
    return Array.from({ length: count }, () => this.nextOrder());
  }
}

/** Plain stock events over the same rows: half stock.received, half stock.sold, one unit each. */
export class PlainStockWorkload {
  private readonly pick: RowPicker;
  private n = 0;

  constructor(
    shape: Pick<OrderShape, 'skus' | 'stores' | 'dist'>,
    private readonly idPrefix: string,
    seed = 2,
  ) {
    this.pick = new RowPicker(shape, seed);
  }

  chunk(size: number): InputEvent[] {
    const out: InputEvent[] = [];
    for (let i = 0; i < size; i++) {
      const sku = this.pick.sku();
      const location = this.pick.store();
      const type = this.pick.rand() < 0.5 ? 'stock.received' : 'stock.sold';
      out.push({ id: `${this.idPrefix}-s${this.n++}`, type, sku, location, qty: 1 });
    }
    return out;
  }
}
