// What one event stages before anything is written: reads see the view plus what this event
// already staged; nothing reaches the view until the engine applies the event's writes. The
// service change, the identity resolver and the recommender all work through it, so they stay
// pure and testable over a Map.

import type { StateView } from './types.ts';

export interface StateEditor extends StateView {
  /** Stages a value this change owns (`undefined` deletes the key). Values read are never mutated in place. */
  put(key: string, value: unknown): void;
}

/** A StateEditor over a view, collecting its writes in order of first staging. */
export class StagedState implements StateEditor {
  protected readonly staged = new Map<string, unknown>();

  constructor(readonly view: StateView) {}

  get<T>(key: string): T | undefined {
    if (this.staged.has(key)) return this.staged.get(key) as T | undefined;
    return this.view.get<T>(key);
  }

  put(key: string, value: unknown): void {
    this.staged.set(key, value);
  }

  writes(): Array<[string, unknown]> {
    return [...this.staged];
  }
}

/** A StateEditor that writes straight into a Map: for unit tests and offline evaluation. */
export class MapState implements StateEditor {
  constructor(readonly map = new Map<string, unknown>()) {}

  get<T>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }

  put(key: string, value: unknown): void {
    if (value === undefined) this.map.delete(key);
    else this.map.set(key, value);
  }
}
