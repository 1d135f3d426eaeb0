// A customer's completed requests: the latest PAST_KEPT stay in its record, which the desk's 360
// context reads on every offer; the ids of older ones go to a list of their own, read only by the
// data-subject export and an erasure, so that both still find every request the customer raised
// (the requests' records and messages are kept until the customer is erased).

import type { StateEditor } from '../staged-state.ts';
import type { StateView } from '../types.ts';
import { PAST_KEPT } from './types.ts';

const olderKey = (customer: string) => `svc/custold/${customer}`;

/** Ids of the customer's completed requests older than its record's `past`, oldest pushed out first. */
export function olderRequests(view: StateView, customer: string): string[] {
  return view.get<string[]>(olderKey(customer)) ?? [];
}

/** The latest PAST_KEPT of `past` (newest first), for the record; the rest join the older ids. */
export function keptPast(state: StateEditor, customer: string, past: readonly string[]): string[] {
  if (past.length <= PAST_KEPT) return [...past];
  addOlder(state, customer, past.slice(PAST_KEPT));
  return past.slice(0, PAST_KEPT);
}

/** A customer merged away: its older ids join the survivor's. */
export function moveOlder(state: StateEditor, from: string, into: string): void {
  const moved = olderRequests(state, from);
  if (moved.length === 0) return;
  state.put(olderKey(from), undefined);
  addOlder(state, into, moved);
}

/** Erasure: the older ids go (the caller deletes their requests). */
export function forgetOlder(state: StateEditor, customer: string): string[] {
  const ids = olderRequests(state, customer);
  if (ids.length > 0) state.put(olderKey(customer), undefined);
  return ids;
}

function addOlder(state: StateEditor, customer: string, ids: readonly string[]): void {
  const had = olderRequests(state, customer);
  const fresh = ids.filter((id) => !had.includes(id));
  if (fresh.length > 0) state.put(olderKey(customer), [...had, ...fresh]);
}
