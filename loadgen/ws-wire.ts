// A lean WebSocket client over node:net (RFC 6455, no extensions, no subprotocols): the
// load generator's receiver, cheap enough per message that thousands of connections at hundreds
// of thousands of messages per second do not make the client side the bottleneck. No UTF-8
// validation of text frames: the caller parses them anyway.
//
// Life cycle: onOpen once the upgrade is accepted, onMessage per message, then exactly one
// onClose (the server's close code, or 1006 when the connection ended without one). Anything
// wrong — refused connection, bad upgrade answer, protocol error — is reported by onError first
// (at most once); nothing the server sends makes a socket callback throw.

import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CLOSE_NO_STATUS, FrameParser, OP_BINARY, OP_CLOSE, OP_PONG, OP_TEXT, closePayload, encodeClientFrame } from './ws-frames.ts';

export interface WireHandlers {
  onOpen(): void;
  /**
   * `data` is valid during this call only: it is usually a view into the thread's shared read
   * buffer, overwritten by the next read. Decode it here, or copy it (Buffer.from) to keep it.
   */
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

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** An upgrade answer longer than this is not a WebSocket server talking. */
const MAX_UPGRADE_ANSWER = 16 * 1024;
/** After our close frame, how long the server has to answer before the socket is dropped. */
const CLOSE_WAIT_MS = 2000;
const CLOSE_ABNORMAL = 1006;
/**
 * Every socket of this thread reads into this one buffer (node's `onread`): no allocation and no
 * stream machinery per read, which was most of the cost of a small read. Safe to share because a
 * read is handled to the end before the next one starts; whatever must outlive a read (a partial
 * header, payload or fragment, a partial upgrade answer) is copied out by its keeper.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/** Opens ws://host:port/path?query. Throws only for a URL that is not ws://. */
export function openWire(url: string, handlers: WireHandlers): WireSocket {
  const target = new URL(url);
  if (target.protocol !== 'ws:') throw new Error(`openWire needs a ws:// URL (got '${url}')`);
  return new WireConnection(target, handlers);
}

type State = 'connecting' | 'open' | 'closing' | 'closed';

class WireConnection implements WireSocket {
  private state: State = 'connecting';
  private readonly socket: Socket;
  private readonly key = randomBytes(16).toString('base64');
  private upgradeAnswer: Buffer | undefined;
  private readonly parser: FrameParser;
  private closeCode = CLOSE_ABNORMAL;
  private closeReason = '';
  private errored = false;
  private sentClose = false;

  constructor(
    private readonly target: URL,
    private readonly handlers: WireHandlers,
  ) {
    this.parser = new FrameParser({
      message: (data, binary) => handlers.onMessage(data, binary),
      ping: (payload) => {
        if (this.state === 'open') this.socket.write(encodeClientFrame(OP_PONG, payload));
      },
      pong: () => {},
      close: (code, reason) => this.serverClosed(code, reason),
      protocolError: (error, code) => this.fail(error, code),
    });
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const onread = {
      buffer: READ_BUFFER,
      callback: (bytes: number, buffer: Uint8Array) => {
        const chunk = (buffer as Buffer).subarray(0, bytes);
        if (this.state === 'connecting') this.readUpgrade(chunk);
        else this.parser.push(chunk);
        return true;
      },
    };
    this.socket = connect({ host, port: Number(target.port || 80), onread });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => this.socket.write(this.upgradeRequest()));
    this.socket.on('error', (error) => this.reportError(error));
    this.socket.on('close', () => this.closed());
  }

  get open(): boolean {
    return this.state === 'open';
  }

  sendText(text: string): void {
    if (this.writable()) this.socket.write(encodeClientFrame(OP_TEXT, text));
  }

  sendBinary(data: Uint8Array): void {
    if (this.writable()) this.socket.write(encodeClientFrame(OP_BINARY, data));
  }

  close(code = 1000): void {
    if (this.state === 'connecting') {
      this.state = 'closed';
      this.socket.destroy();
    } else if (this.state === 'open') {
      this.state = 'closing';
      this.sendClose(code);
      setTimeout(() => this.socket.destroy(), CLOSE_WAIT_MS).unref();
    }
  }

