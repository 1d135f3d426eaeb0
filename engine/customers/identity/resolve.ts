// Finding the customer behind an id or a name. Merges rewrite every id of the merged-away
// customer, so an id record names a live customer and a tombstone points straight at its
// survivor; lookups still follow chains (bounded), and writers shorten any they find.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../../staged-state.ts';
import { isTombstone, keys, type CustomerRecord, type IdRecord, type StoredCustomer, type Tombstone } from './layout.ts';

/** A corrupt cycle of tombstones ends the walk instead of hanging the processor. */
const MAX_HOPS = 64;

export interface Live {
  name: string;
  record: CustomerRecord;
}

function startOf(view: StateView, id: string): string | undefined {
  const rec = view.get<IdRecord>(keys.id(id));
  if (rec !== undefined) return rec.customer;
  return view.get<StoredCustomer>(keys.customer(id)) !== undefined ? id : undefined;
}

function walk(view: StateView, start: string): { live: Live; path: string[] } | undefined {
  const path: string[] = [];
  let name = start;
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const stored = view.get<StoredCustomer>(keys.customer(name));
    if (stored === undefined) return undefined;
    if (!isTombstone(stored)) return { live: { name, record: stored }, path };
    path.push(name);
    name = stored.mergedInto;
  }
  return undefined;
}

/** The customer an id belongs to; a customer's name (merged away or not) resolves to the survivor. */
export function resolveCustomer(view: StateView, id: string): string | undefined {
  const start = startOf(view, id);
  return start === undefined ? undefined : walk(view, start)?.live.name;
}

/** The live record an id or name resolves to. Read-only: it may be the engine's cached value. */
export function customerRecord(view: StateView, customer: string): CustomerRecord | undefined {
  const start = startOf(view, customer);
  return start === undefined ? undefined : walk(view, start)?.live.record;
}

export function idRecord(view: StateView, id: string): IdRecord | undefined {
  return view.get<IdRecord>(keys.id(id));
}

/** Like resolveCustomer, for writers: a chain longer than one hop is compressed on the way. */
export function liveOf(state: StateEditor, id: string): Live | undefined {
  const start = startOf(state, id);
  if (start === undefined) return undefined;
  const found = walk(state, start);
  if (found === undefined) return undefined;
  const { live, path } = found;
  for (const name of path) {
    const t = state.get<Tombstone>(keys.customer(name))!;
    if (t.mergedInto !== live.name) state.put(keys.customer(name), { ...t, mergedInto: live.name } satisfies Tombstone);
  }
  const rec = state.get<IdRecord>(keys.id(id));
  if (rec !== undefined && rec.customer !== live.name) state.put(keys.id(id), { ...rec, customer: live.name } satisfies IdRecord);
  return live;
}
