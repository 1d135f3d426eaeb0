// What every route handler is given: the engine, the auth settings and the server's own state.

import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { OrderFacts, RequestLookup } from '../auth/roles.ts';
import type { Budget } from '../budget.ts';
import type { GatewayEngine } from '../engine-port.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Reply } from './reply.ts';

export interface GatewayLimits {
  /** Largest accepted request body (docs/protocol.md, section 4: 4 MiB). */
  maxBodyBytes: number;
  /** Most events in one POST (docs/protocol.md, section 4: 10,000). */
  maxEvents: number;
  /**
   * Bytes promised to request bodies still arriving, over all requests: a body that does not
   * arrive in one piece is charged its declared length (http/body.ts), and refused with 503
   * when that does not fit. Bounds what slow uploads can make the server hold together.
   */
  maxBodyMemoryBytes: number;
}

export const DEFAULT_LIMITS: GatewayLimits = { maxBodyBytes: 4 * 1024 * 1024, maxEvents: 10_000, maxBodyMemoryBytes: 128 * 1024 * 1024 };

export interface GatewayContext {
  engine: GatewayEngine;
  secret: string;
  publicStock: boolean;
  lookupRequest: RequestLookup;
  /** Who an order concerns and which ids name one customer (gateway/order-lookup.ts). */
  orderFacts: OrderFacts;
  limits: GatewayLimits;
  /** Unfinished request bodies draw on this (limits.maxBodyMemoryBytes). */
  bodyMemory: Budget;
  metrics: GatewayMetrics;
  /** The engine's clock: queue waits are reported as of now. */
  now: () => number;
  /** Set when shutdown starts: readiness fails and new work is refused. */
  draining: boolean;
  /** Set once the engine refused work as closed, so readiness reflects it too. */
  engineClosed: boolean;
}

/**
 * A route handler. It runs inside the uWS callback: `req` is only valid until it returns, so
 * everything needed later (headers, parameters) must be read synchronously first.
 */
export type RouteHandler = (reply: Reply, res: HttpResponse, req: HttpRequest, ctx: GatewayContext) => void;
