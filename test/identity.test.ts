// Identity resolution: links, merges, tombstones, the explanation log and profiles.

import { beforeEach, describe, expect, it } from 'vitest';
import { StagedState } from '../engine/staged-state.ts';
import { customerProcessor, isEventError, readEvent } from '../engine/mod.ts';
import {
  customerRecord,
  ensureCustomer,
  explain,
  idKind,
  idValue,
  link,
  resolveCustomer,
  setProfile,
  type IdentityOptions,
  type LogEntry,
} from '../engine/customers/identity/mod.ts';
import { FrozenState, identityHelpers } from './identity-harness.ts';

let s: FrozenState;
const { at, reset, ln, ensure, who } = identityHelpers(() => s);

beforeEach(() => {
  s = new FrozenState();
  reset();
});

describe('ids', () => {
  it('reads kinds and values', () => {
    expect(idKind('phone:+8613800000000')).toBe('phone');
    expect(idKind('EMAIL:a@b.c')).toBe('email');
    expect(idKind('c42')).toBe('customer');
    expect(idKind('a@b.c')).toBe('customer');
    expect(idKind(':x')).toBe('customer');
    expect(idKind('+86:138')).toBe('customer');
    expect(idValue('wechat:o6_x:y')).toBe('o6_x:y');
    expect(idValue('c42')).toBe('c42');
  });

  it('validates the ids of a link', () => {
    const processor = customerProcessor();
    const problem = (ids: unknown): string | null => {
      const built = readEvent(() => processor, { id: 'e', type: 'identity.linked', ids });
      return isEventError(built) ? built.message : null;
    };
    expect(problem(['phone:1'])).toBeNull();
    expect(problem(Array.from({ length: 100 }, (_, i) => `device:${i}`))).toBeNull();
    expect(problem(['x'.repeat(128)])).toBeNull();
    // characters, not UTF-16 units: 128 emoji are 256 units
    expect(problem(['😀'.repeat(128)])).toBeNull();
    expect(problem('phone:1')).toMatch(/array/);
    expect(problem([])).toMatch(/1–100/);
    expect(problem(Array.from({ length: 101 }, (_, i) => `device:${i}`))).toMatch(/1–100/);
    expect(problem(['ok', 7])).toMatch(/'ids\[1\]' must be a string/);
    expect(problem([''])).toMatch(/1–128/);
    expect(problem(['x'.repeat(129)])).toMatch(/1–128/);
    expect(problem(['bad\ud800'])).toMatch(/Unicode/);
    expect(problem(['a\nb'])).toMatch(/control/);
    expect(problem(['a\u0085b'])).toMatch(/control/);
  });
});

