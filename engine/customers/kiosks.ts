// Kiosk screens: `kiosk.identified` shows a customer's recommendations filtered by the kiosk's
// store; a stock change that leaves a shown SKU with nothing available there refreshes every
// screen showing it. The (sku, store) → kiosks index makes that one read per stock row changed.

import type { StateView } from '../types.ts';
import type { StateEditor } from './editor.ts';
import { resolveCustomer } from './identity/mod.ts';
import { recommend, type RecommenderOptions } from './recommender/mod.ts';
import { currentSession } from './sessions.ts';
import { sellableAt } from './stock-filter.ts';
import { keys, MAX_KIOSKS_SHOWING, topics, type KioskDisplay } from './types.ts';

export interface KioskMessage {
  topic: string;
  data: { type: 'recommendations'; kiosk: string; customer: string; location: string; items: KioskDisplay['items'] };
}

export function kioskDisplay(view: StateView, kiosk: string): KioskDisplay | undefined {
  return view.get<KioskDisplay>(keys.kiosk(kiosk));
}

/** The customer's list for a store: what a kiosk there shows. */
export function listFor(view: StateView, customer: string, location: string | undefined, limit: number, rec: RecommenderOptions | undefined) {
  const session = currentSession(view, customer);
  return recommend(view, session?.id ?? '', limit, sellableAt(view, location), rec);
}

function setShowing(state: StateEditor, kiosk: string, location: string, skus: Iterable<string>, add: boolean): void {
  for (const sku of skus) {
    const key = keys.showing(`${sku}@${location}`);
    const list = state.get<string[]>(key) ?? [];
    const has = list.includes(kiosk);
    if (add === has) continue;
    const next = add ? [...list, kiosk].slice(-MAX_KIOSKS_SHOWING) : list.filter((k) => k !== kiosk);
    state.put(key, next.length > 0 ? next : undefined);
  }
}

/** Shows `customer`'s list on `kiosk` at `location`; returns the message for `kiosk/<kiosk>`. */
export function showOnKiosk(
  state: StateEditor,
  kiosk: string,
  customer: string,
  location: string,
  at: number,
  limit: number,
  rec: RecommenderOptions | undefined,
): KioskMessage {
  const before = kioskDisplay(state, kiosk);
  const items = listFor(state, customer, location, limit, rec);
  const shown = new Set(items.map((i) => i.sku));
  if (before) {
    const gone = before.location !== location ? before.items.map((i) => i.sku) : before.items.map((i) => i.sku).filter((s) => !shown.has(s));
    setShowing(state, kiosk, before.location, gone, false);
  }
  setShowing(state, kiosk, location, shown, true);
  state.put(keys.kiosk(kiosk), { kiosk, customer, location, items, at } satisfies KioskDisplay);
  return { topic: topics.kiosk(kiosk), data: { type: 'recommendations', kiosk, customer, location, items } };
}

/**
 * A stock row changed (`<sku>@<location>` of its topic): the kiosks showing that SKU there get
 * a new list once nothing of it is available there any more.
 */
export function refreshKiosksShowing(
  state: StateEditor,
  skuAtLocation: string,
  at: number,
  limit: number,
  rec: RecommenderOptions | undefined,
): KioskMessage[] {
  const kiosks = state.get<string[]>(keys.showing(skuAtLocation));
  if (kiosks === undefined) return [];
  const split = skuAtLocation.lastIndexOf('@');
  const sku = skuAtLocation.slice(0, split);
  const location = skuAtLocation.slice(split + 1);
  if (sellableAt(state, location)(sku)) return [];
  const out: KioskMessage[] = [];
  for (const kiosk of kiosks) {
    const d = kioskDisplay(state, kiosk);
    if (d === undefined || d.location !== location) continue;
    // The customer may have merged into another since: the survivor's list is the one to show.
    out.push(showOnKiosk(state, kiosk, resolveCustomer(state, d.customer) ?? d.customer, location, at, limit, rec));
  }
  return out;
}
