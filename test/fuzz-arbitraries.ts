// Arbitraries for the fuzz suite: valid events of every type, built from the processors' own
// schemas, then made hostile — a value at any depth replaced by something an attacker would
// send, a field added or dropped — and encoded by hand as JSON or msgpack, so that the encoding
// itself can lie (invalid UTF-8, declared lengths past the body, extension types, NaN).

import fc from 'fast-check';
import { defaultProcessors, type EventSchema, type FieldRule } from '../engine/mod.ts';

/** Values only the hand-written encoders can write. */
export class Raw {
  /** `json`: text put as is; `msgpack`: bytes put as is. */
  constructor(
    readonly json: string,
    readonly msgpack: Uint8Array,
  ) {}
}

const SCHEMAS: Array<[string, EventSchema]> = defaultProcessors().flatMap((p) => Object.entries(p.schemas));
export const EVENT_TYPES = SCHEMAS.map(([type]) => type);

function ruleArb(rule: FieldRule): fc.Arbitrary<unknown> {
  switch (rule.kind) {
    case 'id':
      return fc.stringMatching(/^fz-[a-z0-9]{1,8}$/);
    case 'posInt':
      return fc.integer({ min: 1, max: 1000 });
    case 'nonNegInt':
      return fc.integer({ min: 0, max: 1000 });
    case 'boolean':
      return fc.boolean();
    case 'int':
      return fc.integer({ min: rule.min, max: rule.max });
    case 'number':
      return fc.double({ min: rule.min ?? -1e6, max: rule.max ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'enum':
      return fc.constantFrom(...rule.values);
    case 'text':
      return fc.string({ maxLength: Math.min(rule.max, 20) });
    case 'pattern':
      return fc.stringMatching(rule.re);
    case 'object':
      return objectArb(rule.fields);
    case 'array':
      return fc.array(ruleArb(rule.of), { minLength: rule.min, maxLength: Math.max(rule.min, Math.min(rule.max, 3)) });
    case 'map':
      return fc.dictionary(ruleArb(rule.key) as fc.Arbitrary<string>, ruleArb(rule.value), {
        minKeys: rule.min,
        maxKeys: Math.max(rule.min, Math.min(rule.max, 3)),
      });
  }
}

function objectArb(fields: EventSchema): fc.Arbitrary<Record<string, unknown>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, rule] of Object.entries(fields)) parts[name] = rule.optional ? fc.option(ruleArb(rule), { nil: undefined }) : ruleArb(rule);
  return fc.record(parts).map((o) => {
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return o;
  });
}

/** A well-formed event of any type (it may still be refused by state: unknown location, …). */
export const validEvent: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  ...SCHEMAS.map(([type, schema]) =>
    fc.tuple(fc.stringMatching(/^fz-[a-z0-9]{1,10}$/), objectArb(schema)).map(([id, fields]) => ({ id, type, ...fields })),
  ),
);

const deep = (n: number, leaf: unknown): unknown => {
  let v = leaf;
  for (let i = 0; i < n; i++) v = i % 2 ? { d: v } : [v];
  return v;
};

