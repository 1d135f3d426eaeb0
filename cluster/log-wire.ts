// What the nodes of a cluster say to each other over NATS besides the lease records: an event as
// the event log stores it, the answer its partition's owner sends back to the node that logged
// it, and the question that node asks when an answer does not come (the owner may have died
// between its commit and the answer).
//
// Bytes are msgpack, but for a value holding the string `__proto__` (an id may be `__proto__`),
// which msgpackr's decoder renames when it is a key: such a value goes as JSON, whose parser
// keeps it as an own property. The first byte says which.

import { Packr } from 'msgpackr';
import type { EventResult, InputEvent } from '../engine/mod.ts';

const packr = new Packr({ useRecords: false, moreTypes: false });
const PROTO = Buffer.from([0xa9, ...Buffer.from('__proto__')]);
const MSGPACK = 0;
const JSON_TEXT = 1;

export function encode(value: unknown): Uint8Array {
  const bytes = packr.pack(value);
  if (bytes.indexOf(PROTO) === -1) {
    const out = new Uint8Array(bytes.length + 1);
    out[0] = MSGPACK;
    out.set(bytes, 1);
    return out;
  }
  const text = Buffer.from(JSON.stringify(value));
  const out = new Uint8Array(text.length + 1);
  out[0] = JSON_TEXT;
  out.set(text, 1);
  return out;
}

export function decode<T>(bytes: Uint8Array): T {
  const body = bytes.subarray(1);
  if (bytes[0] === MSGPACK) return packr.unpack(body) as T;
  if (bytes[0] === JSON_TEXT) return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString()) as T;
  throw new Error(`unknown encoding ${bytes[0]}`);
}

/** An event in a partition's log: the event as checked and built, and the node waiting for its answer. */
export interface LoggedEvent {
  event: InputEvent;
  /** The node id whose answer subject gets the answer (ClusterNames.answerSubject). */
  reply: string;
  /**
   * Read fences: partition → changelog sequence. The owner applies the event only once its copy of
   * each such partition holds that sequence: what other partitions read (a location, a link)
   * that was answered before this event was logged is there when it is applied.
   */
  after?: Record<string, number>;
}

/** A derived event another partition's owner emitted for this partition (a saga's step), and when. */
export interface LoggedDerivedEvent {
  derived: InputEvent;
  arrival: number;
}

/** One answer on a node's answer subject: the log entry it answers and its result. */
export interface LogAnswer {
  partition: number;
  seq: number;
  result: EventResult;
  /** The owner's changelog position of the partition once the entry was committed (a read fence for later events). */
  cl: number;
}

/** A question's answer: the result and the changelog position, as in LogAnswer. */
export interface QuestionAnswer {
  result: EventResult;
  cl: number;
}

/** A node's question to a partition's owner: the answer of this entry, once it is applied. */
export interface AnswerQuestion {
  seq: number;
  event: InputEvent;
}

/** The msgID of an event in the log: equal events (a retry) share it, a reused id with other content does not. */
export const logMsgID = (id: string, digest: number) => `e:${id}#${digest >>> 0}`;
/** The msgID of a derived event in the log: its id, which is the same whenever it is sent again. */
export const derivedMsgID = (id: string) => `d:${id}`;
