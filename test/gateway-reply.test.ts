// The response writer against a stand-in for uWS's HttpResponse that, like uWS, takes only what
// the socket can hold and then throws on any access after the response ended or was aborted.
// Loopback sockets swallow even our largest answers, so backpressure is exercised here.

import type { HttpResponse } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { Reply, type ReplyOutcome } from '../gateway/http/reply.ts';

class FakeResponse {
  written: Buffer[] = [];
  head: string[] = [];
  offset = 0;
  capacity: number;
  ended = false;
  aborted = false;
  abortHandler?: () => void;
  writableHandler?: (offset: number) => boolean;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  #check() {
    if (this.ended || this.aborted) throw new Error('uWS.HttpResponse must not be accessed after end/abort');
  }
  onAborted(handler: () => void) {
    this.abortHandler = handler;
    return this;
  }
  cork(cb: () => void) {
    this.#check();
    cb();
    return this;
  }
  writeStatus(status: string) {
    this.#check();
    this.head.push(status);
    return this;
  }
  writeHeader(name: string, value: string) {
    this.#check();
    this.head.push(`${name}: ${value}`);
    return this;
  }
  getWriteOffset() {
    this.#check();
    return this.offset;
  }
  tryEnd(chunk: Buffer, total: number): [boolean, boolean] {
    this.#check();
    const taken = Math.min(chunk.length, this.capacity);
    this.capacity -= taken;
    this.written.push(Buffer.from(chunk.subarray(0, taken)));
    this.offset += taken;
    if (this.offset === total) this.ended = true;
    return [taken === chunk.length, this.ended];
  }
  onWritable(handler: (offset: number) => boolean) {
    this.#check();
    this.writableHandler = handler;
    return this;
  }
  /** The socket drained `bytes` more: uWS calls the writable handler. */
  drain(bytes: number) {
    this.capacity += bytes;
    return this.writableHandler!(this.offset);
  }
  abort() {
    this.aborted = true;
    this.abortHandler?.();
  }
  body() {
    return Buffer.concat(this.written).toString();
  }
}

function reply(capacity: number) {
  const res = new FakeResponse(capacity);
  const outcomes: ReplyOutcome[] = [];
  const r = new Reply(res as unknown as HttpResponse, (outcome) => outcomes.push(outcome));
  return { res, r, outcomes };
}

describe('Reply', () => {
  it('writes a body that fits at once and settles with its status', () => {
    const { res, r, outcomes } = reply(1_000);
    r.json(200, { ok: true });
    expect(res.head).toEqual(['200 OK', 'Content-Type: application/json']);
    expect(res.body()).toBe('{"ok":true}');
    expect(outcomes).toEqual([200]);
    expect(r.closed).toBe(true);
  });

  it('resumes from the socket offset when the socket fills up', () => {
    const { res, r, outcomes } = reply(10);
    const value = { results: Array.from({ length: 50 }, (_, i) => ({ id: `e${i}`, ok: true })) };
    r.json(200, value);
    expect(outcomes).toEqual([]);
    expect(res.drain(100)).toBe(false);
    expect(outcomes).toEqual([]);
    while (!res.ended) res.drain(333);
    expect(JSON.parse(res.body())).toEqual(value);
    expect(outcomes).toEqual([200]);
  });

  it('stops writing when the client leaves mid-answer, and settles as aborted', () => {
    const { res, r, outcomes } = reply(5);
    r.json(200, { long: 'x'.repeat(100) });
    res.abort();
    expect(outcomes).toEqual(['aborted']);
    // A late writable event must not touch the response.
    expect(() => res.writableHandler!(res.offset)).not.toThrow();
  });

  it('ignores answers after the first, and after an abort', () => {
    const first = reply(1_000);
    first.r.error(400, 'bad_request', 'no');
    first.r.json(200, { ok: true });
    expect(first.outcomes).toEqual([400]);

    const gone = reply(1_000);
    gone.res.abort();
    expect(() => gone.r.json(200, { ok: true })).not.toThrow();
    expect(gone.outcomes).toEqual(['aborted']);
  });

  it('encodes msgpack and adds extra headers', () => {
    const { res, r } = reply(1_000);
    r.error(405, 'method_not_allowed', 'use GET', 'msgpack', { Allow: 'GET' });
    expect(res.head).toEqual(['405 Method Not Allowed', 'Content-Type: application/msgpack', 'Allow: GET']);
  });
});
