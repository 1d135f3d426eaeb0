// RFC 6455 framing for a client: a streaming parser for the server's (unmasked) frames and an
// encoder for the client's (masked) ones. The parser hands out payloads as views into the TCP
// chunk whenever a frame lies whole inside one, and copies only frames split across chunks (once,
// into a buffer of the frame's size) and the fragments of fragmented messages. It keeps no view
// into a chunk after push() returns, so the caller may reuse the chunk's memory for the next read.

import { randomFillSync } from 'node:crypto';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes the parser fails with. */
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_TOO_BIG = 1009;
/** The code a close frame without a code stands for (never sent on the wire). */
export const CLOSE_NO_STATUS = 1005;

export interface FrameSink {
  /** A whole message; `data` may be a view into a TCP chunk, valid to read now. */
  message(data: Buffer, binary: boolean): void;
  ping(payload: Buffer): void;
  pong(payload: Buffer): void;
  /** The server's close frame; the parser reads nothing after it. */
  close(code: number, reason: string): void;
  /** The server broke the protocol; the parser reads nothing after it. */
  protocolError(error: Error, closeCode: number): void;
}

/** Largest message accepted by default: a hostile length must not make us allocate gigabytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const MAX_HEADER = 14;

export class FrameParser {
  private stopped = false;
  /** A header split across chunks, assembled here byte by byte. */
  private readonly head = Buffer.alloc(MAX_HEADER);
  private headFilled = 0;
  private inPayload = false;
  private fin = false;
  private opcode = 0;
  private payloadLength = 0;
  /** The payload of a frame split across chunks. */
  private payload: Buffer | undefined;
  private payloadFilled = 0;
  /** Opcode of the fragmented message in progress (0 = none) and copies of its fragments so far. */
  private fragmentedOpcode = 0;
  private fragments: Buffer[] = [];
  private fragmentedBytes = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.stopped) {
      if (this.inPayload) {
        at = this.fillPayload(chunk, at);
        continue;
      }
      if (this.headFilled === 0 && chunk.length - at >= 2) {
        const need = headerLength(chunk, at);
        if (chunk.length - at >= need) {
          this.readHeader(chunk, at);
          at += need;
          continue;
        }
      }
      at = this.fillHead(chunk, at);
    }
  }

  private fillHead(chunk: Buffer, at: number): number {
    while (at < chunk.length) {
      this.head[this.headFilled++] = chunk[at++];
      if (this.headFilled >= 2 && this.headFilled === headerLength(this.head, 0)) {
        this.headFilled = 0;
        this.readHeader(this.head, 0);
        return at;
      }
    }
    return at;
  }

  private readHeader(buf: Buffer, at: number): void {
    const b0 = buf[at];
    const b1 = buf[at + 1];
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    const len7 = b1 & 0x7f;
    let length = len7;
    if (len7 === 126) length = buf.readUInt16BE(at + 2);
    else if (len7 === 127) {
      const high = buf.readUInt32BE(at + 2);
      if (high > 0x1fffff) return this.fail('frame length beyond 2^53', CLOSE_TOO_BIG);
      length = high * 0x1_0000_0000 + buf.readUInt32BE(at + 6);
    }
    if ((b0 & 0x70) !== 0) return this.fail('reserved bits set without a negotiated extension', CLOSE_PROTOCOL_ERROR);
    if ((b1 & 0x80) !== 0) return this.fail('masked frame from the server', CLOSE_PROTOCOL_ERROR);
    const problem = this.opcode >= 0x8 ? controlProblem(this.opcode, this.fin, length) : this.dataProblem();
    if (problem !== undefined) return this.fail(problem, CLOSE_PROTOCOL_ERROR);
    if (this.opcode < 0x8 && this.fragmentedBytes + length > this.maxMessageBytes) {
      return this.fail(`message over ${this.maxMessageBytes} bytes`, CLOSE_TOO_BIG);
    }
    if (length === 0) return this.frame(EMPTY);
    this.inPayload = true;
    this.payloadLength = length;
  }

  private dataProblem(): string | undefined {
    if (this.opcode > OP_BINARY) return `unknown opcode ${this.opcode}`;
    if (this.opcode === OP_CONTINUATION && this.fragmentedOpcode === 0) return 'continuation frame without a message to continue';
    if (this.opcode !== OP_CONTINUATION && this.fragmentedOpcode !== 0) return 'new message before the fragmented one ended';
    return undefined;
  }

  private fillPayload(chunk: Buffer, at: number): number {
    const available = chunk.length - at;
    if (this.payload === undefined) {
      if (available >= this.payloadLength) {
        const end = at + this.payloadLength;
        this.inPayload = false;
        this.frame(chunk.subarray(at, end));
        return end;
      }
      this.payload = Buffer.allocUnsafe(this.payloadLength);
      this.payloadFilled = 0;
    }
    const take = Math.min(available, this.payloadLength - this.payloadFilled);
    chunk.copy(this.payload, this.payloadFilled, at, at + take);
    this.payloadFilled += take;
    if (this.payloadFilled === this.payloadLength) {
      const data = this.payload;
      this.payload = undefined;
      this.inPayload = false;
      this.frame(data);
    }
    return at + take;
  }

  private frame(data: Buffer): void {
    switch (this.opcode) {
      case OP_CLOSE:
        return this.closeFrame(data);
      case OP_PING:
        return this.sink.ping(data);
      case OP_PONG:
        return this.sink.pong(data);
      case OP_CONTINUATION: {
        this.fragments.push(Buffer.from(data));
        this.fragmentedBytes += data.length;
        if (!this.fin) return;
        const message = Buffer.concat(this.fragments, this.fragmentedBytes);
        const binary = this.fragmentedOpcode === OP_BINARY;
        this.fragments = [];
        this.fragmentedBytes = 0;
        this.fragmentedOpcode = 0;
        return this.sink.message(message, binary);
      }
      default:
        if (this.fin) return this.sink.message(data, this.opcode === OP_BINARY);
        this.fragmentedOpcode = this.opcode;
        this.fragments = [Buffer.from(data)];
        this.fragmentedBytes = data.length;
    }
  }

  private closeFrame(data: Buffer): void {
    if (data.length === 1) return this.fail('close frame with a 1-byte payload', CLOSE_PROTOCOL_ERROR);
    const code = data.length >= 2 ? data.readUInt16BE(0) : CLOSE_NO_STATUS;
    if (data.length >= 2 && !validCloseCode(code)) return this.fail(`invalid close code ${code}`, CLOSE_PROTOCOL_ERROR);
    this.stopped = true;
    this.sink.close(code, data.toString('utf8', 2));
  }

  private fail(message: string, closeCode: number): void {
    this.stopped = true;
    this.sink.protocolError(new Error(`WebSocket protocol error: ${message}`), closeCode);
  }
}

