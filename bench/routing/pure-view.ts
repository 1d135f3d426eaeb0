// The service processor on the engine's pure runner (engine/pure-runner.ts: apply or onTimer,
// then — only when the result is ok — its effects and the followers' reactions, as the batch
// applier does). Each call is timed around exactly that, so a figure is one routing decision's
// apply cost without LMDB.

import { defaultProcessors, isEventError, PureRunner, readEvent, type InputEvent, type Processor } from '../../engine/mod.ts';

type Effects = ReturnType<Processor['apply']>;

export interface Applied {
  effects: Omit<Effects, 'result'> & { result?: Effects['result'] };
  /** processor.apply (or onTimer) plus applying its effects, in nanoseconds. */
  ns: number;
}

/** The clock moves 1 ms every this many events (~16,000 events/s of simulated time). */
const EVENTS_PER_MS = 16;

/** Every processor `omni serve` runs (profiles are the customer domain's, and it follows requests), service first. */
function serviceFirst(): Processor[] {
  const all = defaultProcessors();
  return [all.find((p) => p.name === 'service')!, ...all.filter((p) => p.name !== 'service')];
}

export class PureServiceView {
  // Messages are not kept: 20,000 cycles of offers would only grow the heap.
  private readonly runner = new PureRunner(serviceFirst(), { keepMessages: false });
  private applied = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.runner.now = start;
  }

  get view() {
    return this.runner.view;
  }

  /** Validates (untimed: the engine does it at submit), then applies one event, timed. */
  apply(ev: InputEvent): Applied {
    const built = readEvent((type) => this.runner.ownerOf(type), ev);
    if (isEventError(built)) return { effects: { result: { ok: false, error: built } }, ns: 0 };
    this.tick();
    const t0 = process.hrtime.bigint();
    const effects = this.runner.applyValid(built);
    return { effects, ns: Number(process.hrtime.bigint() - t0) };
  }


  /**
   * Fires one pending timer, timed. It fires at the view's clock, not its due time: waiting
   * out a 15 s offer per sample would run the simulated clock past every SLA, and the
   * decision does the same work either way (the processor checks the offer, not the time).
   */
  fire(id: string): Applied {
    if (!this.runner.timers.has(id)) throw new Error(`no pending timer '${id}'`);
    this.tick();
    const t0 = process.hrtime.bigint();
    const effects = this.runner.fire(id);
    return { effects, ns: Number(process.hrtime.bigint() - t0) };
  }

  /** Applies an event that must be accepted (setup and bookkeeping). */
  must(ev: InputEvent): Applied {
    const a = this.apply(ev);
    if (!a.effects.result?.ok) throw new Error(`${ev.type} refused: ${JSON.stringify(a.effects.result)}`);
    return a;
  }

  private tick(): void {
    if (++this.applied % EVENTS_PER_MS === 0) this.runner.now++;
  }
}
