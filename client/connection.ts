// One logical connection over a series of sockets: opens a socket, decodes what arrives, and on
// any close it did not ask for opens the next one after a backoff delay. It knows nothing of
// topics or calls; the client above it reacts to open/frame/close.

import { Backoff } from './backoff.ts';
import { codecFor, decodeFrame, frameBytes, type Codec } from './codec.ts';
import { OmniError } from './errors.ts';
import {
  OPEN,
  type BackoffOptions,
  type ClientFrame,
  type Format,
  type ReconnectInfo,
  type ServerFrame,
  type TokenSource,
  type WebSocketConstructor,
  type WebSocketLike,
} from './types.ts';

/** A connection open this long counts as healthy: the reconnect delays start over. */
const STABLE_CONNECTION_MS = 10_000;

/** Close codes with a meaning for the client (docs/protocol.md, section 5). */
export const CLOSE_TOO_SLOW = 4008;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_TOO_BIG = 1009;
/** The token's `exp` passed: the server closed the connection (docs/protocol.md). */
export const CLOSE_TOKEN_EXPIRED = 4001;
const CLOSE_NORMAL = 1000;
/** What the client closes with when it drops a socket itself to reconnect (4000–4999 are free). */
export const CLOSE_RECONNECT = 4000;

export interface ConnectionOptions {
  url: string;
  token?: TokenSource;
  format: Format;
  WebSocket: WebSocketConstructor;
  backoff?: Partial<BackoffOptions>;
  maxFrameBytes: number;
  random?: () => number;
}

export interface ConnectionEvents {
  open(): void;
  frame(frame: ServerFrame): void;
  close(code: number, reason: string, willReconnect: boolean): void;
  reconnecting(info: ReconnectInfo): void;
  error(error: Error): void;
}

/** ws(s)://…/v1/ws?token=…&format=… from what the application gave. Throws on a bad URL. */
export function buildUrl(base: string, format: Format, token: string | undefined): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`unsupported URL scheme: ${url.protocol}`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/ws';
  url.searchParams.set('format', format);
  if (token !== undefined && token !== '') url.searchParams.set('token', token);
  else url.searchParams.delete('token');
  return url.toString();
}

