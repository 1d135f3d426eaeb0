// The two wire formats of the HTTP API (contract §4): JSON, and msgpack when the client says so.

import { C1, pack, unpack } from 'msgpackr';

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

export function decode(body: Buffer, format: WireFormat): Decoded {
  try {
    const value: unknown = format === 'msgpack' ? unpack(body) : JSON.parse(body.toString('utf8'));
    // msgpackr turns the reserved byte 0xC1 into a marker object instead of failing.
    if (value === C1 || (Array.isArray(value) && value.includes(C1))) return { ok: false, message: 'invalid msgpack (reserved byte 0xc1)' };
    return { ok: true, value };
  } catch (error) {
    return { ok: false, message: `invalid ${format === 'msgpack' ? 'msgpack' : 'JSON'}: ${(error as Error).message}` };
  }
}

export function encode(value: unknown, format: WireFormat): Buffer {
  return format === 'msgpack' ? pack(value) : Buffer.from(JSON.stringify(value));
}

function mediaType(headerValue: string): string {
  const semicolon = headerValue.indexOf(';');
  return (semicolon === -1 ? headerValue : headerValue.slice(0, semicolon)).trim().toLowerCase();
}
