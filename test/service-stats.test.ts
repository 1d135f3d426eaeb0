// The service figures on the pure service processor: a known mix of requests, answers, ends and
// ratings gives exact counts and ratios (CSAT, abandonment, first-contact resolution, bot
// containment) and percentiles within one histogram bin of the true times; the window slides by
// the minute and nothing is kept past 24 h; a bad window or dimension is refused; service.rated
// is refused before the end, twice, or for no request, and its rating is exported and erased.

import { describe, expect, it } from 'vitest';
import { serviceStats, type ServiceStats } from '../engine/service/stats/mod.ts';
import { code, ServiceRunner } from './service-harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A minute boundary: the clock of most checks. */
const T = 28_333_333 * MINUTE;
/** Offers and SLAs that never run out while a test moves the clock by hand. */
const SLOW = { offerTimeoutMs: 1_000 * HOUR, slaMs: 1_000 * HOUR };

function runner(options: Record<string, unknown> = {}): ServiceRunner {
  const r = new ServiceRunner({ bot: 'off', ...SLOW, ...options } as never);
  r.now = T;
  return r;
}

const stats = (r: ServiceRunner, args: Record<string, unknown>) => serviceStats(r.view, { now: r.now, ...args }) as ServiceStats;

/** Whether a percentile from the histogram is within one bin (about 19 %) of the true time. */
function near(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected) / expected, `${actual} vs ${expected}`).toBeLessThan(0.1);
}

/** A request raised at `at` ms after T by `subject`, taken by `agent` after 1 s. */
function handled(r: ServiceRunner, request: string, subject: string, topic: string, channel: string, agent: string, at: number): void {
  r.now = T + at;
  r.ok({ type: 'service.requested', request, subject, channel, topic });
  expect(r.offeredTo(request)).toBe(agent);
  r.now += 1_000;
  r.ok({ type: 'service.accepted', request, agent });
}

function say(r: ServiceRunner, request: string, at: number): void {
  r.now = T + at;
  r.ok({ type: 'service.message', request, from: 'agent', text: 'Hello, let me look.' });
}

function complete(r: ServiceRunner, request: string, at: number): void {
  r.now = T + at;
  r.ok({ type: 'service.completed', request });
}

/**
 * Billing by chat: q1 (first response 10 s, handled 69 s, rated 5), q2 (25 s, 94 s, rated 2),
 * q4 (never answered: abandoned, handled 9 s); shipping by email: q3 (40 s, 119 s, rated 4).
 */
function knownMix(r: ServiceRunner): void {
  r.online('a1', { billing: 5 }, { chat: 5 });
  r.online('a2', { shipping: 5 }, { email: 5 });
  handled(r, 'q1', 'alice', 'billing', 'chat', 'a1', 0);
  handled(r, 'q2', 'bob', 'billing', 'chat', 'a1', 5_000);
  handled(r, 'q3', 'carol', 'shipping', 'email', 'a2', 8_000);
  handled(r, 'q4', 'dave', 'billing', 'chat', 'a1', 9_000);
  say(r, 'q1', 10_000);
  say(r, 'q1', 11_000);
  say(r, 'q2', 30_000);
  say(r, 'q3', 48_000);
  complete(r, 'q4', 19_000);
  complete(r, 'q1', 70_000);
  complete(r, 'q2', 100_000);
  complete(r, 'q3', 128_000);
  for (const [request, score] of [['q1', 5], ['q2', 2], ['q3', 4]] as const) r.ok({ type: 'service.rated', request, score });
  r.now = T + 3 * MINUTE;
}

