// The service processor on an in-memory view, applied the way the engine's batch applier does
// (engine/batch-applier.ts): processor.apply or onTimer, then — only when the result is ok — its
// writes into the state, its timer sets and cancels into the timer table, and the followers'
// reactions (the customer domain's to a new request). Each call is timed
// around exactly that, so a figure is one routing decision's apply cost without LMDB.

import type { InputEvent, Processor, StateView } from '../engine/mod.ts';
import { defaultProcessors } from '../engine/mod.ts';

type Effects = ReturnType<Processor['apply']>;

interface Timer {
  id: string;
  at: number;
  data: unknown;
}

export interface Applied {
  effects: Omit<Effects, 'result'> & { result?: Effects['result'] };
  /** processor.apply (or onTimer) plus applying its effects, in nanoseconds. */
  ns: number;
}

/** The clock moves 1 ms every this many events (~16,000 events/s of simulated time). */
const EVENTS_PER_MS = 16;

export class PureServiceView {
  readonly state = new Map<string, unknown>();
  readonly timers = new Map<string, Timer>();
  readonly processor: Processor;
  readonly view: StateView = { get: <T>(key: string) => this.state.get(key) as T | undefined };
  now: number;
  private applied = 0;

  /** Every processor `omni serve` runs: profiles are the customer domain's, and it follows requests. */
  private readonly processors = defaultProcessors();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.now = start;
    this.processor = this.processors.find((p) => p.name === 'service')!;
  }

  /** Validates (untimed: the engine does it at submit), then applies one event, timed. */
  apply(ev: InputEvent): Applied {
    const owner = this.processors.find((p) => p.types.includes(ev.type)) ?? this.processor;
    const error = owner.validate(ev);
    if (error) return { effects: { result: { ok: false, error } }, ns: 0 };
    this.tick();
    const ctx = { now: this.now, eventTime: this.now };
    const t0 = process.hrtime.bigint();
    const effects = owner.apply(this.view, ev, ctx);
    if (effects.result.ok) {
      this.commit(effects);
      // Followers react in the same batch in the engine, so their cost is part of the decision.
      const result = effects.result;
      for (const f of this.processors) {
        if (f.follows?.includes(ev.type)) this.commit(f.onFollowed!(this.view, ev, { result, changed: effects.changed ?? [] }, ctx));
      }
    }
    return { effects, ns: Number(process.hrtime.bigint() - t0) };
  }

  /**
   * Fires one pending timer, timed. It fires at the view's clock, not its due time: waiting
   * out a 15 s offer per sample would run the simulated clock past every SLA, and the
   * decision does the same work either way (the processor checks the offer, not the time).
   */
  fire(id: string): Applied {
    const timer = this.timers.get(id);
    if (!timer) throw new Error(`no pending timer '${id}'`);
    this.tick();
    const t0 = process.hrtime.bigint();
    this.timers.delete(id);
    const effects = this.processor.onTimer(this.view, timer, { now: this.now, eventTime: this.now });
    this.commit(effects);
    return { effects, ns: Number(process.hrtime.bigint() - t0) };
  }

  /** Applies an event that must be accepted (setup and bookkeeping). */
  must(ev: InputEvent): Applied {
    const a = this.apply(ev);
    if (!a.effects.result?.ok) throw new Error(`${ev.type} refused: ${JSON.stringify(a.effects.result)}`);
    return a;
  }

  private tick(): void {
    if (++this.applied % EVENTS_PER_MS === 0) this.now++;
  }

  private commit(effects: Omit<Effects, 'result'>): void {
    for (const [k, v] of effects.writes ?? []) {
      if (v === undefined) this.state.delete(k);
      else this.state.set(k, v);
    }
    for (const id of effects.timers?.cancel ?? []) this.timers.delete(id);
    for (const t of effects.timers?.set ?? []) this.timers.set(t.id, t);
  }
}
