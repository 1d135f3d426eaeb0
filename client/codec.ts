// Frame encoding (docs/protocol.md, section 5): JSON in text frames, msgpack in binary frames. msgpackr's
// pack/unpack run in browsers as well as Node.

import { Packr, unpack } from 'msgpackr';
import type { ClientFrame, Format, ServerFrame } from './types.ts';

export interface Codec {
  readonly format: Format;
  encode(frame: ClientFrame): string | Uint8Array;
}

// Plain maps (no records extension: the server decodes with defaults), and fields set to
// undefined left out as JSON.stringify does, so `{ ts: undefined }` means the same in both formats.
// (skipValues works at runtime but is missing from msgpackr's typings, hence the separate object.)
const packrOptions = { useRecords: false, skipValues: [undefined] };
const packr = new Packr(packrOptions);

export function codecFor(format: Format): Codec {
  if (format === 'msgpack') {
    return { format, encode: (frame) => packr.pack(frame) };
  }
  return { format, encode: (frame) => JSON.stringify(frame) };
}

/** Bytes a frame takes on the wire, to refuse locally what the server would close us for (1009). */
export function frameBytes(encoded: string | Uint8Array): number {
  if (typeof encoded !== 'string') return encoded.byteLength;
  // UTF-8 length counted in place: no second encoding of every outgoing frame.
  let bytes = 0;
  for (let i = 0; i < encoded.length; i++) {
    const unit = encoded.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < encoded.length && (encoded.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair: one code point above U+FFFF
      i++;
    } else bytes += 3; // the rest of the BMP, and lone surrogates (encoded as U+FFFD)
  }
  return bytes;
}

/**
 * Decodes by the frame's kind rather than by the configured format: the server answers in the
 * format the client last sent, so a text frame is JSON and a binary frame msgpack, whatever we
 * asked for. Binary data arrives as an ArrayBuffer (binaryType 'arraybuffer', which the connection
 * sets) or, from some Node implementations, as a Uint8Array/Buffer.
 */
export function decodeFrame(data: unknown): ServerFrame {
  let value: unknown;
  if (typeof data === 'string') value = JSON.parse(data);
  else if (data instanceof ArrayBuffer) value = unpack(new Uint8Array(data));
  else if (ArrayBuffer.isView(data)) value = unpack(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  else if (Array.isArray(data)) value = unpack(concat(data as Uint8Array[]));
  else throw new Error(`unsupported frame data: ${Object.prototype.toString.call(data)}`);
  if (typeof value !== 'object' || value === null || typeof (value as { op?: unknown }).op !== 'string') {
    throw new Error('frame is not an object with an "op"');
  }
  return value as ServerFrame;
}

// ws with binaryType 'fragments' hands over a list of chunks; joined here for completeness.
function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
