// Runs processors without I/O: a Map is the state, effects are applied the way the engine's
// batch applier applies them (only when the result is ok, then each follower's reaction),
// timers are kept in a Map and fired by hand. For tests of the pure domains and for benchmarks
// of their apply cost; the first processor is the one under test (`processor`).

import { isEventError, readEvent } from './event-builder.ts';
import type { Effects, InputEvent, Processor, StateView, TimerSpec } from './types.ts';

export interface PureRunnerOptions {
  /** Keep every event-topic message in `messages` (default true; a long benchmark turns it off). */
  keepMessages?: boolean;
}

export class PureRunner {
  readonly state = new Map<string, unknown>();
  readonly timers = new Map<string, TimerSpec>();
  readonly messages: Array<{ topic: string; data: unknown }> = [];
  now = 1_000_000;
  private n = 0;

  readonly processor: Processor;
  private readonly processors: Processor[];
  private readonly keepMessages: boolean;
  /** Which processor set each timer (timers are keyed by id, as the tests read them). */
  private readonly timerOwners = new Map<string, Processor>();

  constructor(processors: Processor | Processor[], options: PureRunnerOptions = {}) {
    this.processors = Array.isArray(processors) ? processors : [processors];
    this.processor = this.processors[0];
    this.keepMessages = options.keepMessages ?? true;
  }

  /** The processor that owns an event type (the first one, for a type nobody owns). */
  ownerOf(type: string): Processor {
    return this.processors.find((p) => p.types.includes(type)) ?? this.processor;
  }

  readonly view: StateView = { get: <T>(key: string) => this.state.get(key) as T | undefined };

  /** Validates and applies one event; `id` and `ts` are filled in when absent. */
  apply(event: Omit<InputEvent, 'id'> & { id?: string }): Effects {
    const built = readEvent((type) => this.ownerOf(type), { id: `e${++this.n}`, ...event });
    if (isEventError(built)) return { result: { ok: false, error: built } };
    return this.applyValid(built);
  }

  /** Applies an event already validated (the engine validates at submit, before batching). */
  applyValid(ev: InputEvent): Effects {
    const owner = this.ownerOf(ev.type);
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

  protected commit(effects: Omit<Effects, 'result'>, owner: Processor): void {
    for (const [k, v] of effects.writes ?? []) {
      if (v === undefined) this.state.delete(k);
      else this.state.set(k, v);
    }
    if (this.keepMessages && effects.messages) this.messages.push(...effects.messages);
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
    this.fire(due.id);
    return true;
  }

  /** Fires one pending timer now, whatever its due time. */
  fire(id: string): Omit<Effects, 'result'> {
    const timer = this.timers.get(id);
    if (!timer) throw new Error(`no pending timer '${id}'`);
    this.timers.delete(id);
    const owner = this.timerOwners.get(id) ?? this.processor;
    const effects = owner.onTimer(this.view, timer, { now: this.now, eventTime: this.now });
    this.commit(effects, owner);
    return effects;
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
