// `omni bench routing --part backlog`: the flags choose the part (both stays pure + engine), and
// a tiny run through the real engine keeps the desks busy, lets the queue grow, and with the bot
// in overflow hears the bot. Structure only: no timing is asserted.

import { describe, expect, it } from 'vitest';
import { runBacklog, type BacklogOptions } from '../bench/routing/backlog.ts';
import { readRoutingOptions } from '../bench/routing/service-routing.ts';

const tiny = (bot: BacklogOptions['bot']): BacklogOptions => ({ agents: 20, topics: 20, roundSize: 100, rounds: 4, warmupRounds: 2, bot, durability: 'none' });

describe('routing bench flags', () => {
  it('runs the backlog part alone, with 20 agents unless told', () => {
    const o = readRoutingOptions(['--part', 'backlog', '--bot', 'overflow', '--rounds', '7', '--warmup-rounds', '3']);
    if (o === 'help') throw new Error('unexpected help');
    expect(o.parts).toEqual({ pure: false, engine: false, backlog: true });
    expect(o.backlog).toMatchObject({ agents: 20, rounds: 7, warmupRounds: 3, bot: 'overflow', durability: 'fsync', roundSize: 100 });
  });

  it('keeps both meaning pure and engine', () => {
    const o = readRoutingOptions([]);
    if (o === 'help') throw new Error('unexpected help');
    expect(o.parts).toEqual({ pure: true, engine: true, backlog: false });
    expect(o.sustained.agents).toBe(5000);
  });

  it('refuses a bot mode it does not compare', () => {
    expect(() => readRoutingOptions(['--part', 'backlog', '--bot', 'first'])).toThrow(/--bot/);
  });
});

describe('routing bench, backlog part (through the engine)', () => {
  it('with the bot off: the desks complete requests while the rest queue, and nothing is refused', async () => {
    const r = await runBacklog(tiny('off'));
    expect(r.rejected).toEqual({});
    expect(r.requests).toBe(400);
    expect(r.completed).toBeGreaterThan(0);
    // 20 agents hold at most 80 at once and complete what they took a round before: most queue.
    expect(r.queuedAtEnd).toBeGreaterThan(300);
    expect(r.botMessages).toBe(0);
    expect(r.cpuUsPerRequest).toBeGreaterThan(0);
  });

  it('with the bot in overflow: the bot speaks to requests facing a long wait', async () => {
    const r = await runBacklog(tiny('overflow'));
    expect(r.rejected).toEqual({});
    expect(r.completed).toBeGreaterThan(0);
    expect(r.botMessages).toBeGreaterThan(0);
  });
});