/** What an attacker puts where a value goes. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    '',
    0,
    -0,
    -1,
    0.5,
    2 ** 53 + 2,
    -(2 ** 60),
    Number.MAX_VALUE,
    [],
    {},
    '__proto__',
    'a@b',
    'x'.repeat(129),
    '😀'.repeat(129),
    'a\u0000b',
    'a\u0085b',
    '\ud800',
    'x\udc00y',
    new Raw('NaN', Uint8Array.of(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0)),
    new Raw('1e400', Uint8Array.of(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0)),
    new Raw('-1e400', Uint8Array.of(0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0)),
    new Raw('18446744073709551615', Uint8Array.of(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
    new Raw('"u\udcff"', Uint8Array.of(0xa2, 0x75, 0xff)),
    new Raw('"\\ud800"', Uint8Array.of(0xa3, 0xed, 0xa0, 0x80)),
    // an extension (a BigInt, a Date, a record, a structured clone's reference)
    new Raw('{"$ext":1}', Uint8Array.of(0xc7, 9, 0x42, 1, 0, 0, 0, 0, 0, 0, 0, 0)),
    new Raw('{"$ref":0}', Uint8Array.of(0xd4, 0x70, 0x00)),
    new Raw('{"$date":0}', Uint8Array.of(0xd6, 0xff, 0, 0, 0, 0)),
    new Raw('"bin"', Uint8Array.of(0xc4, 3, 1, 2, 3)),
    new Raw('"reserved"', Uint8Array.of(0xc1)),
    // declared lengths far past the body
    new Raw('[', Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff)),
    new Raw('"', Uint8Array.of(0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61)),
    new Raw('{', Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff)),
  ),
  // Far past the decoders' bound of 10, and still within this file's recursive encoders' stack.
  fc.integer({ min: 5, max: 1000 }).map((n) => deep(n, 1)),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'), fc.anything({ maxDepth: 2 }), { minKeys: 1 }),
  fc.string({ minLength: 0, maxLength: 300, unit: 'binary' }),
  fc.double(),
  fc.anything({ maxDepth: 3 }),
);

/** An event made hostile: one value at any depth replaced, a field added or one dropped. */
export const hostileEvent: fc.Arbitrary<unknown> = fc
  .tuple(validEvent, fc.nat(), fc.nat(), hostileValue, fc.constantFrom('replace', 'add', 'drop', 'whole'), fc.string({ maxLength: 12 }))
  .map(([ev, pickA, pickB, shared, how, newKey]) => {
    // Constants are shared between cases: mutate only a copy.
    const value = copy(shared);
    if (how === 'whole') return value;
    const targets: Array<Record<string, unknown> | unknown[]> = [];
    const collect = (v: unknown) => {
      if (v !== null && typeof v === 'object') {
        targets.push(v as Record<string, unknown>);
        for (const child of Object.values(v)) collect(child);
      }
    };
    collect(ev);
    const target = targets[pickA % targets.length];
    const keys = Object.keys(target);
    if (Array.isArray(target) && (how === 'add' || keys.length === 0)) {
      target.push(value);
    } else if (how === 'add' || keys.length === 0) {
      Object.defineProperty(target, newKey === '' ? 'extra' : newKey, { value, enumerable: true, writable: true, configurable: true });
    } else {
      const key = keys[pickB % keys.length];
      if (how === 'drop') delete (target as Record<string, unknown>)[key];
      else (target as Record<string, unknown>)[key] = value;
    }
    return ev;
  });

