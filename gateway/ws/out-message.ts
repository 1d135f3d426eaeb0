// A server → client message, encoded at most once per wire format however many clients get it:
// one update fanned out to thousands of subscribers costs one JSON.stringify (and one pack).

import { pack } from 'msgpackr';

export type WsFormat = 'json' | 'msgpack';

export class OutMessage {
  #json: string | undefined;
  #msgpack: Buffer | undefined;

  constructor(
    readonly body: Record<string, unknown>,
    /** Set on updates: the topic and seq it carries, for per-subscriber filtering and conflation. */
    readonly topic?: string,
    readonly seq?: number,
  ) {}

  encode(format: WsFormat): string | Buffer {
    if (format === 'json') return (this.#json ??= JSON.stringify(this.body));
    return (this.#msgpack ??= pack(this.body));
  }

  /** Bytes on the wire in a format (UTF-16 length approximates JSON's UTF-8 size). */
  size(format: WsFormat): number {
    return this.encode(format).length;
  }
}

export function updateMessage(topic: string, seq: number, data: unknown, ts: number): OutMessage {
  return new OutMessage({ op: 'update', topic, seq, data, ts }, topic, seq);
}
