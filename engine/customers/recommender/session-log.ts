// A session's bounded activity log: what the session profile, the neighbours' items and the
// merge of two customers' sessions are read from.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../../staged-state.ts';
import { recKeys, type SessionRecord } from './records.ts';

export function readSession(state: StateView, session: string): SessionRecord | undefined {
  return state.get<SessionRecord>(recKeys.session(session));
}

/**
 * Appends one activity, dropping the oldest beyond `kept`. Returns whether the session had the
 * SKU among its kept activities before (then the item index already lists it).
 */
export function appendActivity(
  state: StateEditor,
  session: string,
  prev: SessionRecord | undefined,
  sku: string,
  kind: number,
  time: number,
  kept: number,
): boolean {
  const had = prev !== undefined && prev.i.includes(sku);
  const from = prev === undefined ? 0 : Math.max(0, prev.i.length + 1 - kept);
  // Copies: the read record may be the engine's cached value.
  const next: SessionRecord =
    prev === undefined
      ? { i: [sku], k: [kind], t: [time] }
      : {
          i: [...prev.i.slice(from), sku],
          k: [...prev.k.slice(from), kind],
          t: [...prev.t.slice(from), time],
        };
  state.put(recKeys.session(session), next);
  return had;
}

/** The session's latest event time (0 for an empty one). */
export function lastTime(s: SessionRecord): number {
  let t = 0;
  for (let j = 0; j < s.t.length; j++) if (s.t[j] > t) t = s.t[j];
  return t;
}
