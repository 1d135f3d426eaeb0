// A state for identity tests that proves purity: every value put is deep-frozen, so an in-place
// change of a value read throws (ESM code runs in strict mode).

import { MapState } from '../engine/staged-state.ts';
import { ensureCustomer, link, resolveCustomer, type IdentityOptions } from '../engine/customers/identity/mod.ts';

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export class FrozenState extends MapState {
  override put(key: string, value: unknown): void {
    super.put(key, deepFreeze(value));
  }

  /** The whole state in key order: equal dumps, equal states. */
  dump(): string {
    return JSON.stringify([...this.map].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

/** Short names over one FrozenState: each call gets its own event id. */
export function identityHelpers(state: () => FrozenState) {
  let n = 0;
  const at = (time = 1000) => ({ time, event: `e${++n}` });
  return {
    at,
    /** Event ids start over (for runs that must repeat exactly). */
    reset: () => {
      n = 0;
    },
    ln: (ids: string[], customer?: string, options?: IdentityOptions) => link(state(), ids, customer, at(), options),
    ensure: (id: string, options?: IdentityOptions) => {
      const r = ensureCustomer(state(), id, at(), options);
      if ('blocked' in r) throw new Error(`${id} is blocked`);
      return r.customer;
    },
    who: (id: string) => resolveCustomer(state(), id),
  };
}