  /** Like a browser: sending before open is a caller bug, sending after close is dropped. */
  private writable(): boolean {
    if (this.state === 'connecting') throw new Error('WebSocket is not open yet');
    return this.state === 'open';
  }

  private upgradeRequest(): string {
    const t = this.target;
    const lines = [
      `GET ${t.pathname || '/'}${t.search} HTTP/1.1`,
      `Host: ${t.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${this.key}`,
      'Sec-WebSocket-Version: 13',
    ];
    return `${lines.join('\r\n')}\r\n\r\n`;
  }

  private readUpgrade(chunk: Buffer): void {
    const answer = this.upgradeAnswer === undefined ? chunk : Buffer.concat([this.upgradeAnswer, chunk]);
    const end = answer.indexOf('\r\n\r\n');
    if (end < 0) {
      if (answer.length > MAX_UPGRADE_ANSWER) this.fail(new Error(`upgrade answer over ${MAX_UPGRADE_ANSWER} bytes without an end`), CLOSE_ABNORMAL);
      else this.upgradeAnswer = Buffer.from(answer);
      return;
    }
    this.upgradeAnswer = undefined;
    const problem = this.upgradeProblem(answer.toString('latin1', 0, end));
    if (problem !== undefined) return this.fail(new Error(`WebSocket upgrade to ${this.target.href} failed: ${problem}`), CLOSE_ABNORMAL);
    this.state = 'open';
    this.handlers.onOpen();
    // Frames sent right behind the 101 arrive in the same chunk.
    if (end + 4 < answer.length) this.parser.push(answer.subarray(end + 4));
  }

  private upgradeProblem(head: string): string | undefined {
    const [statusLine, ...lines] = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (status === null) return `not an HTTP answer: '${statusLine.slice(0, 80)}'`;
    if (status[1] !== '101') return `server answered '${statusLine.slice(0, 80)}'`;
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return 'no "Upgrade: websocket" header';
    if (!/(^|,)\s*upgrade\s*(,|$)/i.test(headers.get('connection') ?? '')) return 'no "Connection: Upgrade" header';
    const accept = createHash('sha1').update(this.key + ACCEPT_GUID).digest('base64');
    if (headers.get('sec-websocket-accept') !== accept) return 'wrong Sec-WebSocket-Accept';
    if (headers.has('sec-websocket-extensions')) return 'server chose an extension none was asked for';
    if (headers.has('sec-websocket-protocol')) return 'server chose a subprotocol none was asked for';
    return undefined;
  }

  private serverClosed(code: number, reason: string): void {
    this.closeCode = code;
    this.closeReason = reason;
    if (this.state === 'open') this.sendClose(code === CLOSE_NO_STATUS ? undefined : code);
    this.state = 'closing';
    this.socket.end(() => this.socket.destroy());
  }

  private sendClose(code: number | undefined): void {
    if (this.sentClose) return;
    this.sentClose = true;
    this.socket.write(encodeClientFrame(OP_CLOSE, code === undefined ? Buffer.alloc(0) : closePayload(code)));
  }

  /** Reports the error, tells the server why (when a WebSocket exists) and drops the connection. */
  private fail(error: Error, closeCode: number): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open' || this.state === 'closing';
    this.closeCode = closeCode;
    this.state = 'closing';
    this.reportError(error);
    if (wasOpen && !this.socket.destroyed) {
      this.sendClose(closeCode);
      this.socket.end(() => this.socket.destroy());
    } else this.socket.destroy();
  }

  private reportError(error: Error): void {
    if (this.errored) return;
    this.errored = true;
    this.handlers.onError(error);
  }

  private closed(): void {
    if (this.state === 'connecting') this.reportError(new Error(`connection to ${this.target.host} closed before the WebSocket upgrade`));
    this.state = 'closed';
    this.handlers.onClose(this.closeCode, this.closeReason);
  }
}
