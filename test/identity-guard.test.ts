// Identity resolution's guard against over-merging: limits, shared ids, blocked values, hostile ids.

import { pack, unpack } from 'msgpackr';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  customerRecord,
  ensureCustomer,
  explain,
  idKind,
  idRecord,
  isBlocked,
  link,
  resolveCustomer,
  setProfile,
  type IdentityOptions,
} from '../engine/customers/identity/mod.ts';
import { FrozenState, identityHelpers } from './identity-harness.ts';

let s: FrozenState;
const { at, reset, ln, ensure, who } = identityHelpers(() => s);
const dump = () => s.dump();

beforeEach(() => {
  s = new FrozenState();
  reset();
});

describe('over-merge guard', () => {
  it('a shared tablet stops merging shoppers after one merge', () => {
    for (let i = 1; i <= 6; i++) ensure(`c${i}`);
    const outs = [1, 2, 3, 4, 5, 6].map((i) => ln([`device:tablet`, `c${i}`]));
    expect(outs[0]).toMatchObject({ customer: 'c1', attached: ['device:tablet'], merged: [] });
    expect(outs[1]).toMatchObject({ customer: 'c1', merged: [{ from: 'c2', into: 'c1', via: 'device:tablet' }] });
    for (const o of outs.slice(2)) {
      expect(o.merged).toEqual([]);
      expect(o.refused).toEqual([{ id: 'device:tablet', reason: 'shared' }]);
    }
    expect(outs[4].customer).toBe('c5');
    expect(['c3', 'c4', 'c5', 'c6'].map(who)).toEqual(['c3', 'c4', 'c5', 'c6']);
    expect(who('device:tablet')).toBe('c1');
    expect(idRecord(s, 'device:tablet')).toEqual({ customer: 'c1', joined: 2, shared: true });
    const log = explain(s, 'c1');
    expect(log.filter((e) => e.kind === 'shared')).toEqual([{ at: 1000, event: expect.any(String), kind: 'shared', into: 'c1', via: 'device:tablet' }]);
    expect(log.filter((e) => e.kind === 'refused')).toHaveLength(4);
    expect(explain(s, 'c4').at(-1)).toMatchObject({ kind: 'refused', from: 'c1', into: 'c4', via: 'device:tablet', reason: 'shared' });
  });

  it('a shared tablet does not pull new shoppers’ phones into its customer', () => {
    ensure('phone:1');
    ensure('phone:2');
    ln(['device:tablet', 'phone:1']);
    ln(['device:tablet', 'phone:2']);
    const out = ln(['device:tablet', 'phone:3']);
    expect(out).toMatchObject({ customer: 'phone:3', created: true, attached: ['phone:3'], refused: [{ id: 'device:tablet', reason: 'shared' }] });
    expect(who('device:tablet')).toBe('phone:1');
    // Alone, a shared id still resolves where it belongs and nothing changes.
    const before = dump();
    expect(ln(['device:tablet'])).toMatchObject({ customer: 'phone:1', merged: [], attached: [], refused: [] });
    expect(dump()).toBe(before);
  });

  it('the lower-priority id is the bridge that becomes shared', () => {
    ensure('device:d');
    ensure('phone:p');
    const out = ln(['device:d', 'phone:p']);
    expect(out.merged).toEqual([{ from: 'phone:p', into: 'device:d', via: 'device:d' }]);
    expect(idRecord(s, 'device:d')).toMatchObject({ shared: true });
    expect(idRecord(s, 'phone:p')).toEqual({ customer: 'device:d' });
  });

  it('sharedAfter is configurable', () => {
    const options = { sharedAfter: { device: 3 } };
    for (let i = 1; i <= 4; i++) ensure(`c${i}`);
    const outs = [1, 2, 3, 4].map((i) => ln(['device:t', `c${i}`], undefined, options));
    expect(outs.map((o) => o.merged.length)).toEqual([0, 1, 1, 0]);
    expect(outs[3].refused).toEqual([{ id: 'device:t', reason: 'shared' }]);
    expect(['c1', 'c2', 'c3', 'c4'].map(who)).toEqual(['c1', 'c1', 'c1', 'c4']);
    // 1: the kind never bridges at all, nor leads a link.
    ensure('device:z');
    ensure('c9');
    expect(ln(['device:z', 'c9'], undefined, { sharedAfter: { device: 1 } }).refused).toEqual([{ id: 'device:z', reason: 'shared' }]);
  });

  it('refuses an extra phone beyond the limit and leaves it unknown', () => {
    ln(['c1', 'phone:1', 'phone:2']);
    const out = ln(['c1', 'phone:3', 'email:x']);
    expect(out).toMatchObject({ customer: 'c1', attached: ['email:x'], refused: [{ id: 'phone:3', reason: 'limit' }] });
    expect(who('phone:3')).toBeUndefined();
    expect(explain(s, 'c1').at(-1)).toMatchObject({ kind: 'refused', into: 'c1', via: 'phone:3', reason: 'limit' });
    expect(explain(s, 'c1').at(-1)).not.toHaveProperty('from');
  });

  it('within one link ids take their limit in priority, then given, order', () => {
    const out = ln(['device:1', 'phone:a', 'phone:b', 'phone:c', 'c1']);
    expect(out.customer).toBe('c1');
    expect(out.attached).toEqual(['c1', 'phone:a', 'phone:b', 'device:1']);
    expect(out.refused).toEqual([{ id: 'phone:c', reason: 'limit' }]);
  });

  it('refuses a merge that would overfill a kind', () => {
    ln(['c1', 'phone:1', 'phone:2']);
    ensure('phone:3');
    const out = ln(['c1', 'phone:3']);
    expect(out.refused).toEqual([{ id: 'phone:3', reason: 'limit' }]);
    expect(out.merged).toEqual([]);
    expect(who('phone:3')).toBe('phone:3');
    expect(explain(s, 'phone:3').at(-1)).toMatchObject({ kind: 'refused', from: 'phone:3', into: 'c1', reason: 'limit' });
  });

  it('limits are configurable, per kind and for every other kind', () => {
    const options: IdentityOptions = { limits: { phone: 1, '*': 1 } };
    const out = ln(['c1', 'phone:1', 'phone:2', 'loyalty:1', 'loyalty:2', 'email:1', 'email:2'], undefined, options);
    expect(out.attached).toEqual(['c1', 'phone:1', 'email:1', 'email:2', 'loyalty:1']);
    expect(out.refused.map((r) => r.id)).toEqual(['phone:2', 'loyalty:2']);
    expect(ln(['c1', 'loyalty:9'], undefined, { maxIds: 4 }).refused).toEqual([{ id: 'loyalty:9', reason: 'limit' }]);
  });

  it('customer ids are never limited: two known customers always merge', () => {
    for (let i = 0; i < 30; i++) ensure(`c${i}`);
    const out = ln(Array.from({ length: 30 }, (_, i) => `c${i}`));
    expect(out.merged).toHaveLength(29);
    expect(out.customer).toBe('c0');
    expect(customerRecord(s, 'c29')?.ids).toHaveLength(30);
  });
});

