// Applies a batch's items through the processors into one WriteSet: each event's effects
// (writes, changed topics, messages, timers), its answer and dedup record, and each due timer.
// Nothing here touches LMDB directly or releases anything: the engine commits and releases.

import type { DedupIndex } from './dedup.ts';
import { isPlainOk } from './dedup.ts';
import { rejection } from './errors.ts';
import { FOLLOW_TYPE, isFollowEvent, type FollowEvent } from './follow-events.ts';
import { itemPartition } from './changelog.ts';
import type { Batch, ChangesItem, DerivedItem, EventItem, FollowDraft, Item, TimerItem } from './items.ts';
import type { Outbox } from './outbox.ts';
import type { Partitions } from './partitions.ts';
import type { RemoteRouting } from './remote-partitions.ts';
import type { StateStore } from './store.ts';
import { MAX_KEY_CHARS } from './store.ts';
import { unstorable } from './storable.ts';
import { TimerQueue } from './timers.ts';
import type { TopicSeqs } from './topic-seqs.ts';
import { isPending, type Effects, type EventResult, type FinalResult, type FollowedOutcome, type InputEvent, type PendingAnswer, type Processor, type StateView } from './types.ts';

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
  for (const a of effects.answers ?? []) {
    if (typeof a?.id !== 'string' || typeof a.result !== 'object' || a.result === null) return 'an answer without an id or a result';
    const problem = unstorable(a.result);
    if (problem) return `${problem} in the answer to '${a.id}'`;
  }
  for (const e of effects.emit ?? []) {
    const problem = unstorable(e);
    if (problem) return `${problem} in a derived event`;
  }
  const problem = effects.result === undefined ? null : unstorable(effects.result);
  return problem ? `${problem} in its answer` : null;
}

/** The answer a sender gets for event `id`: a plain ok as just that, anything else with its fields. */
const answerOf = (id: string, result: FinalResult): EventResult => (isPlainOk(result) ? { id, ok: true } : { id, ...result }) as EventResult;

/** What a pending event's dedup record holds until it is answered. */
const PENDING = { pending: true };

/** 1 in 16 events has its apply timed: the top 4 bits of a 32-bit random number are all 0. */
const APPLY_SAMPLE_SHIFT = 28;
const APPLY_SAMPLE = 2 ** (32 - APPLY_SAMPLE_SHIFT);

export interface ApplierHooks {
  /** Counts one answered event by type and result (`ok` or an error code). */
  count(type: string, result: string): void;
  /** Whether changed state topics are rendered, and which (see Engine.setInterest). */
  rendering(): boolean;
  watched(topic: string): boolean;
  /** Partitions applied elsewhere, and the derived ids applied here (remote-partitions.ts). */
  remote: RemoteRouting;
  /** Applies another node's changes of a partition kept here as a copy (changelog.ts). */
  changes(batch: Batch, item: ChangesItem): void;
}

export class BatchApplier {
  /** Processors following each event type (Processor.follows), in registration order. */
  private readonly followers = new Map<string, Processor[]>();
  /** xorshift32 state choosing which events' apply is timed (see applyEvent). */
  private sampler = 0x9e3779b9;
  /** Events answered pending in this process and not yet answered: their digest and type. */
  private readonly pending = new Map<string, { digest: number; type: string }>();
  /** Events pending since before this process started, answered since (the dedup record may not be durable yet). */
  private readonly answeredSinceStart = new Set<string>();

  constructor(
    private readonly store: StateStore,
    private readonly timers: TimerQueue,
    private readonly dedup: DedupIndex,
    private readonly partitions: Partitions,
    private readonly topics: TopicSeqs,
    private readonly processors: Map<string, Processor>,
    private readonly outbox: Outbox,
    private readonly hooks: ApplierHooks,
  ) {
    const byName = new Map<string, Processor>();
    for (const p of processors.values()) {
      for (const type of p.follows ?? []) {
        const list = this.followers.get(type) ?? [];
        list.push(p);
        this.followers.set(type, list);
        byName.set(p.name, p);
      }
    }
    outbox.setFollowers(byName);
  }

