// Profile data on the customer record: `customer.profile` sets it, a merge combines it.

import type { StateEditor } from '../../staged-state.ts';
import { keys, type At, type CustomerRecord, type Tier } from './layout.ts';
import type { IdentityOptions, ResolvedIdentityOptions } from './options.ts';
import { ensureCustomer } from './records.ts';
import { liveOf } from './resolve.ts';

/**
 * The profile after a merge: the survivor keeps its own, but is VIP if either was (the service
 * promise made to either person still holds), and takes the other's language only if it has
 * none (the survivor's own statement is the more deliberate one).
 */
export function mergeProfiles(keep: CustomerRecord, gone: CustomerRecord): { tier: Tier; language?: string } {
  const language = keep.language ?? gone.language;
  return { tier: keep.tier === 'vip' || gone.tier === 'vip' ? 'vip' : 'standard', ...(language !== undefined ? { language } : {}) };
}

/**
 * Sets the tier, and the language when given (without one the known language stays), on the
 * customer `customer` resolves to, creating it if unknown. Returns that customer, or undefined
 * for a blocked id, which gets no profile.
 */
export function setProfile(
  state: StateEditor,
  customer: string,
  tier: Tier,
  language: string | undefined,
  at: At,
  options?: IdentityOptions | ResolvedIdentityOptions,
): string | undefined {
  const who = ensureCustomer(state, customer, at, options);
  if ('blocked' in who) return undefined;
  const live = liveOf(state, who.customer)!;
  const before = live.record;
  if (before.tier !== tier || (language !== undefined && before.language !== language)) {
    state.put(keys.customer(live.name), { ...before, tier, ...(language !== undefined ? { language } : {}) } satisfies CustomerRecord);
  }
  return live.name;
}
