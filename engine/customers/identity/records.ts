// Creating customers: an anonymous one for activity from an unknown id, or the first of a link.

import type { StateEditor } from '../../staged-state.ts';
import { keys, type At, type CustomerRecord, type IdRecord } from './layout.ts';
import { isBlocked, resolveIdentityOptions, type IdentityOptions, type ResolvedIdentityOptions } from './options.ts';
import { liveOf, type Live } from './resolve.ts';

/** A new customer named by `name`, holding it as its first id. */
export function createCustomer(state: StateEditor, name: string, at: At, o: ResolvedIdentityOptions): Live {
  const created = (state.get<number>(keys.created) ?? 0) + 1;
  state.put(keys.created, created);
  const record: CustomerRecord = { name, created, ids: [name], tier: 'standard', since: { at: at.time, event: at.event } };
  state.put(keys.customer(name), record);
  state.put(keys.id(name), { customer: name } satisfies IdRecord);
  return { name, record };
}

/**
 * The customer behind activity from `id`: an unknown id starts an anonymous customer named by
 * it, which later links can join. A blocked id (`anonymous`, `0`, …) names nobody.
 */
export function ensureCustomer(
  state: StateEditor,
  id: string,
  at: At,
  options?: IdentityOptions | ResolvedIdentityOptions,
): { customer: string; created: boolean } | { blocked: true } {
  const o = resolveIdentityOptions(options);
  if (isBlocked(id, o)) return { blocked: true };
  const known = liveOf(state, id);
  if (known !== undefined) return { customer: known.name, created: false };
  return { customer: createCustomer(state, id, at, o).name, created: true };
}
