// The gateway's HTTP server on uWebSockets.js: routes, listening, and a drain-then-close
// shutdown (docs/protocol.md, section 1: in-flight batches are committed and answered before connections close).

import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import { Budget } from './budget.ts';
import { onlineAgents } from '../engine/mod.ts';
import type { RequestLookup } from './auth/roles.ts';
import { committedView, type GatewayEngine } from './engine-port.ts';
import { InFlight } from './in-flight.ts';
import { getRecommendations } from './http/customers-route.ts';
import { getCustomerCases } from './http/cases-route.ts';
import { getCustomerExport } from './http/customer-export-route.ts';
import { DEFAULT_LIMITS, type GatewayContext, type GatewayLimits, type RouteHandler } from './http/context.ts';
import { postEvents } from './http/events-route.ts';
import { framingProblem, refuseFraming } from './http/framing.ts';
import { getHealth, getMetrics, getReady } from './http/health-routes.ts';
import { GatewayMetrics } from './http/metrics.ts';
import { Reply, type ReplyOutcome } from './http/reply.ts';
import { getQueues, getRequest, getRequestMessages } from './http/service-routes.ts';
import { getCustomerOrders, getOrder } from './http/orders-routes.ts';
import { getStock } from './http/stock-route.ts';
import { getLocations } from './http/locations-route.ts';
import { getCluster } from './http/cluster-route.ts';
import { getCommerceStats } from './http/commerce-route.ts';
import { getServiceStats } from './http/service-stats-route.ts';
import { requestLookupFromSnapshots } from './request-lookup.ts';
import { orderFactsFromState } from './order-lookup.ts';
import { mountWebSocket } from './ws/endpoint.ts';
import type { PushEngine } from './ws/engine-port.ts';
import type { WsConnection } from './ws/connection.ts';
import { checkWsLimits, CLOSE, DEFAULT_WS_LIMITS, type WsLimits } from './ws/limits.ts';
import { DeskPresence } from './ws/presence.ts';
import { requestGuard } from './ws/request-guard.ts';
import { TopicHub } from './ws/topic-hub.ts';

export interface GatewayOptions {
  /** The HTTP routes need GatewayEngine; the WebSocket push layer also PushEngine. */
  engine: GatewayEngine & PushEngine;
  /** HS256 secret for bearer tokens. */
  secret: string;
  host?: string;
  /** 0 picks a free port; the chosen one is on the returned gateway. */
  port?: number;
  /** Anonymous clients may read `stock/*` (docs/protocol.md, section 1, default on). */
  publicStock?: boolean;
  /** Who a service request belongs to; defaults to reading the engine's `request/<id>` state. */
  lookupRequest?: RequestLookup;
  limits?: Partial<GatewayLimits>;
  /** Bounds of the /v1/ws endpoint (ws/limits.ts). */
  wsLimits?: Partial<WsLimits>;
  /** How long close() waits for unanswered requests before closing their connections. */
  drainTimeoutMs?: number;
  /** The engine's clock (default Date.now), for waiting times reported as of now. */
  now?: () => number;
  /**
   * Static files served at GET /ui/* (the pages for people, built by ui/mod.ts in `omni serve`),
   * by exact path. The gateway only serves the bytes it is given, with a CSP allowing this host alone.
   */
  pages?: ReadonlyMap<string, StaticAsset>;
}

export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

export interface Gateway {
  host: string;
  port: number;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Requests received and not yet answered (nor abandoned by their client). */
  readonly inFlight: number;
  /**
   * Fails readiness, stops accepting connections, waits for in-flight requests (their batches
   * commit and are answered), then closes every connection. Does not close the engine: it
   * belongs to the caller, who closes it afterwards. Idempotent.
   */
  close(): Promise<void>;
}

type Method = 'get' | 'post';

/**
 * GET of a page or its assets. Scripts, styles and connections may come from this host only (the
 * WebSocket too, named by the Host header, as `'self'` does not cover ws: in every browser), so a
 * page can reach no other host; the fragment-held token is never in a URL the server sees.
 */
