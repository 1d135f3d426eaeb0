// What the recommender may show, read from the stock domain's records (docs/protocol.md, section 3): a SKU the
// stock side knows to have nothing available at the asked location (or anywhere, without one)
// is left out; a SKU it has never seen is not.

import { availableAt, stockKeys, type Location, type SkuState } from '../stock/mod.ts';
import type { StateView } from '../types.ts';

export function sellableAt(view: StateView, location: string | undefined): (sku: string) => boolean {
  return (sku) => {
    const s = view.get<SkuState>(stockKeys.sku(sku));
    if (s === undefined) return true;
    if (location === undefined) {
      for (let i = 0; i < s.locations.length; i++) if (availableAt(s, i) > 0) return true;
      return false;
    }
    const i = s.locations.indexOf(location);
    return i >= 0 && availableAt(s, i) > 0;
  };
}

export function isLocation(view: StateView, location: string): boolean {
  return view.get<Location>(stockKeys.location(location)) !== undefined;
}

export function isStore(view: StateView, location: string): boolean {
  return view.get<Location>(stockKeys.location(location))?.kind === 'store';
}
