// How fast a request lane drains while it has a backlog: the time between two requests leaving
// it for an agent, counted only when the one leaving had waited since the previous departure
// (so the lane was never empty in between and the gap is the agents' pace, not a lull in
// demand). An exponentially weighted mean per lane; the predicted wait (bot/predicted-wait.ts)
// multiplies it by the requests ahead. It sees what capacity ÷ handle time cannot: agents
// shared with other topics and channels, breaks between chats, declines.

import type { StagedState } from '../staged-state.ts';
import type { ServiceRequest } from './types.ts';

interface LaneDrain {
  /** Clock ms of the last departure. */
  at: number;
  /** The mean gap between departures while backlogged, ms (absent before the first). */
  gapMs?: number;
  /** Gaps counted so far (capped: only "enough" matters). */
  gaps: number;
}

const DRAIN_ALPHA = 0.2;
/** Gaps a lane needs before its pace is trusted over capacity ÷ handle time. */
export const DRAIN_MIN_GAPS = 5;
const GAPS_CAP = 1_000;

const drainKey = (lane: string) => `svc/drain/${lane}`;

/** A queued request leaves `lane` for an agent at `now`. */
export function noteDeparture(state: StagedState, lane: string, r: ServiceRequest, now: number): void {
  const before = state.get<LaneDrain>(drainKey(lane));
  if (before === undefined || r.enqueuedAt > before.at) {
    state.put(drainKey(lane), { ...(before ?? { gaps: 0 }), at: now } satisfies LaneDrain);
    return;
  }
  const gap = Math.max(0, now - before.at);
  const gapMs = before.gapMs === undefined ? gap : before.gapMs + DRAIN_ALPHA * (gap - before.gapMs);
  state.put(drainKey(lane), { at: now, gapMs, gaps: Math.min(GAPS_CAP, before.gaps + 1) } satisfies LaneDrain);
}

/** The lane's mean gap between departures while backlogged, once enough were seen. */
export function drainGapMs(state: StagedState, lane: string): number | undefined {
  const d = state.get<LaneDrain>(drainKey(lane));
  return d !== undefined && d.gaps >= DRAIN_MIN_GAPS ? d.gapMs : undefined;
}