function staticAssets(pages: ReadonlyMap<string, StaticAsset>): RouteHandler {
  return (reply, _res, req) => {
    const asset = pages.get(req.getUrl());
    if (asset === undefined) return reply.error(404, 'not_found', `no page ${req.getUrl()}`);
    const host = req.getHeader('host').replace(/[^A-Za-z0-9.:\[\]-]/g, '');
    reply.send(200, asset.body, asset.contentType, {
      'Content-Security-Policy': `default-src 'self'; connect-src 'self' ws://${host} wss://${host}; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
      'Referrer-Policy': 'no-referrer',
    });
  };
}

interface Route {
  pattern: string;
  method: Method;
  handler: RouteHandler;
}

const ROUTES: Route[] = [
  { pattern: '/v1/events', method: 'post', handler: postEvents },
  { pattern: '/v1/stock/:sku', method: 'get', handler: getStock },
  { pattern: '/v1/locations', method: 'get', handler: getLocations },
  { pattern: '/v1/requests/:request', method: 'get', handler: getRequest },
  { pattern: '/v1/requests/:request/messages', method: 'get', handler: getRequestMessages },
  { pattern: '/v1/queues', method: 'get', handler: getQueues },
  { pattern: '/v1/cluster', method: 'get', handler: getCluster },
  { pattern: '/v1/commerce/stats', method: 'get', handler: getCommerceStats },
  { pattern: '/v1/service/stats', method: 'get', handler: getServiceStats },
  { pattern: '/v1/customers/:subject/recommendations', method: 'get', handler: getRecommendations },
  { pattern: '/v1/orders/:order', method: 'get', handler: getOrder },
  { pattern: '/v1/customers/:subject/orders', method: 'get', handler: getCustomerOrders },
  { pattern: '/v1/customers/:subject/cases', method: 'get', handler: getCustomerCases },
  { pattern: '/v1/customers/:subject', method: 'get', handler: getCustomerExport },
  { pattern: '/healthz', method: 'get', handler: getHealth },
  { pattern: '/readyz', method: 'get', handler: getReady },
  { pattern: '/metrics', method: 'get', handler: getMetrics },
];

// The typings of this uWS build lack App.close() and the host+options form of listen(), both
// present in the native module.
type NativeApp = TemplatedApp & {
  close(): void;
  listen(host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void): TemplatedApp;
};

const LISTEN_EXCLUSIVE_PORT = 1;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const wsLimits: WsLimits = { ...DEFAULT_WS_LIMITS, ...options.wsLimits };
  // Before anything is created or registered on the engine, so a refusal leaves nothing behind.
  checkWsLimits(wsLimits);
  const host = options.host ?? '127.0.0.1';
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const ctx: GatewayContext = {
    engine: options.engine,
    secret: options.secret,
    publicStock: options.publicStock ?? true,
    lookupRequest: options.lookupRequest ?? requestLookupFromSnapshots(options.engine),
    orderFacts: orderFactsFromState(options.engine),
    limits,
    bodyMemory: new Budget('body_bytes', limits.maxBodyMemoryBytes),
    metrics: new GatewayMetrics(options.engine),
    now: options.now ?? Date.now,
    draining: false,
    engineClosed: false,
  };
  const stopFatal = options.engine.onFatal?.(() => {
    ctx.engineClosed = true;
  });
  const inFlight = new InFlight();
  const app = uWS.App() as NativeApp;

  const mount = (routeName: string, handler: RouteHandler) => (res: HttpResponse, req: HttpRequest) => {
    inFlight.enter();
    const settle = (outcome: ReplyOutcome) => {
      inFlight.leave();
      ctx.metrics.countRequest(routeName, outcome);
    };
    const framing = framingProblem(req);
    if (framing !== undefined) return refuseFraming(res, framing, settle);
    const reply = new Reply(res, settle);
    try {
      handler(reply, res, req, ctx);
    } catch (error) {
      console.error(`omni: ${routeName} failed:`, error);
      reply.error(500, 'internal', 'the request could not be handled');
    }
  };

  for (const route of ROUTES) {
    app[route.method](route.pattern, mount(route.pattern, route.handler));
    const allow = route.method.toUpperCase();
    // uWS prefers a method-specific handler over `any` on the same pattern, so this only
    // catches the other methods.
    app.any(
      route.pattern,
      mount(route.pattern, (reply) => reply.error(405, 'method_not_allowed', `use ${allow}`, 'json', { Allow: allow })),
    );
  }
  const wsCounts = ctx.metrics.ws;
  const hub = new TopicHub<WsConnection>(
    options.engine,
    wsLimits,
    { historyHit: () => wsCounts.historyHits++, historyMiss: () => wsCounts.historyMisses++ },
    Date.now,
    requestGuard,
  );
  const presence = new DeskPresence((events) => options.engine.submit(events), () => ctx.draining);
  const ws = mountWebSocket(app, '/v1/ws', {
    secret: ctx.secret,
    limits: wsLimits,
    counters: {
      sent: (kind) => wsCounts.sent[kind]++,
      conflated: () => wsCounts.conflations++,
      slowClose: () => wsCounts.slowCloses++,
    },
    session: {
      engine: options.engine,
      hub,
      limits: wsLimits,
      publicStock: ctx.publicStock,
      lookupRequest: ctx.lookupRequest,
      orderFacts: ctx.orderFacts,
      inFlight,
      isDraining: () => ctx.draining,
    },
    presence,
  });
  ctx.metrics.attachWs({ connections: () => ws.connections, subscriptions: () => hub.subscriptions });
  ctx.metrics.attachBudgets([ctx.bodyMemory, hub.subscriptionBudget, hub.anonymousSubscriptionBudget, ws.anonymousConnections]);

  if (options.pages !== undefined) app.get('/ui/*', mount('/ui/*', staticAssets(options.pages)));

  app.any('/*', mount('unmatched', (reply, _res, req) => reply.error(404, 'not_found', `no route for ${req.getUrl()}`)));

  const port = options.port ?? 8080;
  let listenSocket: us_listen_socket | undefined;
  try {
    listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
      // Exclusive: without it uWS sets SO_REUSEPORT and a second server on a busy port would
      // silently share it instead of failing.
      app.listen(host, port, LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (socket) resolve(socket);
        else reject(new Error(`cannot listen on ${host}:${port}: address in use or not available`));
      });
    });
  } catch (error) {
    stopFatal?.();
    hub.dispose();
    ctx.metrics.dispose();
    app.close();
    throw error;
  }
  const boundPort = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  presence.startGrace(onlineAgents(committedView(options.engine)));
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      ctx.draining = true;
      if (listenSocket !== undefined) uWS.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
      const drained = await inFlight.whenIdle(drainTimeoutMs);
      if (!drained) console.error(`omni: ${inFlight.count} request(s) still open after ${drainTimeoutMs} ms; closing them`);
      // WebSockets are closed with 1001 (going away), after their pending results.
      await ws.closeAll(CLOSE.goingAway, 'server shutting down', drainTimeoutMs);
      hub.dispose();
      // Closes idle keep-alive connections too, which would otherwise hold the process open.
      app.close();
      stopFatal?.();
      ctx.metrics.dispose();
    })();
    return closing;
  };

  return {
    host,
    port: boundPort,
    url: `http://${formatHost(host)}:${boundPort}`,
    get inFlight() {
      return inFlight.count;
    },
    close,
  };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
