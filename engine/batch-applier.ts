// Applies a batch's items through the processors into one WriteSet: each event's effects
// (writes, changed topics, messages, timers), its answer and dedup record, and each due timer.
// Nothing here touches LMDB directly or releases anything: the engine commits and releases.

import type { DedupIndex } from './dedup.ts';
import { isPlainOk } from './dedup.ts';
import { rejection } from './errors.ts';
import type { Batch, EventItem, TimerItem } from './items.ts';
import type { Partitions } from './partitions.ts';
import type { StateStore } from './store.ts';
import { MAX_KEY_CHARS } from './store.ts';
import { unstorable } from './storable.ts';
import { TimerQueue } from './timers.ts';
import type { TopicSeqs } from './topic-seqs.ts';
import type { Effects, EventContext, EventResult, FollowedOutcome, Processor, StateView } from './types.ts';

/**
 * What in these effects the store or an answer could not encode (storable.ts), or null: the
 * writes (and their keys), timers, messages and the result, which is kept with the event's id.
 */
function effectsProblem(effects: Partial<Effects>): string | null {
  if (effects.writes) {
    for (const [key, value] of effects.writes) {
      if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_CHARS) return `a key of ${String(key).length} characters`;
      const problem = value === undefined ? null : unstorable(value);
      if (problem) return `${problem} at '${key}'`;
    }
  }
  for (const t of effects.timers?.set ?? []) {
    const problem = t.data === undefined ? null : unstorable(t.data);
    if (problem) return `${problem} in timer '${t.id}'`;
  }
  for (const m of effects.messages ?? []) {
    const problem = unstorable(m.data);
    if (problem) return `${problem} in a message on '${m.topic}'`;
  }
  const problem = effects.result === undefined ? null : unstorable(effects.result);
  return problem ? `${problem} in its answer` : null;
}

/** 1 in 16 events has its apply timed: the top 4 bits of a 32-bit random number are all 0. */
const APPLY_SAMPLE_SHIFT = 28;
const APPLY_SAMPLE = 2 ** (32 - APPLY_SAMPLE_SHIFT);

export interface ApplierHooks {
  /** Counts one answered event by type and result (`ok` or an error code). */
  count(type: string, result: string): void;
  /** Whether changed state topics are rendered, and which (see Engine.setInterest). */
  rendering(): boolean;
  watched(topic: string): boolean;
}

export class BatchApplier {
  /** Processors following each event type (Processor.follows), in registration order. */
  private readonly followers = new Map<string, Processor[]>();
  /** xorshift32 state choosing which events' apply is timed (see applyEvent). */
  private sampler = 0x9e3779b9;

  constructor(
    private readonly store: StateStore,
    private readonly timers: TimerQueue,
    private readonly dedup: DedupIndex,
    private readonly partitions: Partitions,
    private readonly topics: TopicSeqs,
    private readonly processors: Map<string, Processor>,
    private readonly hooks: ApplierHooks,
  ) {
    for (const p of processors.values()) {
      for (const type of p.follows ?? []) {
        const list = this.followers.get(type) ?? [];
        list.push(p);
        this.followers.set(type, list);
      }
    }
  }

  applyEvent(batch: Batch, item: EventItem, now: number): void {
    // Per-partition apply time (Engine.stats). Two clock reads around every event cost a large
    // share of a cheap event's apply (measured in docs/architecture.md, "Partitions"), so 1 event
    // in APPLY_SAMPLE is timed and counted APPLY_SAMPLE times; chosen at random, so keys sent in a
    // repeating pattern cannot line up with it.
    let x = this.sampler;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.sampler = x;
    const started = x >>> APPLY_SAMPLE_SHIFT === 0 ? performance.now() : -1;
    const { event, processor } = item;
    const eventTime = event.ts ?? item.arrival;
    let effects: Effects;
    try {
      effects = processor.apply(this.store.latest, event, { eventTime, now });
      const problem = effectsProblem(effects);
      if (problem) throw new Error(`it would store ${problem}`);
    } catch (err) {
      // A processor bug must not take the batch (or the process) down with it: this event is
      // answered `internal` (and counted so by type), the rest of the batch goes on.
      console.error(`omni: ${processor.name} failed on event '${event.id}' (${event.type}); answered internal:`, err);
      effects = { result: rejection('internal', `event '${event.id}' could not be processed`) };
    }
    const result = effects.result;
    if (result.ok) {
      this.applyEffects(batch, processor, effects, eventTime);
      const followers = this.followers.get(event.type);
      if (followers) this.follow(batch, followers, event, { result, changed: effects.changed ?? [] }, { eventTime, now });
    }
    item.result = (isPlainOk(result) ? { id: event.id, ok: true } : { id: event.id, ...result }) as EventResult;
    // A processor bug, or a field found invalid only against state (a kiosk at a warehouse),
    // applied nothing: the same id may be sent again, corrected or once the bug is fixed.
    if (result.ok || (result.error.code !== 'internal' && result.error.code !== 'invalid_event')) {
      this.dedup.record(batch.set, event.id, item.digest, result);
    }
    this.partitions.advance(item.partition, started < 0 ? 0 : (performance.now() - started) * APPLY_SAMPLE);
    this.hooks.count(event.type, result.ok ? 'ok' : result.error.code);
  }

