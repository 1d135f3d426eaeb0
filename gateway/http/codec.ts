// The two wire formats of the HTTP API and the WebSocket: JSON, and msgpack when the client says so.

import { isUtf8 } from 'node:buffer';
import { pack } from 'msgpackr';
import { decodeStrictMsgpack, MAX_WIRE_DEPTH } from './strict-msgpack.ts';

export type WireFormat = 'json' | 'msgpack';

const MSGPACK_TYPES = new Set(['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack']);

export const CONTENT_TYPES: Record<WireFormat, string> = {
  json: 'application/json',
  msgpack: 'application/msgpack',
};

/** The format of a request body, from its Content-Type; anything not msgpack is read as JSON. */
export function formatOfContentType(contentType: string): WireFormat {
  return MSGPACK_TYPES.has(mediaType(contentType)) ? 'msgpack' : 'json';
}

/** The format a GET client asked for: msgpack only when its Accept header names it. */
export function formatOfAccept(accept: string): WireFormat {
  if (accept === '') return 'json';
  return accept.split(',').some((range) => MSGPACK_TYPES.has(mediaType(range))) ? 'msgpack' : 'json';
}

export type Decoded = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Decodes what a client sent (an HTTP body or a WebSocket frame) strictly: valid UTF-8 only,
 * nesting at most MAX_WIRE_DEPTH deep, and for msgpack only the types JSON has (see
 * strict-msgpack.ts). Anything else is refused whole, before any of it is used.
 */
export function decode(body: Uint8Array, format: WireFormat): Decoded {
  try {
    if (format === 'msgpack') return { ok: true, value: decodeStrictMsgpack(body) };
    const depth = jsonDepth(body);
    if (depth > MAX_WIRE_DEPTH) return { ok: false, message: `invalid JSON: nested deeper than ${MAX_WIRE_DEPTH} levels` };
    if (!isUtf8(body)) return { ok: false, message: 'invalid JSON: not valid UTF-8' };
    return { ok: true, value: JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) };
  } catch (error) {
    return { ok: false, message: `invalid ${format === 'msgpack' ? 'msgpack' : 'JSON'}: ${(error as Error).message}` };
  }
}

/**
 * The deepest nesting of arrays and objects in a JSON text, read from its bytes before it is
 * parsed (brackets inside strings do not count). Malformed text is left to JSON.parse.
 */
function jsonDepth(b: Uint8Array): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > MAX_WIRE_DEPTH) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

export function encode(value: unknown, format: WireFormat): Buffer {
  return format === 'msgpack' ? pack(value) : Buffer.from(JSON.stringify(value));
}

function mediaType(headerValue: string): string {
  const semicolon = headerValue.indexOf(';');
  return (semicolon === -1 ? headerValue : headerValue.slice(0, semicolon)).trim().toLowerCase();
}
