// A server → client message, encoded at most once per wire format however many clients get it:
// one update fanned out to thousands of subscribers costs one JSON.stringify (and one pack).

import { pack } from 'msgpackr';
import { isStateTopic } from './topic-kind.ts';

export type WsFormat = 'json' | 'msgpack';

export class OutMessage {
  #json: string | undefined;
  #msgpack: Buffer | undefined;
  /**
   * Told the size of each encoding as it is cached, while a topic history holds the message:
   * encodings made later (the first msgpack subscriber's flush) count against the history bound.
   */
  meter: ((bytes: number) => void) | undefined;
  #stateUpdate: boolean | undefined;

  constructor(
    readonly body: Record<string, unknown>,
    /** Set on updates: the topic and seq it carries, for per-subscriber filtering and conflation. */
    readonly topic?: string,
    readonly seq?: number,
  ) {}

  /** An update of a state topic (may be conflated): decided once per message, not per subscriber. */
  get stateUpdate(): boolean {
    return (this.#stateUpdate ??= this.seq !== undefined && this.topic !== undefined && isStateTopic(this.topic));
  }

  encode(format: WsFormat): string | Buffer {
    if (format === 'json') {
      if (this.#json === undefined) {
        this.#json = JSON.stringify(this.body);
        this.meter?.(this.#json.length);
      }
      return this.#json;
    }
    if (this.#msgpack === undefined) {
      this.#msgpack = pack(this.body);
      this.meter?.(this.#msgpack.length);
    }
    return this.#msgpack;
  }

  /** Bytes on the wire in a format (UTF-16 length approximates JSON's UTF-8 size). */
  size(format: WsFormat): number {
    return this.encode(format).length;
  }

  /** Bytes held by the encodings cached so far. */
  get cachedBytes(): number {
    return (this.#json?.length ?? 0) + (this.#msgpack?.length ?? 0);
  }
}

export function updateMessage(topic: string, seq: number, data: unknown, ts: number): OutMessage {
  return new OutMessage({ op: 'update', topic, seq, data, ts }, topic, seq);
}

export type WsErrorCode = 'bad_frame' | 'forbidden' | 'too_many_subscriptions' | 'rate_limited' | 'unavailable';

/** `{"op":"error","code","message","ref?"}`, with extra fields such as the topic it ends. */
export function errorMessage(code: WsErrorCode, message: string, ref?: string, extra: Record<string, unknown> = {}): OutMessage {
  return new OutMessage(ref === undefined ? { op: 'error', code, message, ...extra } : { op: 'error', code, message, ref, ...extra });
}
