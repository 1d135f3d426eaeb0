// The load generator's WebSocket client: the `ws` package (with its native helpers when
// installed) behind the small callback surface the loadgen's connections use. `ws` replaced a
// hand-written RFC 6455 client once `omni bench receiver` measured that one less than 2× cheaper
// per message (docs/benchmarks.md, "The load generator's receiving side"). No permessage-deflate,
// no subprotocols, no UTF-8 validation of text frames: the caller parses them anyway.
//
// Life cycle: onOpen once the upgrade is accepted, onMessage per message, then exactly one
// onClose (the server's close code; the code we failed with on a protocol error; 1006 when the
// connection ended without one). Anything wrong — refused connection, bad upgrade answer,
// protocol error — is reported by onError first (at most once); nothing the server sends makes a
// socket callback throw.

import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';

export interface WireHandlers {
  onOpen(): void;
  /** `data` is the whole message; `binary` says whether it came in binary frames. */
  onMessage(data: Buffer, binary: boolean): void;
  onClose(code: number, reason: string): void;
  onError(error: Error): void;
}

export interface WireSocket {
  sendText(text: string): void;
  sendBinary(data: Uint8Array): void;
  close(code?: number): void;
  readonly open: boolean;
}

/** Largest message accepted: a hostile length must not make us allocate gigabytes. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** After our close frame, how long the server has to answer before the socket is dropped. */
const CLOSE_WAIT_MS = 2000;
const CLOSE_PROTOCOL_ERROR = 1002;
/** ws's error codes for frames it refuses, and the close code each stands for (RFC 6455 §7.4.1). */
const CLOSE_CODE_OF: Record<string, number> = { WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009, WS_ERR_INVALID_UTF8: 1007 };
// (closeTimeout is in ws since 8.19 but missing from its typings, hence the separate object.)
const WS_OPTIONS: ClientOptions & { closeTimeout: number } = { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: MAX_MESSAGE_BYTES, closeTimeout: CLOSE_WAIT_MS };

/** Opens ws://host:port/path?query. Throws only for a URL that is not ws://. */
export function openWire(url: string, handlers: WireHandlers): WireSocket {
  const target = new URL(url);
  if (target.protocol !== 'ws:') throw new Error(`openWire needs a ws:// URL (got '${url}')`);
  return new WireConnection(target, handlers);
}

class WireConnection implements WireSocket {
  private readonly ws: WebSocket;
  private opened = false;
  private errored = false;
  /** close() was called: what follows (ws's "closed before established") is no error. */
  private closedByUs = false;
  /** The close code of a protocol error ws failed the connection with (ws itself reports 1006). */
  private failCode: number | undefined;

  constructor(
    private readonly target: URL,
    private readonly handlers: WireHandlers,
  ) {
    this.ws = new WebSocket(target.href, WS_OPTIONS);
    this.ws.on('open', () => {
      this.opened = true;
      handlers.onOpen();
    });
    this.ws.on('message', (data, binary) => handlers.onMessage(data as Buffer, binary));
    this.ws.on('unexpected-response', (request, response) => this.refused(request, response));
    this.ws.on('error', (error) => this.failed(error));
    this.ws.on('close', (code, reason) => handlers.onClose(this.failCode ?? code, reason.toString()));
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendText(text: string): void {
    if (this.writable()) this.ws.send(text);
  }

  sendBinary(data: Uint8Array): void {
    if (this.writable()) this.ws.send(data, { binary: true });
  }

  close(code = 1000): void {
    this.closedByUs = true;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(code);
  }

  /** Like a browser: sending before open is a caller bug, sending after close is dropped. */
  private writable(): boolean {
    if (this.ws.readyState === WebSocket.CONNECTING) throw new Error('WebSocket is not open yet');
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** An upgrade answered with something other than a WebSocket's 101. */
  private refused(request: ClientRequest, response: IncomingMessage): void {
    const status = `HTTP/${response.httpVersion} ${response.statusCode} ${response.statusMessage ?? ''}`.trim();
    // A 101 without "Upgrade: websocket" (and "Connection: Upgrade") is not an upgrade to Node's HTTP parser.
    const problem = response.statusCode === 101 ? 'no "Upgrade: websocket" header' : `server answered '${status.slice(0, 80)}'`;
    this.report(new Error(`WebSocket upgrade to ${this.target.href} failed: ${problem}`));
    request.destroy();
    this.ws.terminate();
  }

  private failed(error: Error & { code?: string }): void {
    if (this.closedByUs && !this.opened) return;
    const code = error.code ?? '';
    if (this.opened) {
      if (!code.startsWith('WS_ERR_')) return this.report(error);
      this.failCode = CLOSE_CODE_OF[code] ?? CLOSE_PROTOCOL_ERROR;
      return this.report(new Error(`WebSocket protocol error: ${error.message}`));
    }
    if (code === 'ECONNRESET') return this.report(new Error(`connection to ${this.target.host} closed before the WebSocket upgrade`));
    if (code.startsWith('HPE_')) return this.report(new Error(`WebSocket upgrade to ${this.target.href} failed: not an HTTP answer (${error.message})`));
    // Network errors (ECONNREFUSED, …) as they are; ws's own refusals of the answer with the URL.
    this.report(/^E[A-Z]+$/.test(code) ? error : new Error(`WebSocket upgrade to ${this.target.href} failed: ${error.message}`));
  }

  private report(error: Error): void {
    if (this.errored) return;
    this.errored = true;
    this.handlers.onError(error);
  }
}
