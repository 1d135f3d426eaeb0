// Runs processors without I/O: a Map is the state, effects are applied the way the engine's
// batch applier applies them (only when the result is ok or pending), timers are kept in a Map
// and fired by hand, and derived events (Effects.emit) wait in a queue applied oldest first — by
// default until none is left, before `apply` returns, so a saga's pending event comes back with
// its final answer. A follower reacts as in the engine, through a follow event queued after the
// event it follows (follow-events.ts): here one per followed event, as the runner has no batches. For tests of the pure domains and for
// benchmarks of their apply cost; the first processor is the one under test (`processor`).

import { isEventError, readEvent, unknownType } from './event-builder.ts';
import { FOLLOW_TYPE, isFollowEvent, type FollowEvent } from './follow-events.ts';
import { isPending, type Effects, type FinalResult, type InputEvent, type Processor, type StateView, type TimerSpec } from './types.ts';

export interface PureRunnerOptions {
  /** Keep every event-topic message in `messages` (default true; a long benchmark turns it off). */
  keepMessages?: boolean;
  /** Sees every step applied with its effects (kept or not), for checks across a whole saga. */
  onStep?: (step: AppliedStep) => void;
}

/** One thing the runner applied, and the key whose partition the engine would apply it on. */
export interface AppliedStep {
  kind: 'event' | 'derived' | 'timer' | 'follow';
  processor: Processor;
  /**
   * The event's partitionKey; for a timer, the key of what set it (timers fire on the partition
   * that set them); for a follower's reaction, the follower's key for the event it follows.
   */
  key: string;
  event?: InputEvent;
  timer?: TimerSpec;
  effects: Partial<Effects>;
}

export class PureRunner {
  readonly state = new Map<string, unknown>();
  readonly timers = new Map<string, TimerSpec>();
  readonly messages: Array<{ topic: string; data: unknown }> = [];
  /** Derived events emitted and not applied yet, oldest first; follow events (`$follow`) among them. */
  readonly queue: InputEvent[] = [];
  /** The final answers of events answered pending, by event id, as their answers came. */
  readonly answers = new Map<string, FinalResult>();
  /**
   * Apply every derived event before `apply`, `applyValid` and `fire` return (default). Off, they
   * wait in `queue` for `step()` or `drain()`: for tests of what arrives while a saga is under way.
   */
  autoDrain = true;
  now = 1_000_000;
  private n = 0;
  private follows = 0;

  readonly processor: Processor;
  private readonly processors: Processor[];
  private readonly keepMessages: boolean;
  private readonly onStep: PureRunnerOptions['onStep'];
  /** Which processor set each timer, and the key of the step that set it (timers are keyed by id, as the tests read them). */
  private readonly timerOwners = new Map<string, { processor: Processor; key: string }>();
  /** Events answered pending and not answered yet: a second answer to one is dropped, as the engine drops it. */
  private readonly pendingIds = new Set<string>();

  constructor(processors: Processor | Processor[], options: PureRunnerOptions = {}) {
    this.processors = Array.isArray(processors) ? processors : [processors];
    this.processor = this.processors[0];
    this.keepMessages = options.keepMessages ?? true;
    this.onStep = options.onStep;
  }

  /** The processor that owns an event type, internal ones included (the first one, for a type nobody owns). */
  ownerOf(type: string): Processor {
    return this.processors.find((p) => p.types.includes(type) || p.internalTypes?.includes(type)) ?? this.processor;
  }

  readonly view: StateView = { get: <T>(key: string) => this.state.get(key) as T | undefined };

  /**
   * Validates and applies one event as a sender's (`id` is filled in when absent): an internal
   * type is refused, as the engine refuses it from outside.
   */
  apply(event: Omit<InputEvent, 'id'> & { id?: string }): Effects {
    const senderOwner = (type: string) => this.processors.find((p) => p.types.includes(type));
    const built = readEvent(senderOwner, { id: `e${++this.n}`, ...event });
    if (isEventError(built)) return { result: { ok: false, error: built } };
    return this.applyValid(built);
  }

