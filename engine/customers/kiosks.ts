// Kiosk screens: `kiosk.identified` shows a customer's recommendations filtered by the kiosk's
// store; a stock change that leaves a shown SKU with nothing available there refreshes every
// screen showing it. Two indexes make that one read per SKU changed when no kiosk shows it:
// sku → the stores where it is shown, (sku, store) → the kiosks showing it. Every store is
// checked, not only the row that changed: a SKU the stock side first sees at a warehouse has,
// from then on, nothing at a store that never stocked it.

import type { StateView } from '../types.ts';
import type { StateEditor } from '../staged-state.ts';
import { resolveCustomer } from './identity/mod.ts';
import { recommend, type RecommenderOptions } from './recommender/mod.ts';
import { currentSession } from './sessions.ts';
import { sellableAt } from './stock-filter.ts';
import { keys, MAX_KIOSKS_OF_CUSTOMER, MAX_KIOSKS_SHOWING, topics, type KioskDisplay } from './types.ts';

export interface KioskMessage {
  topic: string;
  data: { type: 'recommendations'; kiosk: string; customer: string; location: string; items: KioskDisplay['items'] };
}

function kioskDisplay(view: StateView, kiosk: string): KioskDisplay | undefined {
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
    if (list.length > 0 && next.length > 0) continue;
    const stores = state.get<string[]>(keys.shownAt(sku)) ?? [];
    const after = add ? [...stores, location] : stores.filter((l) => l !== location);
    state.put(keys.shownAt(sku), after.length > 0 ? after : undefined);
  }
}

function setKioskOf(state: StateEditor, customer: string, kiosk: string, add: boolean): void {
  const list = state.get<string[]>(keys.kiosksOf(customer)) ?? [];
  const next = add ? [...list.filter((k) => k !== kiosk), kiosk].slice(-MAX_KIOSKS_OF_CUSTOMER) : list.filter((k) => k !== kiosk);
  if (next.length !== list.length || add) state.put(keys.kiosksOf(customer), next.length > 0 ? next : undefined);
}

/** What the kiosks showing one of `names` (a customer's names) show now. */
export function kiosksShowing(view: StateView, names: readonly string[]): KioskDisplay[] {
  const out: KioskDisplay[] = [];
  for (const name of names) {
    for (const kiosk of view.get<string[]>(keys.kiosksOf(name)) ?? []) {
      const d = kioskDisplay(view, kiosk);
      if (d?.customer === name) out.push(d);
    }
  }
  return out;
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
  if (before?.customer !== customer) {
    if (before) setKioskOf(state, before.customer, kiosk, false);
    setKioskOf(state, customer, kiosk, true);
  }
  state.put(keys.kiosk(kiosk), { kiosk, customer, location, items, at } satisfies KioskDisplay);
  return { topic: topics.kiosk(kiosk), data: { type: 'recommendations', kiosk, customer, location, items } };
}

/** The SKUs a stock change changed, once each: by their totals topics `stock/<sku>` (rows are `stock/<sku>@<location>`). */
export function skusChanged(changed: readonly string[]): string[] {
  return changed.filter((topic) => topic.startsWith('stock/') && !topic.includes('@')).map((topic) => topic.slice('stock/'.length));
}

/** Whether some kiosk shows the SKU: else no stock change of it can refresh a screen. */
export function isShown(view: StateView, sku: string): boolean {
  return view.get(keys.shownAt(sku)) !== undefined;
}

/**
 * A SKU's stock changed: the kiosks showing it at a store where nothing of it is available any
 * more get a new list.
 */
export function refreshKiosksShowing(
  state: StateEditor,
  sku: string,
  at: number,
  limit: number,
  rec: RecommenderOptions | undefined,
): KioskMessage[] {
  const stores = state.get<string[]>(keys.shownAt(sku));
  if (stores === undefined) return [];
  const out: KioskMessage[] = [];
  for (const location of stores) {
    if (sellableAt(state, location)(sku)) continue;
    for (const kiosk of state.get<string[]>(keys.showing(`${sku}@${location}`)) ?? []) {
      const d = kioskDisplay(state, kiosk);
      if (d === undefined || d.location !== location) continue;
      // The customer may have merged into another since: the survivor's list is the one to show.
      out.push(showOnKiosk(state, kiosk, resolveCustomer(state, d.customer) ?? d.customer, location, at, limit, rec));
    }
  }
  return out;
}

/**
 * Erasure: the kiosks showing one of `names` (a customer's names) show nobody now, out of every
 * index, and the customer's kiosk list goes. Returns the kiosks cleared.
 */
export function clearKiosksOf(state: StateEditor, names: readonly string[]): string[] {
  const cleared: string[] = [];
  for (const d of kiosksShowing(state, names)) {
    setShowing(state, d.kiosk, d.location, d.items.map((i) => i.sku), false);
    state.put(keys.kiosk(d.kiosk), undefined);
    cleared.push(d.kiosk);
  }
  for (const name of names) if (state.get(keys.kiosksOf(name)) !== undefined) state.put(keys.kiosksOf(name), undefined);
  return cleared;
}
