// GET /v1/locations (docs/protocol.md, section 4): every declared location with its kind, name and
// position, from committed state, so a page can name the stores that stock snapshots name by id
// only and sort them by distance.
//
// Readable exactly as stock is (GET /v1/stock/:sku): a store's name and place are no more private
// than what it has on its shelves, so anonymous callers read them when public stock is on.

import { callerOf } from './caller.ts';
import { mayRead } from '../auth/roles.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

/** A location as the stock domain keeps it (engine/stock/types.ts). */
interface DeclaredLocation {
  id: string;
  kind: 'store' | 'warehouse';
  lat: number;
  lon: number;
  name?: string;
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
  // Named `location` as in location.upserted; a location's low-stock threshold is left out, as
  // it is of the stock snapshots.
  const locations = declared.map(({ id, kind, name, lat, lon }) => (name === undefined ? { location: id, kind, lat, lon } : { location: id, kind, name, lat, lon }));
  reply.json(200, { locations }, format);
};
