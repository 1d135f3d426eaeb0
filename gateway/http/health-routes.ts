// Liveness, readiness and metrics: unauthenticated, for orchestrators and scrapers.

import type { RouteHandler } from './context.ts';

export const getHealth: RouteHandler = (reply) => {
  reply.json(200, { ok: true });
};

export const getReady: RouteHandler = (reply, _res, _req, ctx) => {
  if (ctx.draining || ctx.engineClosed) return reply.json(503, { ok: false, reason: ctx.draining ? 'draining' : 'engine_closed' });
  if (ctx.engine.ready && !ctx.engine.ready()) return reply.json(503, { ok: false, reason: 'joining' });
  reply.json(200, { ok: true });
};

export const getMetrics: RouteHandler = (reply, _res, _req, ctx) => {
  ctx.metrics.render().then(
    (text) => reply.send(200, text, ctx.metrics.contentType),
    (error: unknown) => {
      console.error('omni: collecting metrics failed:', error);
      reply.error(500, 'internal', 'metrics could not be collected');
    },
  );
};