  /** Applies one item of the batch: an event, a derived event, a due timer or a log position (a tick applies nothing). */
  apply(batch: Batch, item: Item, now: number): void {
    // What the item writes belongs to its partition's changelog (changelog.ts).
    if (batch.set.track) batch.set.track.current = itemPartition(item);
    if (item.kind === 'event') this.applyEvent(batch, item, now);
    else if (item.kind === 'derived') this.applyDerived(batch, item, now);
    else if (item.kind === 'timer') this.applyTimer(batch, item, now);
    else if (item.kind === 'log') this.partitions.logs.advance(item.partition, item.seq);
    else if (item.kind === 'sent') this.outbox.drop(batch.set, item.keys);
    else if (item.kind === 'changes') this.hooks.changes(batch, item);
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
    const effects = this.run(processor, event, () => processor.apply(this.store.latest, event, { eventTime, now }), item.partition);
    const result = effects.result;
    if (isPending(result)) {
      // Its answer comes from a later batch (Effects.answers); a retry meanwhile, even after a
      // restart, finds the pending record and waits for it.
      this.applyEffects(batch, item.partition, processor, effects, eventTime);
      item.pending = true;
      this.pending.set(event.id, { digest: item.digest, type: event.type });
      this.dedup.record(batch.set, event.id, item.digest, PENDING);
    } else {
      if (result.ok) {
        this.applyEffects(batch, item.partition, processor, effects, eventTime);
        this.followUp(batch, event, result, effects.changed ?? [], eventTime, item.partition);
      }
      item.result = answerOf(event.id, result);
      // A processor bug, or a field found invalid only against state (a kiosk at a warehouse),
      // applied nothing: the same id may be sent again, corrected or once the bug is fixed.
      if (result.ok || (result.error.code !== 'internal' && result.error.code !== 'invalid_event')) {
        this.dedup.record(batch.set, event.id, item.digest, result);
      }
      this.hooks.count(event.type, result.ok ? 'ok' : result.error.code);
    }
    this.partitions.advance(item.partition, started < 0 ? 0 : (performance.now() - started) * APPLY_SAMPLE);
    if (item.logSeq !== undefined) this.partitions.logs.advance(item.partition, item.logSeq);
  }

  /**
   * A derived event (Effects.emit), from this data dir's outbox or from its partition's log:
   * applied like an event, once (remote-partitions.ts), its answer kept by nobody.
   */
  applyDerived(batch: Batch, item: DerivedItem, now: number): void {
    const { remote } = this.hooks;
    if (item.logged) {
      this.partitions.logs.advance(item.partition, item.logged.seq);
      if (remote.seen(batch.set, this.dedup, item.event.id, batch.now)) {
        item.logged.duplicate = true;
        return;
      }
    } else {
      // Its partition went to another node since it was queued: it stays in the outbox, sent there.
      if (!remote.isLocal(item.partition) || !this.outbox.take(batch.set, item)) return;
      if (remote.active && remote.seen(batch.set, this.dedup, item.event.id, batch.now)) return;
    }
    if (isFollowEvent(item.event)) return this.applyFollow(batch, item, item.event, now);
    const { event, processor } = item;
    const ctx = { eventTime: event.ts ?? item.arrival, now };
    const effects = this.run(processor, event, () => processor.apply(this.store.latest, event, ctx), item.partition);
    const result = effects.result;
    if (isPending(result)) {
      console.error(`omni: ${processor.name} answered derived event '${event.id}' (${event.type}) pending; nothing of it applied`);
    } else if (result.ok) {
      this.applyEffects(batch, item.partition, processor, effects, ctx.eventTime);
      this.followUp(batch, event, result, effects.changed ?? [], ctx.eventTime, item.partition);
    }
    this.partitions.advance(item.partition, 0);
    this.hooks.count(event.type, isPending(result) ? 'internal' : result.ok ? 'ok' : result.error.code);
  }

  /**
   * Applies a processor's reaction and checks what it would store. A processor bug must not take
   * the batch (or the process) down with it: the event is answered `internal` (and counted so by
   * type), the rest of the batch goes on.
   */
  private run(processor: Processor, event: InputEvent, apply: () => Effects, partition: number): Effects {
    try {
      return this.checked(apply);
    } catch (err) {
      console.error(`omni: ${processor.name} failed on event '${event.id}' (${event.type}) in partition ${partition}; answered internal:`, err);
      return { result: rejection('internal', `event '${event.id}' could not be processed`) };
    }
  }

