// GET /v1/cluster (docs/protocol.md, section 4): how this server's engine is laid out — the
// partition count of its data dir and which worker applies which partitions — for supervisors
// and admins. `cluster` names the group of nodes sharing NATS; an embedded server belongs to
// none, so it is null. A node of a cluster answers with the nodes and the partitions each holds.

import { hostname } from 'node:os';
import { tokenHolderOf } from './caller.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

export const getCluster: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;
  if (principal.role !== 'supervisor' && principal.role !== 'admin') {
    return reply.error(403, 'forbidden', 'only supervisor and admin tokens may read the cluster layout', format);
  }
  if (ctx.engine.cluster) {
    ctx.engine.cluster().then(
      (report) => reply.json(200, report, format),
      (error: unknown) => reply.error(503, 'unavailable', `the cluster's leases could not be read: ${(error as Error).message}`, format),
    );
    return;
  }
  const layout = ctx.engine.layout?.();
  if (layout === undefined) return reply.error(503, 'unavailable', 'this engine does not report its partition layout', format);
  reply.json(200, { cluster: null, node: hostname(), partitions: layout.partitions, workers: layout.workers }, format);
};
