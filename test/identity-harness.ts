// A state for identity tests that proves purity: every value put is deep-frozen, so an in-place
// change of a value read throws (ESM code runs in strict mode).

import { MapState } from '../engine/customers/editor.ts';

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