  /** A processor's reaction, refused (thrown) when the store or the outbox could not keep what it would. */
  private checked<T extends Partial<Effects>>(react: () => T): T {
    const effects = react();
    let problem = effectsProblem(effects);
    for (const e of effects.emit ?? []) problem ??= this.outbox.problem(e);
    if (problem) throw new Error(`it would store ${problem}`);
    return effects;
  }

  /**
   * The processors following this event's type will react to it on their own partitions
   * (follow-events.ts): it joins the follow event this batch gathers for each of them.
   */
  private followUp(batch: Batch, event: InputEvent, result: FollowedOutcome['result'], changed: readonly string[], eventTime: number, partition: number): void {
    const followers = this.followers.get(event.type);
    if (!followers) return;
    const follows = (batch.follows ??= new Map());
    for (const f of followers) {
      let target: number;
      try {
        if (f.followsWhen && !f.followsWhen(this.store.latest, event, { result, changed })) continue;
        target = this.partitions.of(f.partitionKey(event));
      } catch (err) {
        console.error(`${f.name} failed following ${event.type} '${event.id}' (its followsWhen or partitionKey threw):`, err);
        continue;
      }
      let drafts = follows.get(f);
      if (!drafts) follows.set(f, (drafts = new Map<number, FollowDraft>()));
      const slot = partition * this.partitions.count + target;
      let draft = drafts.get(slot);
      if (!draft) drafts.set(slot, (draft = { source: partition, target, followed: [] }));
      draft.followed.push([event, result, changed, eventTime]);
    }
  }

  /** Stores the follow events the batch gathered, released to their partitions with its other derived events. */
  private emitFollows(batch: Batch, follows: NonNullable<Batch['follows']>): void {
    for (const [f, drafts] of follows) {
      for (const d of drafts.values()) batch.emitted.push(this.outbox.emitFollow(batch.set, d.source, f, d.target, d.followed, batch.now));
    }
  }

  /** A follower reacts, on its partition, to each followed event its follow event carries, in order. */
  private applyFollow(batch: Batch, item: DerivedItem, follow: FollowEvent, applyNow: number): void {
    const f = item.processor;
    const now = follow.now ?? applyNow;
    for (const [event, result, changed, eventTime] of follow.followed) {
      let effects: Omit<Effects, 'result'>;
      try {
        effects = this.checked(() => f.onFollowed!(this.store.latest, event, { result, changed }, { eventTime, now }));
      } catch (err) {
        // The owner's answer stands; a follower's bug loses only that follower's reaction.
        console.error(`${f.name} failed following ${event.type} '${event.id}':`, err);
        continue;
      }
      this.applyEffects(batch, item.partition, f, effects, eventTime);
    }
    this.partitions.advance(item.partition, 0);
    this.hooks.count(FOLLOW_TYPE, 'ok');
  }

  applyTimer(batch: Batch, item: TimerItem, now: number): void {
    // Cancelled or replaced since it was taken: the newer state wins.
    if (this.timers.get(item.key) !== item.rec) return;
    this.timers.cancel(batch.set, item.key);
    const processor = this.processors.get(item.rec.processor);
    if (!processor) return;
    let effects: Omit<Effects, 'result'>;
    try {
      effects = this.checked(() => processor.onTimer(this.store.latest, item.rec, { eventTime: now, now }));
    } catch (err) {
      console.error(`timer ${item.key} failed:`, err);
      return;
    }
    // Every loaded timer has its partition (TimerQueue.load gives old ones theirs).
    this.applyEffects(batch, item.rec.partition ?? 0, processor, effects, now);
  }

