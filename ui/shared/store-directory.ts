// The stores a page shows by name and, once the shopper's position is known, nearest first. Stock
// snapshots name locations by id only; GET /v1/locations has every declared location's name and
// position. Browser code: imports nothing of the repository.

import { getJson } from './page.ts';

export interface Store {
  location: string;
  kind: 'store' | 'warehouse';
  name?: string;
  lat: number;
  lon: number;
  /** Available at or below this is "low" there (the store's own threshold, else the server's). */
  lowStock?: number;
}

export interface Position {
  lat: number;
  lon: number;
}

const EARTH_RADIUS_KM = 6371;

/** Great-circle distance in km (haversine): plenty for telling which store is nearer. */
export function distanceKm(a: Position, b: Position): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export class StoreDirectory {
  private readonly stores = new Map<string, Store>();
  /** Ids already looked up: one the server does not list is not asked about on every update. */
  private readonly asked = new Set<string>();
  /** Reads run one after another, so a burst of unknown ids costs one more read, not many. */
  private reading: Promise<void>;
  private position: Position | undefined;

  constructor(
    private readonly token: string | undefined,
    /** Called whenever names, positions or the shopper's position change: redraw. */
    private readonly onChange: () => void,
  ) {
    this.reading = this.read();
  }

  /** Reads the list again if any of `ids` is not in it (a store declared since the page opened). */
  lookUp(ids: readonly string[]): void {
    const unknown = ids.filter((id) => !this.stores.has(id) && !this.asked.has(id));
    if (unknown.length === 0) return;
    for (const id of unknown) this.asked.add(id);
    this.reading = this.reading.then(() => (unknown.some((id) => !this.stores.has(id)) ? this.read() : undefined));
  }

  setPosition(position: Position): void {
    this.position = position;
    this.onChange();
  }

  get hasPosition(): boolean {
    return this.position !== undefined;
  }

  /** The store's name, else its id. */
  nameOf(id: string): string {
    return this.stores.get(id)?.name ?? id;
  }

  /** The store's low-stock threshold, when the server listed it. */
  lowStockOf(id: string): number | undefined {
    return this.stores.get(id)?.lowStock;
  }

  /** Km from the shopper, when both places are known. */
  distanceTo(id: string): number | undefined {
    const store = this.stores.get(id);
    return store === undefined || this.position === undefined ? undefined : distanceKm(this.position, store);
  }

  /** Nearest first when the position is known (stores without one after them); otherwise, and among equals, by id. */
  order(ids: readonly string[]): string[] {
    const byId = [...ids].sort();
    if (this.position === undefined) return byId;
    const km = new Map(byId.map((id) => [id, this.distanceTo(id) ?? Infinity]));
    // Stable sort: ties keep the id order.
    return byId.sort((a, b) => km.get(a)! - km.get(b)!);
  }

  private async read(): Promise<void> {
    try {
      const { locations } = await getJson<{ locations: Store[] }>('/v1/locations', this.token);
      for (const store of locations) this.stores.set(store.location, store);
      this.onChange();
    } catch (error) {
      // Names are a nicety: the counts stay readable under the ids.
      console.warn('omni: store names are not available:', (error as Error).message);
    }
  }
}

/**
 * The shopper's position, asked politely: at once only where the browser has already allowed it
 * (no prompt), otherwise only after `offer` is pressed; never where it was refused. One reading
 * with a short timeout is enough to order a handful of stores.
 */
export function askForPosition(directory: StoreDirectory, offer: HTMLButtonElement, note: HTMLElement): void {
  const geolocation = navigator.geolocation as Geolocation | undefined;
  offer.hidden = true;
  if (geolocation === undefined) return;
  const locate = () => {
    offer.disabled = true;
    geolocation.getCurrentPosition(
      (found) => {
        offer.hidden = true;
        note.textContent = 'Nearest stores first.';
        directory.setPosition({ lat: found.coords.latitude, lon: found.coords.longitude });
      },
      () => {
        offer.hidden = true;
        note.textContent = 'Your position is not available; stores are listed in the usual order.';
      },
      { timeout: 8000, maximumAge: 10 * 60_000 },
    );
  };
  offer.addEventListener('click', locate);
  const permissions = navigator.permissions as Permissions | undefined;
  if (permissions === undefined) {
    offer.hidden = false;
    return;
  }
  permissions.query({ name: 'geolocation' }).then(
    (status) => {
      if (status.state === 'granted') locate();
      else if (status.state === 'prompt') offer.hidden = false;
    },
    () => (offer.hidden = false),
  );
}
