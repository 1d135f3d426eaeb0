// The SDK's pure parts: URL building, backoff bounds, frame decoding and sizing.

import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Backoff, DEFAULT_MAX_FRAME_BYTES, buildUrl, topicKind } from '../client/mod.ts';
import { codecFor, decodeFrame, frameBytes } from '../client/codec.ts';
import { Subscriptions } from '../client/subscriptions.ts';

describe('buildUrl', () => {
  it('maps http(s) to ws(s), adds /v1/ws when no path is given, and sets format and token', () => {
    expect(buildUrl('http://h:8080', 'json', 'T')).toBe('ws://h:8080/v1/ws?format=json&token=T');
    expect(buildUrl('https://h', 'msgpack', undefined)).toBe('wss://h/v1/ws?format=msgpack');
    expect(buildUrl('ws://h/custom/ws?token=old&x=1', 'json', '')).toBe('ws://h/custom/ws?x=1&format=json');
    expect(new URL(buildUrl('ws://h', 'json', 'a b&c')).searchParams.get('token')).toBe('a b&c');
    expect(() => buildUrl('ftp://h', 'json', undefined)).toThrow(/scheme/);
    expect(() => buildUrl('not a url', 'json', undefined)).toThrow();
  });
});

describe('Backoff', () => {
  it('stays within [0, min(maxMs, initialMs·2^(n−1))] for any random draw', () => {
    for (let trial = 0; trial < 200; trial++) {
      const backoff = new Backoff({ initialMs: 50, maxMs: 5000, jitter: 1 });
      for (let attempt = 1; attempt <= 20; attempt++) {
        const delay = backoff.next();
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Math.min(5000, 50 * 2 ** (attempt - 1)));
      }
    }
  });

  it('partial jitter keeps the lower part fixed; no jitter is the cap itself; bad options throw', () => {
    const half = new Backoff({ initialMs: 100, maxMs: 100, jitter: 0.5 }, () => 0);
    expect(half.next()).toBe(50);
    const none = new Backoff({ initialMs: 100, maxMs: 250, jitter: false });
    expect([none.next(), none.next(), none.next(), none.next()]).toEqual([100, 200, 250, 250]);
    none.reset();
    expect(none.next()).toBe(100);
    expect(new Backoff({ initialMs: 1, maxMs: 2 }).capFor(5000)).toBe(2); // no overflow to Infinity
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new Backoff({ jitter: 2 })).toThrow(RangeError);
  });
});

describe('frames', () => {
  it('decodes text as JSON and binary as msgpack, from ArrayBuffer, Buffer or an offset view', () => {
    const frame = { op: 'update', topic: 'stock/A', seq: 3, data: { onHand: 1 }, ts: 5 };
    expect(decodeFrame(JSON.stringify(frame))).toEqual(frame);
    const packed = pack(frame);
    expect(decodeFrame(Uint8Array.from(packed).buffer)).toEqual(frame);
    expect(decodeFrame(Buffer.from(packed))).toEqual(frame);
    const padded = new Uint8Array(packed.length + 4);
    padded.set(packed, 2);
    expect(decodeFrame(padded.subarray(2, 2 + packed.length))).toEqual(frame);
    expect(decodeFrame([packed.subarray(0, 4), packed.subarray(4)])).toEqual(frame);
    expect(() => decodeFrame('[1,2]')).toThrow(/op/);
    expect(() => decodeFrame(42)).toThrow(/unsupported/);
  });

  it('encodes msgpack as plain maps, leaving out undefined fields as JSON does', () => {
    const frame = { op: 'event', event: { id: 'e1', type: 't', ts: undefined } } as const;
    const packed = codecFor('msgpack').encode(frame) as Uint8Array;
    expect(unpack(packed)).toEqual(JSON.parse(codecFor('json').encode(frame) as string));
    expect(Object.keys(unpack(packed).event)).toEqual(['id', 'type']);
  });

  it('sizes text frames in UTF-8 bytes', () => {
    const utf8 = (text: string) => new TextEncoder().encode(text).byteLength;
    for (const text of ['abc', 'é€', '😀x', '\ud800', 'a\udc00b', '{"q":"日本"}']) expect(frameBytes(text)).toBe(utf8(text));
    expect(frameBytes('é'.repeat(30_000))).toBe(60_000);
    expect(frameBytes('€'.repeat(30_000))).toBeGreaterThan(DEFAULT_MAX_FRAME_BYTES);
    expect(frameBytes(new Uint8Array(10))).toBe(10);
  });

  it('knows which topics may be conflated', () => {
    expect(['stock/A', 'stock/A@S1', 'queue/billing', 'recs/c1', 'order/o1', 'stats/commerce'].map(topicKind)).toEqual(['state', 'state', 'state', 'state', 'state', 'state']);
    expect(['agent/a', 'request/r', 'kiosk/k', 'alerts/stock', 'store/S1', 'future/x'].map(topicKind)).toEqual(['event', 'event', 'event', 'event', 'event', 'event']);
  });
});

describe('Subscriptions', () => {
  it('forgets a topic the server forbids after its snapshot (access ended), so no reconnect asks again', () => {
    const sent: unknown[] = [];
    const subs = new Subscriptions((frame) => void sent.push(frame), () => {});
    const errors: string[] = [];
    subs.add('request/q1', { onSnapshot: () => {}, onUpdate: () => {}, onError: (e) => void errors.push((e as { code?: string }).code ?? '') });
    subs.handleSnapshot({ op: 'snapshot', topic: 'request/q1', seq: 3, epoch: 'E', data: null });
    expect(subs.handleError('request/q1', 'forbidden', 'no longer assigned')).toBe(true);
    expect(errors).toEqual(['forbidden']);
    sent.length = 0;
    subs.onOpen();
    expect(sent).toEqual([]);
    expect(subs.position('request/q1')).toBeUndefined();
  });

  it('an ended topic tells every listener why and is forgotten; its stop sends no unsub', () => {
    const sent: unknown[] = [];
    const subs = new Subscriptions((frame) => void sent.push(frame), () => {});
    const heard: string[] = [];
    const stop = subs.add('request/q1', { onSnapshot: () => {}, onUpdate: () => {}, onError: () => void heard.push('error'), onEnd: (reason) => void heard.push(`a ${reason}`) });
    subs.add('request/q1', { onSnapshot: () => {}, onUpdate: () => {}, onEnd: (reason) => void heard.push(`b ${reason}`) });
    subs.handleSnapshot({ op: 'snapshot', topic: 'request/q1', seq: 3, epoch: 'E', data: null });
    subs.handleEnded('request/q1', 'unassigned');
    expect(heard).toEqual(['a unassigned', 'b unassigned']);
    expect(subs.position('request/q1')).toBeUndefined();
    sent.length = 0;
    stop();
    subs.onOpen();
    expect(sent).toEqual([]);
  });

  it('keeps a subscribed topic on a refusal that is not about access', () => {
    const sent: unknown[] = [];
    const subs = new Subscriptions((frame) => void sent.push(frame), () => {});
    subs.add('stock/A', { onSnapshot: () => {}, onUpdate: () => {}, onError: () => {} });
    subs.handleSnapshot({ op: 'snapshot', topic: 'stock/A', seq: 3, epoch: 'E', data: {} });
    subs.handleError('stock/A', 'bad_frame', 'odd');
    sent.length = 0;
    subs.onOpen();
    expect(sent).toEqual([{ op: 'sub', topic: 'stock/A', since: 3, epoch: 'E' }]);
  });
});