describe('blocked values', () => {
  const defaults = ['0', '-1', 'null', 'anonymous', ''];

  it('blocks each default value, bare or after a kind, in any case and spacing', () => {
    for (const v of defaults) {
      expect(isBlocked(v)).toBe(true);
      expect(isBlocked(`phone:${v}`)).toBe(true);
      expect(isBlocked(`device: ${v.toUpperCase()}  `)).toBe(true);
    }
    for (const v of [' NULL ', 'Anonymous', 'ANONYMOUS', '  ', 'email:', ' -1', 'wechat:Null']) expect(isBlocked(v)).toBe(true);
    for (const v of ['00', 'c0', 'phone:+0', 'nullish', 'device:anon']) expect(isBlocked(v)).toBe(false);
  });

  it('blocks configured values too, as a value or a whole id', () => {
    const options = { blocked: ['Unknown', 'device:kiosk-1'] };
    expect(isBlocked('email:unknown', options)).toBe(true);
    expect(isBlocked('UNKNOWN', options)).toBe(true);
    expect(isBlocked('device:KIOSK-1', options)).toBe(true);
    expect(isBlocked('device:kiosk-2', options)).toBe(false);
    expect(isBlocked('email:unknown')).toBe(false);
  });

  it('a link of only blocked ids changes nothing', () => {
    ensure('c1');
    const before = dump();
    const out = ln(['phone:0', 'null', 'device:anonymous', 'email: '], 'anonymous');
    expect(out).toEqual({ customer: undefined, created: false, merged: [], attached: [], refused: [], blocked: ['anonymous', 'phone:0', 'null', 'device:anonymous', 'email: '] });
    expect(dump()).toBe(before);
  });

  it('blocked ids are ignored and the rest of the link applies', () => {
    const out = ln(['phone:1', 'device:-1', 'email:NULL'], undefined, {});
    expect(out).toMatchObject({ customer: 'phone:1', created: true, attached: ['phone:1'], blocked: ['device:-1', 'email:NULL'] });
    expect(ensureCustomer(s, 'anonymous', at())).toEqual({ blocked: true });
    expect(ensureCustomer(s, 'device:x', at(), { blocked: ['x'] })).toEqual({ blocked: true });
    expect(who('device:x')).toBeUndefined();
    expect(setProfile(s, 'null', 'vip', 'de', at())).toBeUndefined();
    expect(who('null')).toBeUndefined();
  });
});