  /**
   * Applies an event already validated (the engine validates at submit, before batching), then —
   * with autoDrain — every derived event. A pending answer is replaced by the final one once
   * given. Also how a test injects a derived event (a stale reply) as the engine would apply it.
   */
  applyValid(ev: InputEvent): Effects {
    const owner = this.processors.find((p) => p.types.includes(ev.type));
    if (!owner && !isFollowEvent(ev) && !this.processors.some((p) => p.internalTypes?.includes(ev.type))) {
      return { result: { ok: false, error: unknownType(ev.type) } };
    }
    const effects = this.applyEvent(ev, owner ? 'event' : 'derived');
    if (this.autoDrain) this.drain();
    const final = this.answers.get(ev.id);
    return isPending(effects.result) && final ? { ...effects, result: final } : effects;
  }

  /** Applies derived events, oldest first, until none is left; returns how many. */
  drain(): number {
    let applied = 0;
    while (this.step()) applied++;
    return applied;
  }

  /** Applies the oldest derived event; false when none waits. */
  step(): boolean {
    const ev = this.queue.shift();
    if (!ev) return false;
    this.applyEvent(ev, 'derived');
    return true;
  }

  private applyEvent(ev: InputEvent, kind: 'event' | 'derived'): Effects {
    if (isFollowEvent(ev)) return this.applyFollow(ev);
    const owner = this.ownerOf(ev.type);
    const ctx = { now: this.now, eventTime: ev.ts ?? this.now };
    const effects = owner.apply(this.view, ev, ctx);
    const key = owner.partitionKey(ev);
    this.onStep?.({ kind, processor: owner, key, event: ev, effects });
    const result = effects.result;
    if (isPending(result)) {
      if (kind === 'derived') throw new Error(`${owner.name} answered derived event '${ev.id}' (${ev.type}) pending`);
      this.pendingIds.add(ev.id);
      this.commit(effects, owner, key);
    } else if (result.ok) {
      this.commit(effects, owner, key);
      this.follow(ev, result, effects.changed ?? []);
    }
    return effects;
  }

  /** The processors following the event's type will react to it (its owner applied it ok): queued. */
  private follow(ev: InputEvent, result: FinalResult & { ok: true }, changed: readonly string[]): void {
    for (const f of this.processors) {
      if (!f.follows?.includes(ev.type)) continue;
      if (f.followsWhen && !f.followsWhen(this.view, ev, { result, changed })) continue;
      const follow: FollowEvent = { id: `${FOLLOW_TYPE}/${++this.follows}`, type: FOLLOW_TYPE, follower: f.name, followed: [[ev, result, changed, ev.ts ?? this.now]] };
      this.queue.push(follow);
    }
  }

  private applyFollow(follow: FollowEvent): Effects {
    const f = this.processors.find((p) => p.name === follow.follower)!;
    for (const [ev, result, changed, eventTime] of follow.followed) {
      const effects = f.onFollowed!(this.view, ev, { result, changed }, { now: this.now, eventTime });
      const key = f.partitionKey(ev);
      this.onStep?.({ kind: 'follow', processor: f, key, event: ev, effects });
      this.commit(effects, f, key);
    }
    return { result: { ok: true } };
  }

  protected commit(effects: Omit<Effects, 'result'>, owner: Processor, key = ''): void {
    for (const [k, v] of effects.writes ?? []) {
      if (v === undefined) this.state.delete(k);
      else this.state.set(k, v);
    }
    if (this.keepMessages && effects.messages) this.messages.push(...effects.messages);
    for (const id of effects.timers?.cancel ?? []) this.timers.delete(id);
    for (const t of effects.timers?.set ?? []) {
      this.timers.set(t.id, t);
      this.timerOwners.set(t.id, { processor: owner, key });
    }
    if (effects.emit) this.queue.push(...effects.emit);
    for (const a of effects.answers ?? []) {
      if (!this.pendingIds.delete(a.id)) continue;
      this.answers.set(a.id, a.result);
      if (a.result.ok && a.event) this.follow(a.event, a.result, []);
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

  /** Fires one pending timer now, whatever its due time, then (with autoDrain) what it emitted. */
  fire(id: string): Omit<Effects, 'result'> {
    const timer = this.timers.get(id);
    if (!timer) throw new Error(`no pending timer '${id}'`);
    this.timers.delete(id);
    const { processor: owner, key } = this.timerOwners.get(id) ?? { processor: this.processor, key: '' };
    const effects = owner.onTimer(this.view, timer, { now: this.now, eventTime: this.now });
    this.onStep?.({ kind: 'timer', processor: owner, key, timer, effects });
    this.commit(effects, owner, key);
    if (this.autoDrain) this.drain();
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
