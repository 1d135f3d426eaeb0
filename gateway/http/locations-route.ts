// GET /v1/locations (docs/protocol.md, section 4): every declared location with its kind, name,
// position, low-stock threshold and ship sourcing settings, from committed state, so a page can name the stores that stock snapshots name by id
// only and sort them by distance.
//
// Readable exactly as stock is (GET /v1/stock/:sku): a store's name and place are no more private
// than what it has on its shelves, so anonymous callers read them when public stock is on.

import { callerOf } from './caller.ts';
import { mayRead } from '../auth/roles.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

/** A location as the stock domain answers it (engine/stock/types.ts), its threshold as it applies. */
interface DeclaredLocation {
  id: string;
  kind: 'store' | 'warehouse';
  lat: number;
  lon: number;
  name?: string;
  lowStock: number;
  ships?: boolean;
  shipCapacity?: number;
}

export const getLocations: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const principal = callerOf(reply, req, ctx, format);
  if (principal === undefined) return;
  // Any stock topic decides it: the roles table reads `stock/*` as one family.
  if (!mayRead(principal, 'stock/*', { publicStock: ctx.publicStock, lookupRequest: ctx.lookupRequest })) {
    return principal.role === 'anonymous'
      ? reply.error(401, 'unauthorized', 'stock is not public on this server; a bearer token is required', format)
      : reply.error(403, 'forbidden', 'this token may not read stock', format);
  }
  const declared = (ctx.engine.query('stock', 'locations', {}) as DeclaredLocation[] | undefined) ?? [];
  // Named `location` as in location.upserted; `lowStock` is the threshold that applies there (its
  // own, else the server's), so a page marks "low" where the low_stock alert would.
  // `ships` and `shipCapacity` only where declared: absent, a location ships without a daily limit.
  const locations = declared.map(({ id, kind, name, lat, lon, lowStock, ships, shipCapacity }) => ({
    ...(name === undefined ? { location: id, kind, lat, lon, lowStock } : { location: id, kind, name, lat, lon, lowStock }),
    ...(ships === false && { ships }),
    ...(shipCapacity !== undefined && { shipCapacity }),
  }));
  reply.json(200, { locations }, format);
};
