// `identity.linked`: every id of the link resolves to one customer afterwards, unless the
// over-merge guard refuses it. Ids are taken in priority order (customer > phone > email >
// wechat > other kinds > device, then as given); the link follows its `customer` field when
// that is known, else the customer of its highest-priority known id that is not shared.

import type { StateEditor } from '../../staged-state.ts';
import { idKind, kindRank } from './ids.ts';
import { addCount, canAttach, canMerge, countIds, isShared, markBridged } from './guard.ts';
import { keys, type At, type CustomerRecord, type IdRecord, type RefusalReason } from './layout.ts';
import { appendLog } from './log.ts';
import { mergeCustomers } from './merge.ts';
import { isBlocked, resolveIdentityOptions, type IdentityOptions, type ResolvedIdentityOptions } from './options.ts';
import { createCustomer } from './records.ts';
import { idRecord, liveOf, type Live } from './resolve.ts';

export interface LinkOutcome {
  /** The customer the link's ids resolve to now; undefined when every id was blocked. */
  customer: string | undefined;
  /** The link started a new customer (none of its ids could follow a known one). */
  created: boolean;
  /** In order: `from` was merged into `into` through `via`. Move histories the same way. */
  merged: Array<{ from: string; into: string; via: string }>;
  /** Ids that resolve to `customer` now and did not before (merged customers' ids aside). */
  attached: string[];
  /** Ids left where they were (or unknown): `limit` would overfill a customer, `shared` no longer bridges. */
  refused: Array<{ id: string; reason: RefusalReason }>;
  /** Placeholder values (`0`, `null`, `anonymous`, …): ignored. */
  blocked: string[];
}

interface Candidate {
  id: string;
  kind: string;
}

function order(ids: readonly string[], customer: string | undefined, o: ResolvedIdentityOptions, blocked: string[]): Candidate[] {
  const seen = new Set<string>();
  const list: Array<Candidate & { rank: number }> = [];
  // The `customer` field goes first: among customer ids it names a new customer and leads.
  for (const id of customer === undefined ? ids : [customer, ...ids]) {
    if (seen.has(id)) continue;
    seen.add(id);
    if (isBlocked(id, o)) blocked.push(id);
    else {
      const kind = idKind(id);
      list.push({ id, kind, rank: kindRank(kind) });
    }
  }
  return list.sort((a, b) => a.rank - b.rank).map(({ id, kind }) => ({ id, kind }));
}

/** The customer the link joins, if one of its ids may lead it. */
function anchor(state: StateEditor, list: Candidate[], field: string | undefined, o: ResolvedIdentityOptions): Live | undefined {
  if (field !== undefined) {
    // A shared id leads no link, named as its customer or not; it is refused with the others.
    const rec = idRecord(state, field);
    const named = rec !== undefined && isShared(rec, idKind(field), o) ? undefined : liveOf(state, field);
    if (named !== undefined) return named;
  }
  for (const c of list) {
    const rec = idRecord(state, c.id);
    if (rec !== undefined && isShared(rec, c.kind, o)) continue;
    const owner = liveOf(state, c.id);
    if (owner !== undefined) return owner;
  }
  return undefined;
}

export function link(
  state: StateEditor,
  ids: readonly string[],
  customer: string | undefined,
  at: At,
  options?: IdentityOptions | ResolvedIdentityOptions,
): LinkOutcome {
  const o = resolveIdentityOptions(options);
  const out: LinkOutcome = { customer: undefined, created: false, merged: [], attached: [], refused: [], blocked: [] };
  const list = order(ids, customer, o, out.blocked);
  const field = customer !== undefined && !isBlocked(customer, o) ? customer : undefined;

  let target = anchor(state, list, field, o);
  if (target === undefined) {
    // A new customer is named by the `customer` field when given, else by its first id.
    const unknown = (c: Candidate) => liveOf(state, c.id) === undefined;
    const fresh = list.find((c) => c.id === field && unknown(c)) ?? list.find(unknown);
    if (fresh !== undefined) {
      target = createCustomer(state, fresh.id, at, o);
      out.created = true;
      out.attached.push(fresh.id);
    } else if (list.length > 0) {
      // Only shared ids: they keep resolving where they are, and nothing else changes.
      target = liveOf(state, list[0].id);
    }
  }
  if (target === undefined) return out;

  const refuse = (id: string, reason: RefusalReason, from: string | undefined) => {
    out.refused.push({ id, reason });
    const entry = { at: at.time, event: at.event, kind: 'refused' as const, ...(from !== undefined ? { from } : {}), into: target!.name, via: id, reason };
    appendLog(state, target!.name, entry, o.logLimit);
    if (from !== undefined) appendLog(state, from, entry, o.logLimit);
  };

  let counts = countIds(target.record.ids);
  for (const c of list) {
    const owner = liveOf(state, c.id);
    if (owner?.name === target.name) continue;
    if (owner === undefined) {
      if (!canAttach(counts, c.kind, o)) {
        refuse(c.id, 'limit', undefined);
        continue;
      }
      const record: CustomerRecord = { ...target.record, ids: [...target.record.ids, c.id] };
      state.put(keys.customer(target.name), record);
      state.put(keys.id(c.id), { customer: target.name } satisfies IdRecord);
      target = { name: target.name, record };
      addCount(counts, c.kind);
      out.attached.push(c.id);
      continue;
    }
    const rec = idRecord(state, c.id);
    if (rec !== undefined && isShared(rec, c.kind, o)) {
      refuse(c.id, 'shared', owner.name);
      continue;
    }
    if (!canMerge(counts, countIds(owner.record.ids), o)) {
      refuse(c.id, 'limit', owner.name);
      continue;
    }
    const m = mergeCustomers(state, target, owner, c.id, at, o);
    out.merged.push({ from: m.from, into: m.into, via: c.id });
    target = m.survivor;
    counts = countIds(target.record.ids);
    markBridged(state, c.id, target.name, at, o);
  }
  out.customer = target.name;
  return out;
}