  /** Effects of something applied on `partition`: what it emits and the timers it sets belong there. */
  private applyEffects(batch: Batch, partition: number, processor: Processor, effects: Omit<Effects, 'result'>, ts: number): void {
    const set = batch.set;
    if (effects.writes) for (const [key, value] of effects.writes) this.store.write(set, key, value);
    if (effects.changed) {
      for (const topic of effects.changed) {
        set.track?.changed(topic);
        const oldest = batch.changed.get(topic);
        if (oldest === undefined || ts < oldest) batch.changed.set(topic, ts);
      }
    }
    if (effects.redactAnswers) {
      for (const id of effects.redactAnswers) {
        const kept = this.dedup.lookup(id, batch.now);
        // An entry from before digests were kept has none to keep: left as it is.
        if (kept?.digest !== undefined && kept.answer.pending !== true) this.dedup.record(set, id, kept.digest, { ok: true, redacted: true });
      }
    }
    // As for a message: the seq of the processor applying it (event topics have no owner by prefix).
    if (effects.restart) for (const topic of effects.restart) this.topics.restart(batch, processor, topic);
    if (effects.scrub) {
      const values = typeof effects.scrub === 'object' ? effects.scrub.values : [];
      batch.scrub = true;
      (batch.scrubValues ??= []).push(...values);
      set.track?.scrub(values);
    }
    if (effects.messages) {
      for (const m of effects.messages) {
        batch.outputs.push({ topic: m.topic, seq: this.topics.next(batch, processor, m.topic), data: m.data, ts });
      }
    }
    if (effects.timers) {
      for (const id of effects.timers.cancel ?? []) this.timers.cancel(set, TimerQueue.key(processor.name, id));
      for (const t of effects.timers.set ?? []) this.timers.set(set, { at: t.at, processor: processor.name, id: t.id, data: t.data, partition });
    }
    if (effects.emit) for (const e of effects.emit) batch.emitted.push(this.outbox.emit(set, partition, e, ts));
    if (effects.answers) for (const a of effects.answers) this.answer(batch, a, partition, ts);
  }

  /**
   * Finishes an event left pending: its dedup record becomes the answer, which its sender gets
   * once this batch is durable, and its followers react to it on their partitions, a commit later. An answer to an event that is not
   * pending (answered already, by a stale step of a saga) is dropped.
   */
  private answer(batch: Batch, a: PendingAnswer, partition: number, ts: number): void {
    let first = this.pending.get(a.id);
    if (first) this.pending.delete(a.id);
    else if (!this.answeredSinceStart.has(a.id)) {
      // Pending since before this process started: its record says so. It is answered on its own
      // partition, but the record may be another engine thread's, kept when the process ran with
      // another thread count (DedupIndex.lookup reads them all, an answer before a pending).
      // Looked up at the clock, as the intake does: `ts` is an event time, which a sender sets.
      const stored = this.dedup.lookup(a.id, batch.now);
      if (stored === undefined && this.hooks.remote.active) {
        // The event was taken on another node (its partition's, or one it moved from): the
        // answer goes there (RemotePartitions.answered). Its record there stays pending: see
        // docs/architecture.md ("Past one machine").
        (batch.foreignAnswers ??= []).push(answerOf(a.id, a.result));
      }
      if (stored?.answer.pending !== true) return;
      this.answeredSinceStart.add(a.id);
      first = { digest: stored.digest ?? 0, type: a.event?.type ?? 'unknown' };
    } else return;
    const result: FinalResult = a.result;
    this.dedup.record(batch.set, a.id, first.digest, result);
    batch.answers.push({ id: a.id, result: answerOf(a.id, result) });
    this.hooks.count(first.type, result.ok ? 'ok' : result.error.code);
    if (result.ok && a.event) this.followUp(batch, a.event, result, [], a.event.ts ?? ts, partition);
  }

  /**
   * Ends the batch's apply phase. State topics get one update per batch: the state after all
   * of its events. Its seq always moves; its data is rendered only when someone listens to the
   * topic, so a listener sees a seq gap for topics it did not watch.
   */
  finishApply(batch: Batch): void {
    if (batch.follows) this.emitFollows(batch, batch.follows);
    const rendering = this.hooks.rendering();
    for (const [topic, ts] of batch.changed) {
      const processor = this.topics.processorFor(topic);
      if (!processor) continue;
      const seq = this.topics.next(batch, processor, topic, true);
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
    // Restarted (an erasure) and now showing nothing: still sent, as a snapshot of nothing, so the
    // push layer's history starts over and a subscriber resuming from before gets a snapshot
    // rather than an empty replay that would leave it showing the erased customer.
    else if (batch.restarted?.has(topic) === true) batch.outputs.push({ topic, seq, data: null, ts, snapshot: true });
  }
}
