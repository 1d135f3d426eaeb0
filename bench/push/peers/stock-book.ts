// The live-stock state a peer server (ws, Socket.IO) keeps: what a user of those libraries would
// write to serve stock/<sku> — plain Maps in memory. It follows the arithmetic of docs/protocol.md, section 3
// for the event types the load generator sends, and renders a SKU in the same shape as
// omnistream's `stock/<sku>` topic (engine/stock/processor.ts renderStockTopic), so the bytes a
// subscriber receives are comparable. Deliberately simpler than omnistream, which favours the
// peers: no durability, no id dedup, no field validation beyond what the arithmetic needs, no
// reservation expiry timers, no alerts.

export interface Row {
  onHand: number;
  reserved: number;
  safety: number;
}

export interface StockView {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
  locations: Record<string, Row & { available: number }>;
}

export type EventAnswer = { id: unknown; ok: true; [extra: string]: unknown } | { id: unknown; ok: false; error: { code: string; message: string } };

type Event = Record<string, unknown>;

interface Hold {
  sku: string;
  location: string;
  qty: number;
}

const DEFAULT_TTL_MS = 900_000;

const available = (r: Row) => Math.max(0, r.onHand - r.reserved - r.safety);

export class StockBook {
  private readonly places = new Set<string>();
  /** sku → location → row, locations in the order their rows appeared (as omnistream's). */
  private readonly skus = new Map<string, Map<string, Row>>();
  private readonly holds = new Map<string, Hold>();

  /** Applies one event; `touched` gets each SKU whose rows changed. */
  apply(ev: Event, touched: (sku: string) => void): EventAnswer {
    const id = ev.id;
    const fail = (code: string, message: string): EventAnswer => ({ id, ok: false, error: { code, message } });
    if (typeof id !== 'string' || typeof ev.type !== 'string') return fail('invalid_event', 'needs a string id and type');
    const sku = ev.sku as string;
    const at = (loc: unknown) => (typeof loc === 'string' && this.places.has(loc) ? loc : undefined);
    const change = (s: string, loc: string, f: (r: Row) => void) => {
      f(this.row(s, loc));
      touched(s);
    };
    switch (ev.type) {
      case 'location.upserted':
        if (typeof ev.location !== 'string') return fail('invalid_event', 'location');
        this.places.add(ev.location);
        return { id, ok: true };
      case 'stock.received':
      case 'stock.returned':
      case 'stock.sold':
      case 'stock.adjusted':
      case 'stock.safety': {
        const loc = at(ev.location);
        if (!loc) return fail('unknown_location', `location '${String(ev.location)}' has not been declared`);
        const qty = ev.qty as number;
        change(sku, loc, (r) => {
          if (ev.type === 'stock.sold') r.onHand -= qty;
          else if (ev.type === 'stock.adjusted') r.onHand = ev.onHand as number;
          else if (ev.type === 'stock.safety') r.safety = ev.safety as number;
          else r.onHand += qty;
        });
        return { id, ok: true };
      }
      case 'stock.reserve': {
        const reservation = ev.reservation as string;
        if (this.holds.has(reservation)) return fail('conflict', `reservation '${reservation}' already exists`);
        const qty = ev.qty as number;
        const loc = ev.location == null ? this.mostAvailable(sku, qty) : at(ev.location);
        if (!loc) return ev.location == null ? fail('insufficient_stock', `${qty} × ${sku} wanted`) : fail('unknown_location', `location '${String(ev.location)}' has not been declared`);
        const have = this.availableAt(sku, loc);
        if (have < qty) return fail('insufficient_stock', `${qty} × ${sku} wanted at ${loc}, ${have} available`);
        change(sku, loc, (r) => (r.reserved += qty));
        this.holds.set(reservation, { sku, location: loc, qty });
        return { id, ok: true, reservation, location: loc, expiresAt: Date.now() + ((ev.ttlMs as number | undefined) ?? DEFAULT_TTL_MS) };
      }
      case 'stock.release':
      case 'stock.commit': {
        const reservation = ev.reservation as string;
        const hold = this.holds.get(reservation);
        if (!hold) return fail('unknown_reservation', `no active reservation '${reservation}'`);
        this.holds.delete(reservation);
        const sold = ev.type === 'stock.commit';
        change(hold.sku, hold.location, (r) => {
          r.reserved -= hold.qty;
          if (sold) r.onHand -= hold.qty;
        });
        return { id, ok: true, reservation };
      }
      case 'stock.transfer': {
        const from = at(ev.from);
        const to = at(ev.to);
        if (!from || !to) return fail('unknown_location', `location '${String(from ? ev.to : ev.from)}' has not been declared`);
        const qty = ev.qty as number;
        const have = this.availableAt(sku, from);
        if (have < qty) return fail('insufficient_stock', `${qty} × ${sku} wanted at ${from}, ${have} available`);
        change(sku, from, (r) => (r.onHand -= qty));
        change(sku, to, (r) => (r.onHand += qty));
        return { id, ok: true, transfer: ev.transfer };
      }
      default:
        return fail('unknown_type', `unknown event type '${ev.type}'`);
    }
  }

  /** The SKU as omnistream's `stock/<sku>` topic renders it; undefined if never seen. */
  view(sku: string): StockView | undefined {
    const rows = this.skus.get(sku);
    if (!rows) return undefined;
    let onHand = 0;
    let reserved = 0;
    let avail = 0;
    const locations: StockView['locations'] = Object.create(null);
    for (const [loc, r] of rows) {
      const a = available(r);
      onHand += r.onHand;
      reserved += r.reserved;
      avail += a;
      locations[loc] = { onHand: r.onHand, reserved: r.reserved, safety: r.safety, available: a };
    }
    return { sku, onHand, reserved, available: avail, locations };
  }

  private row(sku: string, loc: string): Row {
    let rows = this.skus.get(sku);
    if (!rows) this.skus.set(sku, (rows = new Map()));
    let r = rows.get(loc);
    if (!r) rows.set(loc, (r = { onHand: 0, reserved: 0, safety: 0 }));
    return r;
  }

  private availableAt(sku: string, loc: string): number {
    const r = this.skus.get(sku)?.get(loc);
    return r ? available(r) : 0;
  }

  /** The location with the most available (ties: the smallest id), as omnistream picks one. */
  private mostAvailable(sku: string, qty: number): string | undefined {
    let best: string | undefined;
    let most = 0;
    for (const [loc, r] of this.skus.get(sku) ?? []) {
      const a = available(r);
      if (a >= qty && (a > most || (a === most && best !== undefined && loc < best))) [best, most] = [loc, a];
    }
    return best;
  }
}
