// The stock domain's state, as stored under its keys.

export interface Location {
  id: string;
  kind: 'store' | 'warehouse';
  lat: number;
  lon: number;
  name?: string;
  /** Low-stock alert threshold for this location; the processor's default when absent. */
  lowStock?: number;
}

export interface StockRow {
  onHand: number;
  reserved: number;
  safety: number;
}

/**
 * One record per SKU holding every location's row: a reservation without a location and an
 * order's allocation read one record per SKU, and the totals come from the same read. Rows
 * are parallel arrays (index i is location `locations[i]`): copied with slice, encoded as
 * plain arrays, and free of per-SKU object shapes.
 */
export interface SkuState {
  sku: string;
  locations: string[];
  onHand: number[];
  reserved: number[];
  safety: number[];
}

export function rowAt(state: SkuState | undefined, location: string): StockRow | undefined {
  const i = state ? state.locations.indexOf(location) : -1;
  if (i < 0) return undefined;
  return { onHand: state!.onHand[i], reserved: state!.reserved[i], safety: state!.safety[i] };
}

export function availableAt(state: SkuState, i: number): number {
  return Math.max(0, state.onHand[i] - state.reserved[i] - state.safety[i]);
}

export interface Reservation {
  id: string;
  sku: string;
  location: string;
  qty: number;
  /** Clock ms; absent for an order's reservations, which are held until fulfilled or cancelled. */
  expiresAt?: number;
  order?: string;
  channel?: string;
}

export interface AllocationLine {
  sku: string;
  qty: number;
  location: string;
  reservation: string;
}

export interface Order {
  id: string;
  status: 'placed' | 'fulfilled' | 'cancelled';
  customer?: string;
  lines: Array<{ sku: string; qty: number }>;
  pickup?: string;
  ship?: { lat: number; lon: number };
  allocation: AllocationLine[];
  placedAt: number;
}

export interface StockOptions {
  /** Low-stock threshold where a location sets none (default 5). */
  lowStockThreshold?: number;
  /** Default reservation hold (default 900000 ms = 15 min). */
  defaultTtlMs?: number;
}

export const keys = {
  location: (id: string) => `stock/loc/${id}`,
  sku: (sku: string) => `stock/sku/${sku}`,
  reservation: (id: string) => `stock/res/${id}`,
  order: (id: string) => `stock/order/${id}`,
};

export const topics = {
  sku: (sku: string) => `stock/${sku}`,
  skuAt: (sku: string, location: string) => `stock/${sku}@${location}`,
  alerts: 'alerts/stock',
};

export function available(row: StockRow | undefined): number {
  if (!row) return 0;
  return Math.max(0, row.onHand - row.reserved - row.safety);
}