describe('linking', () => {
  it('creates one customer for unknown ids, named by the highest-priority id', () => {
    const out = ln(['device:abc', 'phone:1', 'email:a@b.c']);
    expect(out).toEqual({
      customer: 'phone:1',
      created: true,
      merged: [],
      attached: ['phone:1', 'email:a@b.c', 'device:abc'],
      refused: [],
      blocked: [],
    });
    for (const id of ['device:abc', 'phone:1', 'email:a@b.c']) expect(who(id)).toBe('phone:1');
    expect(customerRecord(s, 'device:abc')).toMatchObject({ name: 'phone:1', created: 1, ids: ['phone:1', 'email:a@b.c', 'device:abc'], tier: 'standard' });
    expect(who('phone:2')).toBeUndefined();
  });

  it('names the customer by the link’s customer field', () => {
    const out = ln(['phone:1', 'device:abc'], 'c9');
    expect(out.customer).toBe('c9');
    expect(out.attached).toEqual(['c9', 'phone:1', 'device:abc']);
    expect(who('device:abc')).toBe('c9');
    expect(who('c9')).toBe('c9');
    // Even when the field is not a customer id and a higher-priority id is in the link.
    expect(ln(['c10', 'email:z'], 'phone:z').customer).toBe('phone:z');
  });

  it('is transitive: a-b then b-c is one customer', () => {
    ln(['email:a@x', 'device:b']);
    const out = ln(['device:b', 'wechat:c']);
    expect(out).toMatchObject({ customer: 'email:a@x', created: false, merged: [], attached: ['wechat:c'] });
    expect(new Set(['email:a@x', 'device:b', 'wechat:c'].map(who))).toEqual(new Set(['email:a@x']));
  });

  it('merges two known customers; the older survives whichever is named first', () => {
    ensure('c1');
    ensure('c2');
    const out = ln(['c2', 'c1']);
    expect(out.merged).toEqual([{ from: 'c2', into: 'c1', via: 'c1' }]);
    expect(out.customer).toBe('c1');
    expect(who('c2')).toBe('c1');
    expect(customerRecord(s, 'c2')?.ids).toEqual(['c1', 'c2']);
  });

  it('older means created first, not an earlier timestamp', () => {
    ensureCustomer(s, 'c1', { time: 9_000, event: 'a' });
    ensureCustomer(s, 'c2', { time: 10, event: 'b' });
    const out = link(s, ['c1'], 'c2', { time: 5, event: 'c' });
    expect(out.merged).toEqual([{ from: 'c2', into: 'c1', via: 'c1' }]);
  });

  it('follows a known customer field and merges the younger it names into the older', () => {
    ensure('c1');
    ln(['phone:1'], 'c2');
    const out = ln(['phone:1', 'c1'], 'c2');
    expect(out.merged).toEqual([{ from: 'c2', into: 'c1', via: 'c1' }]);
    expect(who('phone:1')).toBe('c1');
  });

  it('an anonymous profile joins a later link', () => {
    expect(ensureCustomer(s, 'device:abc', at())).toEqual({ customer: 'device:abc', created: true });
    expect(ensureCustomer(s, 'device:abc', at())).toEqual({ customer: 'device:abc', created: false });
    const out = ln(['phone:1', 'device:abc']);
    expect(out).toMatchObject({ customer: 'device:abc', created: false, attached: ['phone:1'], merged: [] });
    // The shopper's own account, seen before the anonymous device: it is older and survives.
    const s2 = new FrozenState();
    ensureCustomer(s2, 'c7', at());
    ensureCustomer(s2, 'device:abc', at());
    const out2 = link(s2, ['device:abc'], 'c7', at());
    expect(out2.merged).toEqual([{ from: 'device:abc', into: 'c7', via: 'device:abc' }]);
    expect(resolveCustomer(s2, 'device:abc')).toBe('c7');
  });

  it('merges several customers in one link, in priority order', () => {
    ensure('device:d');
    ensure('email:e');
    ensure('phone:p');
    const out = ln(['device:d', 'email:e', 'phone:p']);
    // The phone leads; each other customer merges into the older of the two.
    expect(out.merged).toEqual([
      { from: 'phone:p', into: 'email:e', via: 'email:e' },
      { from: 'email:e', into: 'device:d', via: 'device:d' },
    ]);
    expect(out.customer).toBe('device:d');
    expect(['device:d', 'email:e', 'phone:p'].map(who)).toEqual(['device:d', 'device:d', 'device:d']);
  });

  it('resolves through tombstones after merges of merges', () => {
    for (const c of ['c1', 'c2', 'c3', 'c4']) ensure(c);
    ln(['c3', 'c4']);
    ln(['c2', 'c3']);
    ln(['c4', 'c1']);
    for (const c of ['c1', 'c2', 'c3', 'c4']) expect(who(c)).toBe('c1');
    expect(customerRecord(s, 'c4')?.name).toBe('c1');
    // Tombstones point straight at the survivor: no chains are left behind.
    for (const c of ['c2', 'c3', 'c4']) expect(s.get(`id/c/${c}`)).toMatchObject({ name: c, mergedInto: 'c1' });
    expect(ensureCustomer(s, 'c3', at())).toEqual({ customer: 'c1', created: false });
  });

  it('follows a chain of tombstones and compresses it on write, never in place', () => {
    ensure('c1');
    s.put('id/c/old2', { name: 'old2', created: 0, mergedInto: 'old1' });
    s.put('id/c/old1', { name: 'old1', created: 0, mergedInto: 'c1' });
    expect(resolveCustomer(s, 'old2')).toBe('c1');
    expect(s.get('id/c/old2')).toMatchObject({ mergedInto: 'old1' });
    expect(ensureCustomer(s, 'old2', at())).toEqual({ customer: 'c1', created: false });
    expect(s.get('id/c/old2')).toMatchObject({ mergedInto: 'c1' });
    // A corrupt cycle ends instead of hanging.
    s.put('id/c/loop1', { name: 'loop1', created: 0, mergedInto: 'loop2' });
    s.put('id/c/loop2', { name: 'loop2', created: 0, mergedInto: 'loop1' });
    expect(resolveCustomer(s, 'loop1')).toBeUndefined();
  });

  it('works over staged state without touching the view', () => {
    const base = new FrozenState();
    ensureCustomer(base, 'c1', at());
    ensureCustomer(base, 'device:x', at());
    const before = JSON.stringify([...base.map]);
    const staged = new StagedState(base);
    const out = link(staged, ['c1', 'device:x', 'phone:1'], undefined, at());
    expect(out.merged).toEqual([{ from: 'device:x', into: 'c1', via: 'device:x' }]);
    expect(JSON.stringify([...base.map])).toBe(before);
    for (const [k, v] of staged.writes()) base.put(k, v);
    expect(resolveCustomer(base, 'device:x')).toBe('c1');
    expect(resolveCustomer(base, 'phone:1')).toBe('c1');
  });
});