/** A deep copy of arrays and plain objects (own keys, `__proto__` included); anything else as is. */
function copy(v: unknown): unknown {
  if (v instanceof Raw || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(copy);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: copy((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
  return out;
}

// ---- encoders that can lie ---------------------------------------------------------------

/** JSON text of `v`, Raw values spliced in as they are; non-finite numbers as `null`. */
export function hostileJson(v: unknown): Buffer {
  const parts: Buffer[] = [];
  const write = (x: unknown) => {
    if (x instanceof Raw) return parts.push(Buffer.from(x.json, 'latin1'));
    if (Array.isArray(x)) {
      parts.push(Buffer.from('['));
      for (let i = 0; i < x.length; i++) {
        if (i) parts.push(Buffer.from(','));
        write(x[i]);
      }
      return parts.push(Buffer.from(']'));
    }
    if (x !== null && typeof x === 'object') {
      parts.push(Buffer.from('{'));
      const keys = Object.keys(x);
      for (let i = 0; i < keys.length; i++) {
        if (i) parts.push(Buffer.from(','));
        parts.push(Buffer.from(JSON.stringify(keys[i])), Buffer.from(':'));
        write((x as Record<string, unknown>)[keys[i]]);
      }
      return parts.push(Buffer.from('}'));
    }
    if (typeof x === 'bigint') return parts.push(Buffer.from(x.toString()));
    // JSON.stringify escapes lone surrogates (\ud800): valid JSON text, a lone surrogate once parsed.
    parts.push(Buffer.from(JSON.stringify(x) ?? 'null'));
  };
  write(v);
  return Buffer.concat(parts);
}

/** msgpack of `v`, Raw values spliced in; strings as WTF-8 (lone surrogates encoded as is). */
export function hostileMsgpack(v: unknown): Buffer {
  const parts: Buffer[] = [];
  const head = (small: number, tag8: number, n: number) => {
    if (small >= 0 && n < 16) return parts.push(Buffer.from([small | n]));
    if (tag8 === 0xd9 && n < 256) return parts.push(Buffer.from([0xd9, n]));
    if (n < 65536) return parts.push(Buffer.from([tag8 + (tag8 === 0xd9 ? 1 : 0), n >> 8, n & 0xff]));
    const b = Buffer.alloc(5);
    b[0] = tag8 + (tag8 === 0xd9 ? 2 : 1);
    b.writeUInt32BE(n, 1);
    parts.push(b);
  };
  const str = (s: string) => {
    const bytes = wtf8(s);
    head(bytes.length < 32 ? 0xa0 : -1, 0xd9, bytes.length < 32 ? bytes.length : bytes.length);
    parts.push(bytes);
  };
  const write = (x: unknown): void => {
    if (x instanceof Raw) {
      parts.push(Buffer.from(x.msgpack));
      return;
    }
    if (x === null || x === undefined) {
      parts.push(Buffer.from([0xc0]));
      return;
    }
    switch (typeof x) {
      case 'boolean':
        parts.push(Buffer.from([x ? 0xc3 : 0xc2]));
        return;
      case 'number': {
        const b = Buffer.alloc(9);
        b[0] = 0xcb;
        b.writeDoubleBE(x, 1);
        parts.push(b);
        return;
      }
      case 'bigint': {
        const b = Buffer.alloc(9);
        b[0] = 0xd3;
        b.writeBigInt64BE(BigInt.asIntN(64, x), 1);
        parts.push(b);
        return;
      }
      case 'string':
        return str(x);
      default:
        if (Array.isArray(x)) {
          head(0x90, 0xdc, x.length);
          for (let i = 0; i < x.length; i++) write(x[i]);
          return;
        }
        if (typeof x === 'object') {
          const keys = Object.keys(x);
          head(0x80, 0xde, keys.length);
          for (const k of keys) {
            str(k);
            write((x as Record<string, unknown>)[k]);
          }
          return;
        }
        parts.push(Buffer.from([0xc0]));
    }
  };
  write(v);
  return Buffer.concat(parts);
}

/** UTF-8, except that lone surrogates are written as their 3-byte forms (invalid UTF-8). */
function wtf8(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Buffer.from(out);
}

/** A body for POST /v1/events: one hostile event or several, in either format. */
export const hostileBody = fc
  .tuple(fc.array(fc.oneof(hostileEvent, validEvent), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.constantFrom('json', 'msgpack') as fc.Arbitrary<'json' | 'msgpack'>)
  .map(([events, single, format]) => {
    const value = single ? events[0] : events;
    return { format, bytes: format === 'json' ? hostileJson(value) : hostileMsgpack(value) };
  });

const ops = ['sub', 'unsub', 'ping', 'event', 'status', 'accept', 'decline', 'complete', 'message'];

/** A WebSocket frame: an op with hostile fields, or a hostile event inside `event`. */
export const hostileFrame = fc
  .tuple(
    fc.oneof(
      hostileEvent.map((event) => ({ op: 'event', event })),
      fc.record({ op: fc.oneof(fc.constantFrom(...ops), hostileValue), topic: fc.oneof(fc.constantFrom('stock/A', 'queue/t', 'nope/x', 'stock/'), hostileValue) }),
      fc.record({ op: fc.constantFrom(...ops), id: hostileValue, request: hostileValue, text: hostileValue, status: hostileValue, since: hostileValue, epoch: hostileValue }),
      hostileValue,
    ),
    fc.boolean(),
  )
  .map(([value, binary]) => ({ binary, bytes: binary ? hostileMsgpack(value) : hostileJson(value) }));
