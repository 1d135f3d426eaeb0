// Two customers become one. The older (first created, by the creation counter, not by any
// timestamp) survives under its name; the other becomes a tombstone pointing at it. The caller
// moves histories, sessions and open requests using the outcome's `from` and `into`.

import type { StateEditor } from '../../staged-state.ts';
import { isTombstone, keys, type At, type CustomerRecord, type IdRecord, type StoredCustomer, type Tombstone } from './layout.ts';
import { absorbLog, appendLog } from './log.ts';
import type { ResolvedIdentityOptions } from './options.ts';
import { mergeProfiles } from './profile.ts';
import type { Live } from './resolve.ts';

export interface MergeResult {
  from: string;
  into: string;
  survivor: Live;
}

export function mergeCustomers(state: StateEditor, a: Live, b: Live, via: string, at: At, o: ResolvedIdentityOptions): MergeResult {
  const aOlder = a.record.created < b.record.created || (a.record.created === b.record.created && a.name < b.name);
  const [keep, gone] = aOlder ? [a, b] : [b, a];
  const record: CustomerRecord = {
    name: keep.name,
    created: keep.record.created,
    ids: [...keep.record.ids, ...gone.record.ids],
    ...mergeProfiles(keep.record, gone.record),
    ...(keep.record.since ? { since: keep.record.since } : {}),
  };
  state.put(keys.customer(keep.name), record);
  state.put(keys.customer(gone.name), { name: gone.name, created: gone.record.created, mergedInto: keep.name } satisfies Tombstone);
  for (const id of gone.record.ids) {
    const rec = state.get<IdRecord>(keys.id(id));
    state.put(keys.id(id), { ...rec, customer: keep.name } satisfies IdRecord);
    // Names of customers merged into `gone` earlier: their tombstones skip the extra hop.
    if (id === gone.name) continue;
    const stored = state.get<StoredCustomer>(keys.customer(id));
    if (stored !== undefined && isTombstone(stored)) state.put(keys.customer(id), { ...stored, mergedInto: keep.name } satisfies Tombstone);
  }
  absorbLog(state, gone.name, keep.name, o.logLimit, gone.record);
  appendLog(state, keep.name, { at: at.time, event: at.event, kind: 'merged', from: gone.name, into: keep.name, via }, o.logLimit);
  return { from: gone.name, into: keep.name, survivor: { name: keep.name, record } };
}
