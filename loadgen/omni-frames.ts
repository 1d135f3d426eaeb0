// omnistream's /v1/ws frames as the load generator's connections (subscribers, agent desks,
// chatting customers) read and write them: the client SDK's codec and frame types, so the
// protocol is defined once (client/codec.ts, client/types.ts). JSON text or msgpack binary, per
// connection format.

import { codecFor, decodeFrame, type ClientFrame, type Format, type ServerFrame } from '../client/mod.ts';
import type { WireSocket } from './ws-wire.ts';

/** A server frame decoded to its object, or what is wrong with it (to report as an error). */
export function decodeServerFrame(data: Buffer, binary: boolean): ServerFrame | string {
  try {
    return decodeFrame(binary ? data : data.toString('utf8'));
  } catch (error) {
    return error instanceof SyntaxError ? 'undecodable message' : `undecodable message: ${(error as Error).message}`;
  }
}

/** Sends client frames in the connection's format. */
export function frameSender(socket: () => WireSocket, format: Format): (frame: ClientFrame) => void {
  const codec = codecFor(format);
  return (frame) => {
    const encoded = codec.encode(frame);
    if (typeof encoded === 'string') socket().sendText(encoded);
    else socket().sendBinary(encoded);
  };
}