  private follow(batch: Batch, followers: Processor[], event: EventItem['event'], outcome: FollowedOutcome, ctx: EventContext): void {
    for (const f of followers) {
      let effects: Omit<Effects, 'result'>;
      try {
        effects = f.onFollowed!(this.store.latest, event, outcome, ctx);
        const problem = effectsProblem(effects);
        if (problem) throw new Error(`it would store ${problem}`);
      } catch (err) {
        // The owner's answer stands; a follower's bug loses only that follower's reaction.
        console.error(`${f.name} failed following ${event.type} '${event.id}':`, err);
        continue;
      }
      this.applyEffects(batch, f, effects, ctx.eventTime);
    }
  }

  applyTimer(batch: Batch, item: TimerItem, now: number): void {
    // Cancelled or replaced since it was taken: the newer state wins.
    if (this.timers.get(item.key) !== item.rec) return;
    this.timers.cancel(batch.set, item.key);
    const processor = this.processors.get(item.rec.processor);
    if (!processor) return;
    let effects: Omit<Effects, 'result'>;
    try {
      effects = processor.onTimer(this.store.latest, item.rec, { eventTime: now, now });
      const problem = effectsProblem(effects);
      if (problem) throw new Error(`it would store ${problem}`);
    } catch (err) {
      console.error(`timer ${item.key} failed:`, err);
      return;
    }
    this.applyEffects(batch, processor, effects, now);
  }

  private applyEffects(batch: Batch, processor: Processor, effects: Omit<Effects, 'result'>, ts: number): void {
    const set = batch.set;
    if (effects.writes) for (const [key, value] of effects.writes) this.store.write(set, key, value);
    if (effects.changed) {
      for (const topic of effects.changed) {
        const oldest = batch.changed.get(topic);
        if (oldest === undefined || ts < oldest) batch.changed.set(topic, ts);
      }
    }
    if (effects.messages) {
      for (const m of effects.messages) {
        batch.outputs.push({ topic: m.topic, seq: this.topics.next(batch, processor, m.topic), data: m.data, ts });
      }
    }
    if (effects.timers) {
      for (const id of effects.timers.cancel ?? []) this.timers.cancel(set, TimerQueue.key(processor.name, id));
      for (const t of effects.timers.set ?? []) this.timers.set(set, { at: t.at, processor: processor.name, id: t.id, data: t.data });
    }
  }

  /**
   * Ends the batch's apply phase. State topics get one update per batch: the state after all
   * of its events. Its seq always moves; its data is rendered only when someone listens to the
   * topic, so a listener sees a seq gap for topics it did not watch.
   */
  finishApply(batch: Batch): void {
    const rendering = this.hooks.rendering();
    for (const [topic, ts] of batch.changed) {
      const processor = this.topics.processorFor(topic);
      if (!processor) continue;
      const seq = this.topics.next(batch, processor, topic);
      if (!rendering) continue;
      if (this.hooks.watched(topic)) {
        this.render(batch, processor, this.store.latest, topic, seq, ts);
        continue;
      }
      const u = (batch.unrendered ??= { topics: [], seqs: [], ts: [] });
      u.topics.push(topic);
      u.seqs.push(seq);
      u.ts.push(ts);
    }
    this.topics.flush(batch);
    this.partitions.flush(batch.set);
  }

  /**
   * At release: renders the topics someone started watching between this batch's apply and its
   * release, from the durable view (then exactly the state after this batch), so a subscriber
   * that arrived in that window sees no seq gap.
   */
  renderLateWatched(batch: Batch): void {
    const { topics, seqs, ts } = batch.unrendered!;
    for (let i = 0; i < topics.length; i++) {
      const processor = this.topics.processorFor(topics[i]);
      if (processor && this.hooks.watched(topics[i])) this.render(batch, processor, this.store.durable, topics[i], seqs[i], ts[i]);
    }
  }

  private render(batch: Batch, processor: Processor, view: StateView, topic: string, seq: number, ts: number): void {
    let data: unknown;
    try {
      data = processor.render(view, topic);
      const problem = data === undefined ? null : unstorable(data);
      if (problem) throw new Error(`it would send ${problem}`);
    } catch (err) {
      // A render bug loses this update only (its seq still moves: a subscriber sees a jump, as
      // for a conflated state topic, and a snapshot gives it the state).
      console.error(`omni: ${processor.name} failed rendering '${topic}'; update skipped:`, err);
      return;
    }
    if (data !== undefined) batch.outputs.push({ topic, seq, data, ts });
  }
}
