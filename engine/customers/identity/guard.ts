// The over-merge guard (Segment Unify's limits and the store's shared tablet): what a customer
// may hold, and which ids may still bridge two customers.

import type { StateEditor } from '../../staged-state.ts';
import { idKind } from './ids.ts';
import { keys, type At, type IdRecord } from './layout.ts';
import { appendLog } from './log.ts';
import type { ResolvedIdentityOptions } from './options.ts';

/** Ids a customer holds per kind, and in all kinds that count against `maxIds`. */
export interface Counts {
  byKind: Map<string, number>;
  capped: number;
}

// Customer ids stay outside `maxIds`: two known customers always merge (the contract).
const uncapped = (kind: string) => kind === 'customer';

export function countIds(ids: readonly string[]): Counts {
  const c: Counts = { byKind: new Map(), capped: 0 };
  for (const id of ids) addCount(c, idKind(id));
  return c;
}

export function addCount(c: Counts, kind: string): void {
  c.byKind.set(kind, (c.byKind.get(kind) ?? 0) + 1);
  if (!uncapped(kind)) c.capped++;
}

/** One more id of `kind` stays within its limit and the total. */
export function canAttach(c: Counts, kind: string, o: ResolvedIdentityOptions): boolean {
  if ((c.byKind.get(kind) ?? 0) + 1 > o.limit(kind)) return false;
  return uncapped(kind) || c.capped + 1 <= o.maxIds;
}

/**
 * The two customers' ids together stay within every limit. A kind only one side holds cannot
 * break one the merge did not already break, so lowering a limit never blocks such merges.
 */
export function canMerge(a: Counts, b: Counts, o: ResolvedIdentityOptions): boolean {
  for (const [kind, n] of b.byKind) {
    const m = a.byKind.get(kind) ?? 0;
    if (m > 0 && m + n > o.limit(kind)) return false;
  }
  return a.capped === 0 || b.capped === 0 || a.capped + b.capped <= o.maxIds;
}

export function isShared(rec: IdRecord, kind: string, o: ResolvedIdentityOptions): boolean {
  return rec.shared === true || (rec.joined ?? 1) >= o.sharedAfter(kind);
}

/** `id` just bridged a merge into `owner`: one more customer joined through it. */
export function markBridged(state: StateEditor, id: string, owner: string, at: At, o: ResolvedIdentityOptions): void {
  const rec = state.get<IdRecord>(keys.id(id)) ?? { customer: owner };
  const joined = (rec.joined ?? 1) + 1;
  const shared = joined >= o.sharedAfter(idKind(id));
  state.put(keys.id(id), { ...rec, joined, ...(shared ? { shared: true } : {}) } satisfies IdRecord);
  if (shared && rec.shared !== true) {
    appendLog(state, owner, { at: at.time, event: at.event, kind: 'shared', into: owner, via: id }, o.logLimit);
  }
}
