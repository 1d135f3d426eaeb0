// The explanation log: every creation, merge, refusal and newly shared id is written to the
// customers it concerns, so "why are these two people one customer?" has an answer. Bounded per
// customer; a merged-away customer's entries move to its survivor.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../editor.ts';
import { keys, type LogEntry } from './layout.ts';
import { resolveCustomer } from './resolve.ts';

/**
 * Keeps `limit` entries, dropping refusals first (oldest first): a shared tablet refused at every
 * visit must not push out the merges that explain who the customer is.
 */
function trim(log: LogEntry[], limit: number): LogEntry[] {
  const excess = log.length - limit;
  if (excess <= 0) return log;
  let refusals = 0;
  for (const e of log) if (e.kind === 'refused') refusals++;
  let dropRefused = Math.min(excess, refusals);
  let dropOther = excess - dropRefused;
  return log.filter((e) => !(e.kind === 'refused' ? dropRefused-- > 0 : dropOther-- > 0));
}

export function appendLog(state: StateEditor, customer: string, entry: LogEntry, limit: number): void {
  const log = state.get<LogEntry[]>(keys.log(customer)) ?? [];
  state.put(keys.log(customer), trim([...log, entry], limit));
}

/** A merged-away customer's history becomes part of the survivor's, in event-time order. */
export function absorbLog(state: StateEditor, from: string, into: string, limit: number): void {
  const gone = state.get<LogEntry[]>(keys.log(from));
  if (gone === undefined) return;
  state.put(keys.log(from), undefined);
  const kept = state.get<LogEntry[]>(keys.log(into)) ?? [];
  // A stable sort: entries of one event time keep the survivor's first.
  state.put(keys.log(into), trim([...kept, ...gone].sort((a, b) => a.at - b.at), limit));
}

/** The customer's log, oldest first; any of its ids, or a merged-away name, finds the survivor's. */
export function explain(view: StateView, customer: string): LogEntry[] {
  const name = resolveCustomer(view, customer) ?? customer;
  return [...(view.get<LogEntry[]>(keys.log(name)) ?? [])];
}
