// omnistream's /v1/ws frames as the load generator's connections (subscribers, agent desks,
// chatting customers) read and write them: JSON text or msgpack binary, per connection format.

import { pack, unpack } from 'msgpackr';
import type { Format } from './options.ts';
import type { WireSocket } from './ws-wire.ts';

/** A server frame decoded to its object, or what is wrong with it (to report as an error). */
export function decodeServerFrame(data: Buffer, binary: boolean): Record<string, unknown> | string {
  let msg: unknown;
  try {
    msg = binary ? unpack(data) : JSON.parse(data.toString('utf8'));
  } catch {
    return 'undecodable message';
  }
  return msg !== null && typeof msg === 'object' ? (msg as Record<string, unknown>) : 'message is not an object';
}

/** Sends client frames in the connection's format. */
export function frameSender(socket: () => WireSocket, format: Format): (frame: Record<string, unknown>) => void {
  return (frame) => (format === 'json' ? socket().sendText(JSON.stringify(frame)) : socket().sendBinary(pack(frame)));
}
