// The /v1/ws route on uWebSockets.js: the token is checked in the upgrade handler so a bad one
// is refused with HTTP 401 before any WebSocket exists; then open / message / drain / close
// drive a WsConnection, and a token with `exp` arms a timer that closes the connection with
// 4001 when it passes. The upgrade is answered synchronously (authentication needs no I/O),
// so the HttpResponse cannot be aborted under us and needs no onAborted handler. Connections
// without a token draw on a server-wide budget: past it, an anonymous upgrade is refused with
// 503 before any WebSocket exists, while token holders and the anonymous clients already
// connected carry on.

import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t, WebSocket } from 'uWebSockets.js';
import { authenticateToken } from '../auth/authenticate.ts';
import { ANONYMOUS, type Principal } from '../auth/principal.ts';
import { Budget } from '../budget.ts';
import { WsConnection, type ConnectionCounters, type SocketData } from './connection.ts';
import { CLOSE, type WsLimits } from './limits.ts';
import type { WsFormat } from './out-message.ts';
import type { DeskPresence } from './presence.ts';
import { handleFrame, type SessionContext } from './session.ts';
import { TokenExpiries } from './token-expiry.ts';

export interface WsEndpointOptions {
  secret: string;
  limits: WsLimits;
  counters: ConnectionCounters;
  session: SessionContext;
  /** Told of every agent connection that opens and closes. */
  presence: DeskPresence;
}

export interface WsEndpoint {
  readonly connections: number;
  /** Open connections without a token, against WsLimits.maxAnonymousConnections. */
  readonly anonymousConnections: Budget;
  /**
   * Closes every open WebSocket with `code` (1001 on shutdown), each once everything queued for
   * it has been written, or at `timeoutMs` at the latest.
   */
  closeAll(code: number, reason: string, timeoutMs: number): Promise<void>;
}

export function mountWebSocket(app: TemplatedApp, pattern: string, options: WsEndpointOptions): WsEndpoint {
  const { limits, counters, session, presence } = options;
  const open = new Set<WsConnection>();
  const expiries = new TokenExpiries<WsConnection>();
  // Checked at upgrade, taken at open, given back at close: uWS calls open synchronously inside
  // res.upgrade, so nothing can slip in between, and an upgrade that never opens takes nothing.
  const anonymousConnections = new Budget('anonymous_connections', limits.maxAnonymousConnections);

  app.ws<SocketData>(pattern, {
    maxPayloadLength: Math.max(limits.hardMaxPayloadBytes, limits.maxPayloadBytes),
    idleTimeout: limits.idleTimeoutS,
    sendPingsAutomatically: true,
    // uWS drops (send returns 2) above this; WsConnection stops handing it frames far below,
    // at limits.sendBufferBytes, and queues the rest itself, so uWS never drops anything.
    maxBackpressure: 64 * 1024 * 1024,
    closeOnBackpressureLimit: 0,

    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      const upgrade = admit(req, options.secret, session.isDraining(), anonymousConnections);
      if (!upgrade.ok) {
        res.cork(() => {
          res.writeStatus(upgrade.status).writeHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ error: { code: upgrade.code, message: upgrade.message } }));
        });
        return;
      }
      const data: SocketData = { principal: upgrade.principal, format: upgrade.format, expiresAtMs: upgrade.expiresAtMs };
      res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },

    open: (ws: WebSocket<SocketData>) => {
      const data = ws.getUserData();
      const conn = new WsConnection(ws, data.principal, data.format, limits, counters);
      data.connection = conn;
      open.add(conn);
      if (conn.anonymous) anonymousConnections.take(1);
      // Before the expiry check, which may close it at once: every close then follows an open.
      presence.opened(conn.principal);
      if (data.expiresAtMs === undefined) return;
      // Expired since the upgrade: closed at once (the close handler runs inside add).
      expiries.add(conn, data.expiresAtMs);
    },

    message: (ws: WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean) => {
      const conn = ws.getUserData().connection;
      if (conn === undefined || conn.closed) return;
      if (message.byteLength > limits.maxPayloadBytes) return conn.end(CLOSE.tooBig, 'frame too large');
      try {
        handleFrame(session, conn, message, isBinary);
      } catch (err) {
        // Never let an exception escape into native code; the frame is lost, the client told.
        console.error('omni: WebSocket frame failed:', err);
        conn.end(CLOSE.internal, 'internal error');
      }
    },

    drain: (ws: WebSocket<SocketData>) => {
      ws.getUserData().connection?.flush();
    },

    close: (ws: WebSocket<SocketData>) => {
      const conn = ws.getUserData().connection;
      if (conn === undefined || conn.closed) return;
      conn.markClosed();
      open.delete(conn);
      if (conn.anonymous) anonymousConnections.release(1);
      expiries.delete(conn);
      for (const topic of conn.topics) session.hub.unsubscribe(conn, topic);
      conn.topics.clear();
      presence.closed(conn.principal);
    },
  });

  return {
    get connections() {
      return open.size;
    },
    anonymousConnections,
    async closeAll(code, reason, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      // end() runs the close handler at once, which deletes from the set: iterate a copy.
      for (;;) {
        for (const conn of [...open]) {
          conn.flush();
          if (conn.queued === 0 && conn.buffered === 0) conn.end(code, reason);
        }
        if (open.size === 0 || Date.now() >= deadline) break;
        // Waiting on the clients' reads: uWS's drain event flushes each queue meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      for (const conn of [...open]) conn.end(code, reason);
    },
  };
}

type Admission =
  | { ok: true; principal: Principal; format: WsFormat | undefined; expiresAtMs: number | undefined }
  | { ok: false; status: string; code: string; message: string };

function admit(req: HttpRequest, secret: string, draining: boolean, anonymousConnections: Budget): Admission {
  if (draining) return { ok: false, status: '503 Service Unavailable', code: 'unavailable', message: 'the server is shutting down' };
  const format = req.getQuery('format') ?? '';
  if (format !== '' && format !== 'json' && format !== 'msgpack') {
    return { ok: false, status: '400 Bad Request', code: 'bad_request', message: 'format must be json or msgpack' };
  }
  const token = req.getQuery('token') ?? '';
  let principal: Principal = ANONYMOUS;
  let expiresAtMs: number | undefined;
  if (token !== '') {
    const auth = authenticateToken(token, secret);
    if (!auth.ok) return { ok: false, status: '401 Unauthorized', code: 'unauthorized', message: `invalid token (${auth.reason})` };
    principal = auth.principal;
    expiresAtMs = auth.expiresAtMs;
  } else if (!anonymousConnections.admits(1)) {
    // 503, not 429: the server is full for anonymous clients as a whole, not this client too
    // fast; a client with a token is still let in.
    return { ok: false, status: '503 Service Unavailable', code: 'unavailable', message: `the server holds as many anonymous connections as it may (${anonymousConnections.limit}); retry later or connect with a token` };
  }
  return { ok: true, principal, format: format === '' ? undefined : format, expiresAtMs };
}