describe('hostile inputs', () => {
  const hostile = [
    '__proto__',
    'constructor',
    'hasOwnProperty',
    '__proto__:x',
    'constructor:prototype',
    'toString:1',
    'x'.repeat(128),
    `phone:${'9'.repeat(250)}`,
    '微信:o6_x',
    'wechat:用户😀',
    'email:ä@ü.de',
    'id/c/c1',
    '../etc',
  ];

  it('never corrupt state, prototypes or each other', () => {
    ensure('c1');
    const out = ln(hostile, 'c1');
    expect(out.customer).toBe('c1');
    expect(out.refused).toEqual([]);
    for (const id of hostile) expect(who(id)).toBe('c1');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'customer')).toBe(false);
    expect(customerRecord(s, 'c1')?.ids.slice().sort()).toEqual(['c1', ...hostile].sort());
    // A key that looks like another namespace stays an id.
    expect(s.get('id/c/c1')).toMatchObject({ name: 'c1' });
    expect(idKind('__proto__:x')).toBe('customer');
    expect(idKind('constructor:prototype')).toBe('constructor');
    // Every value round-trips through msgpack as it is: plain data only.
    for (const [key, value] of s.map) expect(unpack(pack(value)), key).toEqual(value);
  });

  it('hostile ids as anonymous customers and merges', () => {
    ensure('__proto__');
    ensure('constructor');
    const out = ln(['constructor', '__proto__']);
    expect(out.merged).toEqual([{ from: 'constructor', into: '__proto__', via: '__proto__' }]);
    expect(explain(s, 'constructor').map((e) => e.kind)).toEqual(['created', 'created', 'merged']);
    expect(isBlocked('__proto__')).toBe(false);
  });

  it('options naming prototype keys do not leak defaults', () => {
    const options: IdentityOptions = { limits: JSON.parse('{"__proto__": 1, "constructor": 1}') };
    const out = ln(['c1', '__proto__:a', '__proto__:b', 'constructor:a', 'constructor:b', 'valueOf:a'], undefined, options);
    expect(out.refused).toEqual([{ id: 'constructor:b', reason: 'limit' }]);
    // Kinds named like Object's members find the defaults, not Object.prototype's functions.
    const plain = ln(['c2', 'toString:a', 'toString:b', 'constructor:x', 'constructor:y', 'hasOwnProperty:z']);
    expect(plain.refused).toEqual([]);
    expect(plain.attached).toHaveLength(6);
    expect(ln(['c2', ...Array.from({ length: 9 }, (_, i) => `constructor:n${i}`)]).refused).toEqual([{ id: 'constructor:n8', reason: 'limit' }]);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  it('is deterministic', () => {
    const run = () => {
      s = new FrozenState();
      for (let i = 0; i < 5; i++) ensure(`c${i}`);
      ln(['device:t', 'c0']);
      ln(['device:t', 'c1']);
      ln(['device:t', 'c2', 'phone:1']);
      ln(['c3', 'c4', 'phone:2', 'phone:3', 'phone:4']);
      return dump();
    };
    reset();
    const a = run();
    reset();
    expect(run()).toBe(a);
  });
});

describe('a shared id named as the link\'s customer', () => {
  beforeEach(() => {
    s = new FrozenState();
    reset();
  });

  it('leads nothing: it neither merges another customer in nor takes new ids', () => {
    ln(['c1', 'device:tab']);
    ln(['c2']);
    expect(ln(['device:tab', 'c2']).merged).toHaveLength(1);
    expect(idRecord(s, 'device:tab')).toMatchObject({ shared: true });
    ln(['c3']);
    const viaField = ln(['c3'], 'device:tab');
    expect(viaField.merged).toEqual([]);
    expect(viaField.refused).toEqual([{ id: 'device:tab', reason: 'shared' }]);
    expect(who('c3')).toBe('c3');
    const fresh = ln(['phone:+1'], 'device:tab');
    expect(fresh.customer).toBe('phone:+1');
    expect(who('phone:+1')).toBe('phone:+1');
    expect(who('device:tab')).toBe('c1');
  });
});