const EMPTY = Buffer.alloc(0);

/** Bytes of the header starting at `at` (needs its first 2 bytes). */
function headerLength(buf: Buffer, at: number): number {
  const b1 = buf[at + 1];
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}

function controlProblem(opcode: number, fin: boolean, length: number): string | undefined {
  if (opcode !== OP_CLOSE && opcode !== OP_PING && opcode !== OP_PONG) return `unknown opcode ${opcode}`;
  if (!fin) return 'fragmented control frame';
  if (length > 125) return 'control frame over 125 bytes';
  return undefined;
}

/** Codes a close frame may carry (RFC 6455 §7.4: 1005, 1006, 1015 are never sent). */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// Masks come from a pooled random buffer: a fresh crypto call per frame would cost more than
// the frame.
let maskPool = Buffer.alloc(0);
let maskAt = 0;

/** A masked client frame (FIN set) carrying `payload`: text is encoded straight into the frame. */
export function encodeClientFrame(opcode: number, payload: Uint8Array | string): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const start = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(start + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  if (maskAt + 4 > maskPool.length) {
    maskPool = randomFillSync(Buffer.allocUnsafe(4096));
    maskAt = 0;
  }
  const maskStart = start - 4;
  maskPool.copy(frame, maskStart, maskAt, maskAt + 4);
  maskAt += 4;
  if (typeof payload === 'string') frame.write(payload, start, 'utf8');
  else frame.set(payload, start);
  for (let i = 0; i < length; i++) frame[start + i] ^= frame[maskStart + (i & 3)];
  return frame;
}

/** The payload of a close frame: the code, then the reason cut to fit 125 bytes. */
export function closePayload(code: number, reason = ''): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}
