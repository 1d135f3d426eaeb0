// The explanation log: every creation, merge, refusal and newly shared id is written to the
// customers it concerns, so "why are these two people one customer?" has an answer. Bounded per
// customer; a merged-away customer's entries move to its survivor.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../../staged-state.ts';
import { keys, type LogEntry, type StoredCustomer } from './layout.ts';
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

/**
 * A customer's creation, kept on its record: most customers (one-visit shoppers) never get
 * another entry, so their log record is written only when one comes.
 */
export function createdEntry(rec: Pick<StoredCustomer, 'name'> & { since?: { at: number; event: string } }): LogEntry[] {
  return rec.since ? [{ at: rec.since.at, event: rec.since.event, kind: 'created', into: rec.name }] : [];
}

function logOf(state: StateView, customer: string): LogEntry[] {
  const log = state.get<LogEntry[]>(keys.log(customer));
  if (log !== undefined) return log;
  const rec = state.get<StoredCustomer>(keys.customer(customer));
  return rec === undefined ? [] : createdEntry(rec);
}

export function appendLog(state: StateEditor, customer: string, entry: LogEntry, limit: number): void {
  const log = logOf(state, customer);
  state.put(keys.log(customer), trim([...log, entry], limit));
}

/** A merged-away customer's history becomes part of the survivor's, in event-time order. */
export function absorbLog(state: StateEditor, from: string, into: string, limit: number, fromRecord: Parameters<typeof createdEntry>[0]): void {
  const written = state.get<LogEntry[]>(keys.log(from));
  if (written !== undefined) state.put(keys.log(from), undefined);
  const gone = written ?? createdEntry(fromRecord);
  if (gone.length === 0) return;
  const kept = logOf(state, into);
  // A stable sort: entries of one event time keep the survivor's first.
  state.put(keys.log(into), trim([...kept, ...gone].sort((a, b) => a.at - b.at), limit));
}

/** The customer's log, oldest first; any of its ids, or a merged-away name, finds the survivor's. */
export function explain(view: StateView, customer: string): LogEntry[] {
  const name = resolveCustomer(view, customer) ?? customer;
  return [...logOf(view, name)];
}
