// Runs a processor without I/O: a Map is the state, effects are applied the way the engine
// applies them (only when the result is ok), timers are kept in a Map and fired by hand.

import type { Effects, InputEvent, Processor, StateView, TimerSpec } from '../engine/types.ts';

export class PureRunner {
  readonly state = new Map<string, unknown>();
  readonly timers = new Map<string, TimerSpec>();
  readonly messages: Array<{ topic: string; data: unknown }> = [];
  now = 1_000_000;
  private n = 0;

  constructor(readonly processor: Processor) {}

  readonly view: StateView = { get: <T>(key: string) => this.state.get(key) as T | undefined };

  /** Validates and applies one event; `id` and `ts` are filled in when absent. */
  apply(event: Omit<InputEvent, 'id'> & { id?: string }): Effects {
    const ev = { id: `e${++this.n}`, ...event } as InputEvent;
    const error = this.processor.validate(ev);
    if (error) return { result: { ok: false, error } };
    const effects = this.processor.apply(this.view, ev, { now: this.now, eventTime: ev.ts ?? this.now });
    if (effects.result.ok) this.commit(effects);
    return effects;
  }

  protected commit(effects: Omit<Effects, 'result'>): void {
    for (const [k, v] of effects.writes ?? []) {
      if (v === undefined) this.state.delete(k);
      else this.state.set(k, v);
    }
    this.messages.push(...(effects.messages ?? []));
    for (const id of effects.timers?.cancel ?? []) this.timers.delete(id);
    for (const t of effects.timers?.set ?? []) this.timers.set(t.id, t);
  }

  /**
   * Fires every timer due at `now`, earliest first, one at a time as the engine does: a timer
   * replaced while others fire (same id, new time) is the new one, not its stale entry.
   */
  fireDue(): number {
    let fired = 0;
    while (this.fireNext()) fired++;
    return fired;
  }

  /** Fires the earliest timer due at `now`; false when none is. */
  protected fireNext(): boolean {
    let due: TimerSpec | undefined;
    for (const t of this.timers.values()) if (t.at <= this.now && (!due || t.at < due.at)) due = t;
    if (!due) return false;
    this.timers.delete(due.id);
    this.commit(this.processor.onTimer(this.view, due, { now: this.now, eventTime: this.now }));
    return true;
  }

  render(topic: string): any {
    return this.processor.render(this.view, topic);
  }

  /** Snapshot of every key, to prove a rejection changed nothing. */
  dump(): string {
    return JSON.stringify([...this.state].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