export class Connection {
  readonly codec: Codec;
  readonly backoff: Backoff;
  #socket: WebSocketLike | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** Bumped per attempt, so a token still resolving for an abandoned attempt is ignored. */
  #generation = 0;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.codec = codecFor(options.format);
    this.backoff = new Backoff(options.backoff, options.random);
    buildUrl(options.url, options.format, undefined); // fail fast on a malformed URL
  }

  get isOpen(): boolean {
    return this.#socket !== undefined && this.#socket.readyState === OPEN;
  }

  /** The socket in use (tests and diagnostics: e.g. to kill it and watch the client resume). */
  get socket(): WebSocketLike | undefined {
    return this.#socket;
  }

  start(): void {
    void this.#open();
  }

  /** Encodes a frame, refusing one the server would close the connection for. */
  encode(frame: ClientFrame): string | Uint8Array {
    const encoded = this.codec.encode(frame);
    const bytes = frameBytes(encoded);
    if (bytes > this.options.maxFrameBytes) {
      throw new OmniError('too_large', `frame of ${bytes} bytes exceeds the ${this.options.maxFrameBytes}-byte limit`);
    }
    return encoded;
  }

  /** Writes a frame if the socket is open; returns whether it did. */
  send(frame: ClientFrame | string | Uint8Array): boolean {
    if (!this.isOpen) return false;
    const encoded = typeof frame === 'string' || frame instanceof Uint8Array ? frame : this.encode(frame);
    this.#socket!.send(encoded);
    return true;
  }

  /** Closes for good: no reconnect. The 'close' event fires at once, not when the socket confirms. */
  stop(code = CLOSE_NORMAL, reason = 'client closed'): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#generation += 1;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const socket = this.#socket;
    if (socket) {
      this.#detach(socket);
      try {
        socket.close(code, reason);
      } catch {
        // Closing a socket that is still connecting throws in some implementations; it is abandoned anyway.
      }
    }
    this.events.close(code, reason, false);
  }

  /**
   * Drops the current socket without waiting for a close handshake (which never completes on a
   * dead connection) and connects again at once, resuming every topic. Used by the heartbeat, and
   * by applications that know better (e.g. a browser's 'online' event).
   */
  reconnect(reason = 'reconnect requested'): void {
    if (this.#stopped) return;
    const socket = this.#socket;
    if (socket) {
      this.#detach(socket);
      try {
        socket.close(CLOSE_RECONNECT, reason);
      } catch {
        // Already closing or still connecting in an implementation that refuses: abandoned anyway.
      }
      this.events.close(CLOSE_RECONNECT, reason, true);
      this.#scheduleReconnect(true);
    } else if (this.#reconnectTimer !== undefined) {
      // Waiting out a backoff delay: skip the rest of it.
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      void this.#open();
    }
    // Else an attempt is already under way (its token is being fetched): nothing to hurry.
  }

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    let url: string;
    try {
      const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
      if (generation !== this.#generation || this.#stopped) return;
      url = buildUrl(this.options.url, this.options.format, token);
    } catch (error) {
      if (generation !== this.#generation || this.#stopped) return;
      this.events.error(asError(error, 'token'));
      this.#scheduleReconnect(false);
      return;
    }
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(url);
    } catch (error) {
      this.events.error(asError(error, 'socket'));
      this.#scheduleReconnect(false);
      return;
    }
    this.#socket = socket;
    // Browsers default to Blob, which cannot be decoded synchronously; 'ws' defaults to Buffer.
    socket.binaryType = 'arraybuffer';
    let openedAt: number | undefined;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      openedAt = Date.now();
      this.events.open();
    };
    socket.onmessage = (event) => {
      if (this.#socket !== socket) return;
      let frame: ServerFrame;
      try {
        frame = decodeFrame(event.data);
      } catch (error) {
        // One bad frame is reported, not fatal: the rest of the stream is still usable.
        this.events.error(new OmniError('bad_frame', `undecodable frame: ${asError(error, 'decode').message}`));
        return;
      }
      this.events.frame(frame);
    };
    socket.onerror = (event) => {
      if (this.#socket !== socket) return;
      // Browsers give no detail; 'ws' puts the cause (e.g. "Unexpected server response: 401") on it.
      const message = (event as { message?: unknown } | null)?.message;
      this.events.error(new OmniError('socket_error', typeof message === 'string' && message ? message : 'WebSocket error'));
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#detach(socket);
      this.#socket = undefined;
      const code = typeof event?.code === 'number' ? event.code : 1006;
      const reason = typeof event?.reason === 'string' ? event.reason : '';
      // Only a connection that stayed up earns a fresh series of short delays: a server that
      // accepts and then closes at once (or a client always too slow) must see the delays grow.
      const stable = openedAt !== undefined && Date.now() - openedAt >= STABLE_CONNECTION_MS;
      if (stable) this.backoff.reset();
      if (code === CLOSE_TOKEN_EXPIRED && typeof this.options.token !== 'function') {
        // The same token would only be refused again (401), forever: stop, and say why.
        this.events.error(new OmniError('token_expired', 'the token expired and the server closed the connection (4001); pass a token function to renew it'));
        this.stop(CLOSE_TOKEN_EXPIRED, reason || 'token expired');
        return;
      }
      this.events.close(code, reason, true);
      // 4008: we fell behind; the server keeps our place, so come back at once and resume with
      // since. 4001: the token function gives a fresh token, so the resume need not wait either.
      // Either only after a connection that lasted: if it happens again right away (a client
      // always too slow, a token function handing out tokens about to expire), back off like
      // any other close instead of hammering the server.
      this.#scheduleReconnect((code === CLOSE_TOO_SLOW || code === CLOSE_TOKEN_EXPIRED) && stable);
    };
  }

  #scheduleReconnect(immediately: boolean): void {
    if (this.#stopped) return;
    const delayMs = immediately ? 0 : this.backoff.next();
    this.events.reconnecting({ attempt: Math.max(1, this.backoff.attempt), delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#stopped) void this.#open();
    }, delayMs);
  }

  #detach(socket: WebSocketLike): void {
    if (this.#socket === socket) this.#socket = undefined;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Not null: 'ws' is an EventEmitter underneath, and closing a socket that is still connecting
    // emits 'error' on it; with no listener left that would be an uncaught exception.
    socket.onerror = ignore;
  }
}

function ignore(): void {}

function asError(error: unknown, what: string): Error {
  return error instanceof Error ? error : new Error(`${what}: ${String(error)}`);
}
