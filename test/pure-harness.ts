// Runs processors without I/O: a Map is the state, effects are applied the way the engine
// applies them (only when the result is ok, then each follower's reaction), timers are kept in
// a Map and fired by hand. The first processor is the one under test (`processor`).

import type { Effects, InputEvent, Processor, StateView, TimerSpec } from '../engine/types.ts';

export class PureRunner {
  readonly state = new Map<string, unknown>();
  readonly timers = new Map<string, TimerSpec>();
  readonly messages: Array<{ topic: string; data: unknown }> = [];
  now = 1_000_000;
  private n = 0;

  readonly processor: Processor;
  private readonly processors: Processor[];
  /** Which processor set each timer (timers are keyed by id, as the tests read them). */
  private readonly timerOwners = new Map<string, Processor>();

  constructor(processors: Processor | Processor[]) {
    this.processors = Array.isArray(processors) ? processors : [processors];
    this.processor = this.processors[0];
  }

  private ownerOf(type: string): Processor {
    return this.processors.find((p) => p.types.includes(type)) ?? this.processor;
  }

  readonly view: StateView = { get: <T>(key: string) => this.state.get(key) as T | undefined };

  /** Validates and applies one event; `id` and `ts` are filled in when absent. */
  apply(event: Omit<InputEvent, 'id'> & { id?: string }): Effects {
    const ev = { id: `e${++this.n}`, ...event } as InputEvent;
    const owner = this.ownerOf(ev.type);
    const error = owner.validate(ev);
    if (error) return { result: { ok: false, error } };
    const ctx = { now: this.now, eventTime: ev.ts ?? this.now };
    const effects = owner.apply(this.view, ev, ctx);
    if (effects.result.ok) {
      this.commit(effects, owner);
      const result = effects.result;
      for (const f of this.processors) {
        if (f.follows?.includes(ev.type)) this.commit(f.onFollowed!(this.view, ev, { result, changed: effects.changed ?? [] }, ctx), f);
      }
    }
    return effects;
  }

  protected commit(effects: Omit<Effects, 'result'>, owner: Processor = this.processor): void {
    for (const [k, v] of effects.writes ?? []) {
      if (v === undefined) this.state.delete(k);
      else this.state.set(k, v);
    }
    this.messages.push(...(effects.messages ?? []));
    for (const id of effects.timers?.cancel ?? []) this.timers.delete(id);
    for (const t of effects.timers?.set ?? []) {
      this.timers.set(t.id, t);
      this.timerOwners.set(t.id, owner);
    }
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
    const owner = this.timerOwners.get(due.id) ?? this.processor;
    this.commit(owner.onTimer(this.view, due, { now: this.now, eventTime: this.now }), owner);
    return true;
  }

  render(topic: string): any {
    const p = this.processors.find((x) => x.topicPrefixes.some((prefix) => topic.startsWith(prefix))) ?? this.processor;
    return p.render(this.view, topic);
  }

  /** Snapshot of every key, to prove a rejection changed nothing. */
  dump(): string {
    return JSON.stringify([...this.state].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