describe('explanation log', () => {
  it('explains each merge, and a merged-away name finds the survivor’s whole history', () => {
    ensureCustomer(s, 'c1', { time: 10, event: 'ev-a' });
    ensureCustomer(s, 'device:d', { time: 20, event: 'ev-b' });
    // A creation alone writes no log record (one-visit shoppers are most customers); it is explained all the same.
    expect(s.get('id/log/c1')).toBeUndefined();
    expect(explain(s, 'c1')).toEqual([{ at: 10, event: 'ev-a', kind: 'created', into: 'c1' }]);
    link(s, ['device:d'], 'c1', { time: 30, event: 'ev-c' });
    const expected: LogEntry[] = [
      { at: 10, event: 'ev-a', kind: 'created', into: 'c1' },
      { at: 20, event: 'ev-b', kind: 'created', into: 'device:d' },
      { at: 30, event: 'ev-c', kind: 'merged', from: 'device:d', into: 'c1', via: 'device:d' },
      { at: 30, event: 'ev-c', kind: 'shared', into: 'c1', via: 'device:d' },
    ];
    expect(explain(s, 'c1')).toEqual(expected);
    expect(explain(s, 'device:d')).toEqual(expected);
    expect(s.get('id/log/device:d')).toBeUndefined();
    expect(explain(s, 'nobody')).toEqual([]);
  });

  it('keeps the most recent entries, refusals dropped first', () => {
    const options = { logLimit: 5 };
    link(s, ['c1'], undefined, { time: 0, event: 'new' }, options);
    ensureCustomer(s, 'phone:x', { time: 0, event: 'anon' }, options);
    link(s, ['c1', 'phone:x'], undefined, { time: 0, event: 'merge' }, options);
    link(s, ['c1', 'phone:y'], undefined, { time: 0, event: 'second phone' }, options);
    for (let i = 0; i < 20; i++) link(s, ['c1', `phone:${i}`], undefined, { time: i, event: `l${i}` }, options);
    const log = explain(s, 'c1');
    expect(log.map((e) => `${e.kind} ${e.event}`)).toEqual(['created new', 'created anon', 'merged merge', 'shared merge', 'refused l19']);
    for (let i = 0; i < 5; i++) ensureCustomer(s, `c${i + 10}`, { time: 50, event: `x${i}` }, options);
    for (let i = 0; i < 5; i++) link(s, ['c1', `c${i + 10}`], undefined, { time: 60, event: `m${i}` }, options);
    expect(explain(s, 'c1').map((e) => e.event)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });
});

describe('profiles', () => {
  it('sets tier and language on the customer, creating it if unknown', () => {
    expect(setProfile(s, 'c1', 'vip', 'de', at())).toBe('c1');
    expect(customerRecord(s, 'c1')).toMatchObject({ tier: 'vip', language: 'de' });
    expect(setProfile(s, 'c1', 'standard', undefined, at())).toBe('c1');
    expect(customerRecord(s, 'c1')).toMatchObject({ tier: 'standard', language: 'de' });
    ln(['phone:1'], 'c1');
    expect(setProfile(s, 'phone:1', 'vip', 'en', at())).toBe('c1');
    expect(customerRecord(s, 'c1')).toMatchObject({ tier: 'vip', language: 'en' });
  });

  it('on merge the survivor keeps its profile, taking vip and a missing language from the other', () => {
    setProfile(s, 'c1', 'standard', 'en', at());
    setProfile(s, 'c2', 'vip', 'fr', at());
    ln(['c1', 'c2']);
    expect(customerRecord(s, 'c2')).toMatchObject({ name: 'c1', tier: 'vip', language: 'en' });

    setProfile(s, 'c3', 'vip', undefined, at());
    setProfile(s, 'c4', 'standard', 'fr', at());
    ln(['c4', 'c3']);
    expect(customerRecord(s, 'c4')).toMatchObject({ name: 'c3', created: 3, ids: ['c3', 'c4'], tier: 'vip', language: 'fr' });

    ensure('c5');
    ensure('c6');
    ln(['c5', 'c6']);
    expect(customerRecord(s, 'c5')).toMatchObject({ name: 'c5', created: 5, ids: ['c5', 'c6'], tier: 'standard' });
    // A merged-away name is set on its survivor.
    expect(setProfile(s, 'c6', 'vip', 'pl', at())).toBe('c5');
    expect(customerRecord(s, 'c5')).toMatchObject({ tier: 'vip', language: 'pl' });
  });
});
