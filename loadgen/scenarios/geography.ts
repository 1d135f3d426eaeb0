// Where the retailer is: stores in real German cities (the largest first, so a small chain sits
// where people live), warehouses at real logistics hubs, and ship-to addresses near those cities.
// Real coordinates matter: order.placed with `ship` allocates by haversine distance.

import type { InputEvent } from '../../engine/mod.ts';

type Place = readonly [name: string, lat: number, lon: number];

/** By population, so the first N stores are the ones a real chain would open first. */
const CITIES: readonly Place[] = [
  ['berlin', 52.52, 13.405], ['hamburg', 53.551, 9.994], ['munich', 48.137, 11.575], ['cologne', 50.938, 6.96],
  ['frankfurt', 50.11, 8.682], ['stuttgart', 48.776, 9.183], ['dusseldorf', 51.227, 6.773], ['leipzig', 51.34, 12.375],
  ['dortmund', 51.514, 7.468], ['essen', 51.456, 7.012], ['bremen', 53.079, 8.802], ['dresden', 51.05, 13.738],
  ['hanover', 52.376, 9.732], ['nuremberg', 49.452, 11.077], ['duisburg', 51.434, 6.762], ['bochum', 51.482, 7.216],
  ['wuppertal', 51.256, 7.151], ['bielefeld', 52.03, 8.532], ['bonn', 50.737, 7.098], ['munster', 51.96, 7.626],
  ['mannheim', 49.488, 8.466], ['karlsruhe', 49.007, 8.404], ['augsburg', 48.371, 10.898], ['wiesbaden', 50.078, 8.24],
  ['kiel', 54.323, 10.123], ['aachen', 50.776, 6.084], ['freiburg', 47.999, 7.842], ['rostock', 54.092, 12.099],
  ['erfurt', 50.978, 11.029], ['mainz', 49.993, 8.247], ['kassel', 51.312, 9.48], ['magdeburg', 52.121, 11.628],
];

/** Central hubs first: one warehouse reaches most of the country from there. */
const HUBS: readonly Place[] = [
  ['bad-hersfeld', 50.868, 9.707], ['halle', 51.482, 11.97], ['hamm', 51.681, 7.815], ['mannheim', 49.488, 8.466],
  ['hamburg', 53.551, 9.994], ['nuremberg', 49.452, 11.077], ['erfurt', 50.978, 11.029], ['duisburg', 51.434, 6.762],
];

export interface Site {
  id: string;
  kind: 'store' | 'warehouse';
  lat: number;
  lon: number;
  name: string;
}

/** The n-th site over a list of places: the places in order, then a second round slightly offset, and so on. */
function site(places: readonly Place[], i: number, kind: Site['kind']): Site {
  const [place, lat, lon] = places[i % places.length];
  const round = Math.floor(i / places.length);
  const title = place.replace(/(^|-)(\w)/g, (_, dash: string, c: string) => `${dash === '' ? '' : ' '}${c.toUpperCase()}`);
  return {
    id: `${kind === 'store' ? 'store' : 'wh'}-${place}-${round + 1}`,
    kind,
    // A few hundred metres apart per round: another branch in the same city.
    lat: Math.round((lat + round * 0.004) * 1e6) / 1e6,
    lon: Math.round((lon + round * 0.006) * 1e6) / 1e6,
    name: `${title} ${kind === 'store' ? 'store' : 'warehouse'} ${round + 1}`,
  };
}

export class Geography {
  readonly stores: readonly Site[];
  readonly warehouses: readonly Site[];

  constructor(stores: number, warehouses: number) {
    this.stores = Array.from({ length: stores }, (_, i) => site(CITIES, i, 'store'));
    this.warehouses = Array.from({ length: warehouses }, (_, i) => site(HUBS, i, 'warehouse'));
  }

  get sites(): readonly Site[] {
    return [...this.stores, ...this.warehouses];
  }

  locationEvents(idPrefix: string): InputEvent[] {
    return this.sites.map((s) => ({ id: `${idPrefix}-loc-${s.id}`, type: 'location.upserted', location: s.id, kind: s.kind, lat: s.lat, lon: s.lon, name: s.name }));
  }

  /** A delivery address: within ~10 km of a city where the chain has stores. */
  shipTo(rand: () => number): { lat: number; lon: number } {
    const [, lat, lon] = CITIES[Math.floor(rand() * Math.min(CITIES.length, Math.max(1, this.stores.length)))];
    const jitter = () => (rand() - 0.5) * 0.18;
    return { lat: Math.round((lat + jitter()) * 1e5) / 1e5, lon: Math.round((lon + jitter()) * 1e5) / 1e5 };
  }

  store(rand: () => number): Site {
    return this.stores[Math.floor(rand() * this.stores.length)];
  }

  warehouse(rand: () => number): Site {
    return this.warehouses[Math.floor(rand() * this.warehouses.length)];
  }
}