describe('the service figures of a known mix', () => {
  it('by topic: counts, ratios and percentiles within a bin', () => {
    const r = runner();
    knownMix(r);
    const s = stats(r, { window: '1h', by: 'topic' });
    expect(s.window).toBe('1h');
    expect(s.by).toBe('topic');
    expect(s.groups.map((g) => g.key)).toEqual(['billing', 'shipping']);
    const [billing, shipping] = s.groups;
    expect(billing).toMatchObject({ requests: 3, containment: null, fcr: 1, abandonment: 1 / 3, csat: 0.5, ratings: 2 });
    near(billing.firstResponseMs.p50, 10_000);
    near(billing.firstResponseMs.p90, 25_000);
    // Handled 69 s, 94 s and 9 s (q4, ended without a word): the median is 69 s.
    near(billing.handleMs.p50, 69_000);
    expect(shipping).toMatchObject({ requests: 1, fcr: 1, abandonment: 0, csat: 1, ratings: 1 });
    near(shipping.firstResponseMs.p50, 40_000);
    near(shipping.handleMs.p50, 119_000);
    expect(s.total).toMatchObject({ requests: 4, fcr: 1, abandonment: 0.25, csat: 2 / 3, ratings: 3, containment: null });
    near(s.total.firstResponseMs.p50, 25_000);
    near(s.total.firstResponseMs.p90, 40_000);
  });

  it('by channel and by agent (what each agent handled, at its end)', () => {
    const r = runner();
    knownMix(r);
    const byChannel = stats(r, { window: '15m', by: 'channel' });
    expect(byChannel.groups.map((g) => [g.key, g.requests, g.csat])).toEqual([
      ['chat', 3, 0.5],
      ['email', 1, 1],
    ]);
    const byAgent = stats(r, { window: '5m', by: 'agent' });
    expect(byAgent.groups.map((g) => [g.key, g.requests, g.abandonment, g.csat, g.ratings])).toEqual([
      ['a1', 3, 1 / 3, 0.5, 2],
      ['a2', 1, 0, 1, 1],
    ]);
    near(byAgent.groups[0].firstResponseMs.p90, 25_000);
    near(byAgent.groups[1].handleMs.p50, 119_000);
  });

  it('first-contact resolution: a repeat within 72 h counts against the earlier end, not one after', () => {
    const r = runner();
    knownMix(r);
    // Alice comes back on billing ten minutes later: q1 (ended in minute 1) was not resolved at first contact.
    handled(r, 'q5', 'alice', 'billing', 'chat', 'a1', 10 * MINUTE);
    const s = stats(r, { window: '1h', by: 'topic' });
    expect(s.groups[0]).toMatchObject({ key: 'billing', requests: 4, fcr: 2 / 3 });
    expect(stats(r, { window: '1h', by: 'agent' }).groups[0]).toMatchObject({ key: 'a1', fcr: 2 / 3 });
    // A window holding q5 but not q1's end has nothing ended: no fcr.
    expect(stats(r, { window: '5m', by: 'topic' }).groups[0]).toMatchObject({ key: 'billing', requests: 1, fcr: null });
    // Once: alice's third billing request counts no second repeat.
    complete(r, 'q5', 10 * MINUTE + 5_000);
    handled(r, 'q6', 'alice', 'billing', 'chat', 'a1', 10 * MINUTE + 8_000);
    expect(stats(r, { window: '1h', by: 'topic' }).groups[0]).toMatchObject({ requests: 5, fcr: 2 / 4 });
    // Carol's shipping request ended at T + 128 s; she asks again 73 h later: no repeat is counted
    // (her old end is forgotten, not held against today's figures).
    expect(r.state.get('svc/fig/last/carol')).toEqual([expect.objectContaining({ topic: 'shipping' })]);
    handled(r, 'q7', 'carol', 'shipping', 'email', 'a2', 73 * HOUR);
    complete(r, 'q7', 73 * HOUR + 5_000);
    const later = stats(r, { window: '24h', by: 'topic' });
    expect(later.groups).toEqual([expect.objectContaining({ key: 'shipping', requests: 1, fcr: 1, abandonment: 1 })]);
    expect(r.state.get('svc/fig/last/carol')).toEqual([expect.objectContaining({ topic: 'shipping', endedAt: T + 73 * HOUR + 5_000 })]);
  });

  it('first-contact resolution follows two customers merged into one', () => {
    const r = runner();
    r.ok({ type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' });
    r.ok({ type: 'identity.linked', ids: ['phone:+2'], customer: 'c2' });
    r.online('a1', { billing: 5, shipping: 5 }, { chat: 5 });
    handled(r, 'q1', 'phone:+1', 'billing', 'chat', 'a1', 0);
    handled(r, 'q2', 'phone:+2', 'shipping', 'chat', 'a1', 1_000);
    complete(r, 'q1', 5_000);
    complete(r, 'q2', 6_000);
    r.ok({ id: 'merge', type: 'identity.linked', ids: ['phone:+1', 'phone:+2'] });
    r.drain();
    // Whichever customer survived, both ends are its own now: each topic asked again is a repeat.
    handled(r, 'q3', 'phone:+2', 'billing', 'chat', 'a1', 60_000);
    handled(r, 'q4', 'phone:+1', 'shipping', 'chat', 'a1', 61_000);
    expect(stats(r, {}).total).toMatchObject({ requests: 4, fcr: 0 });
  });

  it('containment: resolved by the bot ÷ requests the bot answered', () => {
    const r = runner({ bot: 'first' });
    r.ok({ type: 'faq.upserted', faq: 'refund', topic: 'billing', questions: ['How do I get a refund?'], answer: 'Open My orders and press Refund.', language: 'en' });
    r.online('a1', { billing: 5 }, { chat: 5 });
    for (const request of ['b1', 'b2']) r.ok({ type: 'service.requested', request, subject: `s-${request}`, channel: 'chat', topic: 'billing', text: 'How do I get a refund?' });
    expect([r.req('b1').status, r.req('b2').status]).toEqual(['bot', 'bot']);
    r.now += 20_000;
    r.ok({ type: 'service.resolved', request: 'b1', by: 'bot' });
    r.ok({ type: 'service.escalated', request: 'b2' });
    r.ok({ type: 'service.accepted', request: 'b2', agent: 'a1' });
    r.now += 30_000;
    r.ok({ type: 'service.completed', request: 'b2' });
    const s = stats(r, { window: '5m' });
    // The bot answered both at once: first responses of 0 ms, nothing abandoned.
    expect(s.total).toMatchObject({ requests: 2, containment: 0.5, abandonment: 0, firstResponseMs: { p50: 0, p90: 0 } });
    near(s.total.handleMs.p50, 30_000);
  });
});

describe('calls and counters', () => {
  it('a voice or store request is answered when its agent accepts it: not abandoned, its first response the wait', () => {
    const r = runner();
    r.online('v1', { calls: 5 }, { voice: 1, store: 1 });
    handled(r, 'call1', 'erin', 'calls', 'voice', 'v1', 0);
    handled(r, 'desk1', 'finn', 'calls', 'store', 'v1', 2_000);
    complete(r, 'call1', 60_000);
    complete(r, 'desk1', 90_000);
    r.now = T + 3 * MINUTE;
    const s = stats(r, { window: '1h', by: 'channel' });
    for (const channel of ['voice', 'store']) {
      const g = s.groups.find((x: any) => x.key === channel)!;
      expect(g, channel).toMatchObject({ requests: 1, abandonment: 0 });
      // Accepted 1 s after it was raised: within the 1 s histogram bin.
      expect(g.firstResponseMs.p50, channel).toBeGreaterThan(900);
      expect(g.firstResponseMs.p50, channel).toBeLessThan(1_100);
    }
  });
});

describe('handle time', () => {
  it('is not counted for a request its agent left (went offline) and that ended while queued again', () => {
    const r = runner();
    r.online('h1', { returns: 5 }, { chat: 1 });
    handled(r, 'left1', 'gina', 'returns', 'chat', 'h1', 0);
    r.now = T + 30_000;
    r.ok({ type: 'agent.offline', agent: 'h1' });
    complete(r, 'left1', 90_000);
    r.now = T + 3 * MINUTE;
    expect(stats(r, { window: '1h', by: 'topic' }).total.handleMs.p50).toBeNull();
  });
});

describe('the window', () => {
  it('slides by the minute and keeps nothing past 24 h', () => {
    const r = runner();
    r.online('a1', { billing: 5 }, { chat: 5 });
    r.now = T - 10 * MINUTE;
    r.ok({ type: 'service.requested', request: 'old', subject: 'x', channel: 'chat', topic: 'billing' });
    r.now = T;
    r.ok({ type: 'service.requested', request: 'new', subject: 'y', channel: 'chat', topic: 'billing' });
    expect(stats(r, { window: '5m' }).total.requests).toBe(1);
    expect(stats(r, { window: '15m' }).total.requests).toBe(2);
    // Ten minutes later the newer one has left the 5 minute window too.
    r.now = T + 10 * MINUTE;
    expect(stats(r, { window: '5m' }).total.requests).toBe(0);
    expect(stats(r, { window: '5m' }).groups).toEqual([]);
    expect(stats(r, { window: '1h' }).total.requests).toBe(2);
    // A day later, counting prunes the buckets of both: only the new request's minute remains,
    // though it is counted in another topic shard than theirs ('shipping', not 'billing').
    r.now = T + 25 * HOUR;
    r.ok({ type: 'service.requested', request: 'late', subject: 'z', channel: 'chat', topic: 'shipping' });
    expect(r.state.get('svc/fig/channel/0/minutes')).toEqual([(T + 25 * HOUR) / MINUTE]);
    expect(r.state.get('svc/fig/channel/0/hours')).toEqual([Math.floor((T + 25 * HOUR) / HOUR)]);
    expect(r.state.has(`svc/fig/channel/0/m/${T / MINUTE}`)).toBe(false);
    // Every shard of every dimension is pruned, not only those counted in: the figures' keys now
    // are the asOf clock and the buckets of this one minute and hour.
    const figureKeys = [...r.state.keys()].filter((k) => k.startsWith('svc/fig/') && !k.startsWith('svc/fig/req/') && !k.startsWith('svc/fig/last/'));
    const bucketKeys = figureKeys.filter((k) => /\/(m|h)\/\d+$/.test(k));
    expect(bucketKeys.map((k) => k.replace(/^svc\/fig\/(\w+)\/\d+\//, '$1/')).sort()).toEqual([`channel/h/${Math.floor((T + 25 * HOUR) / HOUR)}`, `channel/m/${(T + 25 * HOUR) / MINUTE}`, `topic/h/${Math.floor((T + 25 * HOUR) / HOUR)}`, `topic/m/${(T + 25 * HOUR) / MINUTE}`]);
    expect(stats(r, { window: '24h' }).total.requests).toBe(1);
  });

  it('refuses a bad window or dimension with bad_request', () => {
    const r = runner();
    for (const args of [{ window: '0m' }, { window: '25h' }, { window: '1d' }, { window: '-5m' }, { window: 5 }, { window: '1h; drop' }, { by: 'customer' }, { by: ['topic'] }, { by: '__proto__' }]) {
      expect(serviceStats(r.view, args), JSON.stringify(args)).toMatchObject({ error: 'bad_request' });
    }
    expect(stats(r, {})).toMatchObject({ window: '1h', by: 'topic', groups: [], total: { requests: 0, csat: null, fcr: null, firstResponseMs: { p50: null, p90: null } } });
  });
});

describe('service.rated', () => {
  it('is refused for no request, before its end, twice, or out of range; stored and exported', () => {
    const r = runner();
    r.online('a1', { billing: 5 }, { chat: 5 });
    r.ok({ type: 'service.requested', request: 'q1', subject: 'alice', channel: 'chat', topic: 'billing' });
    r.rejects({ type: 'service.rated', request: 'nope', score: 5 }, 'not_found');
    r.rejects({ type: 'service.rated', request: 'q1', score: 5 }, 'not_rated_yet');
    r.ok({ type: 'service.accepted', request: 'q1', agent: 'a1' });
    r.rejects({ type: 'service.rated', request: 'q1', score: 5 }, 'not_rated_yet');
    r.ok({ type: 'service.completed', request: 'q1' });
    for (const score of [0, 6, 4.5, '5']) expect(code(r.apply({ type: 'service.rated', request: 'q1', score } as never))).toBe('invalid_event');
    expect(code(r.apply({ type: 'service.rated', request: 'q1', score: 4, comment: 'x'.repeat(1001) } as never))).toBe('invalid_event');
    r.ok({ type: 'service.rated', request: 'q1', score: 4, comment: 'Quick and kind.' });
    r.rejects({ type: 'service.rated', request: 'q1', score: 1 }, 'already_rated');
    expect(r.req('q1')).toMatchObject({ rating: { score: 4, comment: 'Quick and kind.' }, ratedAt: r.now });
    const exported = r.ownerOf('service.requested').query!(r.view, 'requests', { subject: 'alice' }) as Array<Record<string, unknown>>;
    expect(exported[0]).toMatchObject({ request: 'q1', rating: { score: 4, comment: 'Quick and kind.' }, ratedAt: r.now });
    expect(stats(r, {}).total).toMatchObject({ ratings: 1, csat: 1 });
  });

  it('keeps no last end for a request whose subject names nobody (it cannot come back)', () => {
    const r = runner();
    r.online('a1', { billing: 5 }, { chat: 5 });
    r.ok({ type: 'service.requested', request: 'q1', subject: 'anonymous', channel: 'chat', topic: 'billing' });
    r.ok({ type: 'service.accepted', request: 'q1', agent: 'a1' });
    r.ok({ type: 'service.completed', request: 'q1' });
    expect([...r.state.keys()].filter((k) => k.startsWith('svc/fig/last/') || k.startsWith('svc/fig/req/'))).toEqual([]);
    expect(stats(r, {}).total).toMatchObject({ requests: 1, fcr: 1, abandonment: 1 });
  });

  it('goes with the customer erasure, with its last ends; the figures keep their counts and no customer id', () => {
    const r = runner();
    r.ok({ type: 'identity.linked', ids: ['phone:+1'], customer: 'alice' });
    r.online('a1', { billing: 5 }, { chat: 5 });
    r.ok({ type: 'service.requested', request: 'q1', subject: 'phone:+1', channel: 'chat', topic: 'billing' });
    r.ok({ type: 'service.accepted', request: 'q1', agent: 'a1' });
    r.ok({ type: 'service.completed', request: 'q1' });
    r.ok({ type: 'service.rated', request: 'q1', score: 5 });
    r.ok({ type: 'service.requested', request: 'q2', subject: 'phone:+1', channel: 'chat', topic: 'returns' });
    expect(r.state.has('svc/fig/req/q2')).toBe(true);
    expect(r.state.has('svc/fig/last/alice')).toBe(true);
    const before = stats(r, {});
    r.ok({ id: 'erase', type: 'customer.erased', customer: 'phone:+1' });
    r.drain();
    const left = [...r.state.keys()].filter((k) => k.startsWith('svc/fig/') && (k.includes('alice') || k.includes('q1') || k.includes('q2')));
    expect(left).toEqual([]);
    expect(r.req('q1')).toBeUndefined();
    expect(JSON.stringify([...r.state].filter(([k]) => k.startsWith('svc/fig/')))).not.toMatch(/alice|phone/);
    expect(stats(r, {})).toEqual(before);
  });
});
