// Topics → subscribers, and the recent history of each watched topic. The hub tells the engine
// which state topics to render (those with subscribers or kept history), takes every durable
// batch of outputs, keeps them for resuming clients and hands each subscriber the updates it has
// not seen yet. Snapshots read durable state and outputs arrive synchronously after the commit
// that made them durable, so "never send an update with seq ≤ the snapshot's" is all it takes
// for a stream without duplicates or holes. A guard (ws/request-guard.ts) may end a subscription
// when an update shows the subscriber may no longer read the topic.

import type { Output } from '../../engine/mod.ts';
import { Budget } from '../budget.ts';
import type { PushEngine } from './engine-port.ts';
import type { WsLimits } from './limits.ts';
import { OutMessage, updateMessage } from './out-message.ts';
import { TopicHistory } from './topic-history.ts';
import { isStateTopic } from './topic-kind.ts';

/** One side of a subscription: a connection that queues messages and sends them later. */
export interface Subscriber {
  /** Queues a message; must not send or close (the hub is iterating its maps). */
  push(message: OutMessage): void;
  /** Sends what was queued (called after each batch for each subscriber that got something, and before a state topic's second update in one batch). */
  flush(): void;
  /** Connected without a token: its subscriptions also draw on the anonymous budget. */
  readonly anonymous?: boolean;
}

export interface HubCounters {
  historyHit(): void;
  historyMiss(): void;
}

/**
 * Read permissions that an update itself can end (an agent reads `request/<id>` only while it
 * is assigned the request): checked for each subscriber an update of a covered topic reaches,
 * right after it is queued, so the update that ends the right is the last one delivered.
 */
export interface SubscriptionGuard<S extends Subscriber> {
  /** Whether updates of this topic can end a subscription; only those are checked. */
  covers(topic: string): boolean;
  /** False ends the subscriber's subscription to `topic`, after `data`. */
  mayKeep(subscriber: S, topic: string, data: unknown): boolean;
  /** Told once the hub has ended a subscription, after the `data` mayKeep refused, so the subscriber can tell its client why. */
  ended(subscriber: S, topic: string, data: unknown): void;
}

interface TopicEntry<S> {
  /** Each subscriber with the last seq it was given (snapshot or update). */
  subscribers: Map<S, { after: number }>;
  history: TopicHistory;
  /** When the last subscriber left (the history is kept for a grace period). */
  idleSince: number | undefined;
}

export class TopicHub<S extends Subscriber = Subscriber> {
  readonly #topics = new Map<string, TopicEntry<S>>();
  /**
   * The topics nobody subscribes to, longest idle first (a Map keeps insertion order and a
   * topic is re-inserted when it goes idle again): sweeping, shedding and the topic bound take
   * from its front instead of scanning every topic.
   */
  readonly #idle = new Map<string, TopicEntry<S>>();
  #historyBytes = 0;
  readonly #countHistory = (delta: number): void => {
    this.#historyBytes += delta;
  };
  /**
   * Subscriptions over all subscribers, and those of anonymous ones: server-wide budgets (the
   * per-connection cap is the session's). Taken in subscribe, given back in #left, both keyed on
   * a subscriber's membership of a topic, so each is given back exactly once.
   */
  readonly subscriptionBudget: Budget;
  readonly anonymousSubscriptionBudget: Budget;
  readonly #stopOutputs: () => void;
  readonly #sweeper: NodeJS.Timeout;

  constructor(
    private readonly engine: PushEngine,
    private readonly limits: WsLimits,
    private readonly counters: HubCounters,
    private readonly now: () => number = Date.now,
    private readonly guard?: SubscriptionGuard<S>,
  ) {
    this.subscriptionBudget = new Budget('subscriptions', limits.maxTotalSubscriptions);
    this.anonymousSubscriptionBudget = new Budget('anonymous_subscriptions', limits.maxAnonymousSubscriptions);
    engine.setInterest((topic) => this.#topics.has(topic));
    this.#stopOutputs = engine.onOutput((outputs) => this.#onOutputs(outputs));
    this.#sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.min(limits.historyGraceMs / 4, 10_000)));
    this.#sweeper.unref();
  }

  get subscriptions(): number {
    return this.subscriptionBudget.inUse;
  }

  get historyBytes(): number {
    return this.#historyBytes;
  }

  get topicCount(): number {
    return this.#topics.size;
  }

  /**
   * Whether one more subscription of `subscriber` fits the server-wide budgets: undefined when
   * it does, else the budget that is spent (its refusal counted). Call before subscribe() for a
   * topic the subscriber does not hold yet; subscribe() itself never refuses.
   */
  admit(subscriber: S): Budget | undefined {
    if (subscriber.anonymous === true && !this.anonymousSubscriptionBudget.admits(1)) return this.anonymousSubscriptionBudget;
    if (!this.subscriptionBudget.admits(1)) return this.subscriptionBudget;
    return undefined;
  }

  /**
   * Registers a subscription and returns what to send first: the updates after `since` when the
   * history holds every one of them under the same epoch, else a snapshot. A repeated sub on the
   * same topic starts over.
   */
  subscribe(subscriber: S, topic: string, since?: number, epoch?: string, maxReplay = Infinity): OutMessage[] {
    let entry = this.#topics.get(topic);
    if (!entry) {
      const capacity = isStateTopic(topic) ? this.limits.historyPerTopic : this.limits.eventHistoryPerTopic;
      entry = { subscribers: new Map(), history: new TopicHistory(this.engine.lastSeq(topic), capacity, this.#countHistory), idleSince: undefined };
      this.#topics.set(topic, entry);
      this.engine.watch?.(topic, true);
      // Clients churning through distinct topics leave idle entries behind; forget those early.
      if (this.#topics.size > this.limits.maxTopics) this.#dropIdle(Math.floor(this.limits.maxTopics * 0.9));
    }
    if (!entry.subscribers.has(subscriber)) {
      this.subscriptionBudget.take(1);
      if (subscriber.anonymous === true) this.anonymousSubscriptionBudget.take(1);
    }
    entry.idleSince = undefined;
    this.#idle.delete(topic);

    if (since !== undefined) {
      // Not compared with engine.lastSeq: an engine on another thread commits (and its seqs are
      // readable here) before its outputs cross over, so the engine is often ahead of the history
      // for a moment, and a resume answered with a snapshot then would break the promise of
      // updates. What the history lacks is still coming, by the same #onOutputs as for every
      // other subscriber: the updates, or the engine's snapshot when it skipped some.
      const sameEpoch = epoch === undefined || epoch === this.engine.epoch;
      const replay = sameEpoch ? entry.history.after(since) : undefined;
      // A replay larger than the subscriber may queue is answered like a gap in history: a snapshot.
      if (replay !== undefined && replay.length <= maxReplay) {
        this.counters.historyHit();
        entry.subscribers.set(subscriber, { after: replay.length > 0 ? replay[replay.length - 1].seq! : since });
        return replay;
      }
      this.counters.historyMiss();
    }
    const snapshot = this.#snapshot(topic);
    entry.subscribers.set(subscriber, { after: snapshot.body.seq as number });
    return [snapshot];
  }

  unsubscribe(subscriber: S, topic: string): boolean {
    const entry = this.#topics.get(topic);
    if (!entry || !entry.subscribers.delete(subscriber)) return false;
    this.#left(subscriber, topic, entry);
    return true;
  }

  /**
   * A subscriber has left `topic`: when it was the last, the topic goes idle. It is kept (and
   * follows the topic's updates) for historyGraceMs even with nothing in its history yet, so a
   * client that reconnects within it resumes with the updates it missed rather than a snapshot;
   * what idle topics hold is bounded by maxTopics and historyBytes.
   */
  #left(subscriber: S, topic: string, entry: TopicEntry<S>): void {
    this.subscriptionBudget.release(1);
    if (subscriber.anonymous === true) this.anonymousSubscriptionBudget.release(1);
    if (entry.subscribers.size > 0) return;
    entry.idleSince = this.now();
    this.#idle.set(topic, entry);
  }

  /** Drops histories idle for longer than the grace period. */
  sweep(): void {
    const cutoff = this.now() - this.limits.historyGraceMs;
    // Deleting the entry being visited is safe in a Map iteration.
    for (const [topic, entry] of this.#idle) {
      if (entry.idleSince! > cutoff) return;
      this.#drop(topic, entry);
    }
  }

  dispose(): void {
    this.#stopOutputs();
    this.engine.setInterest(undefined);
    clearInterval(this.#sweeper);
    this.#topics.clear();
    this.#idle.clear();
  }

  #snapshot(topic: string): OutMessage {
    const epoch = this.engine.epoch;
    if (isStateTopic(topic)) {
      const snap = this.engine.snapshot(topic);
      if (snap !== undefined) return new OutMessage({ op: 'snapshot', topic, seq: snap.seq, epoch, data: snap.data });
    }
    // Event topics have no state to show; a state topic never seen has none yet.
    return new OutMessage({ op: 'snapshot', topic, seq: this.engine.lastSeq(topic), epoch, data: null });
  }

  #onOutputs(outputs: Output[]): void {
    const touched = new Set<S>();
    // State topics queued since the last flush. A copy's batch releases one update per owner
    // batch it applied (engine/changelog.ts), so a topic can come again in one call: queued
    // unsent, its update would be conflated away by the next (connection.ts), a seq jump that
    // no slow client caused. The earlier one is sent first.
    const queued = new Set<string>();
    for (const output of outputs) {
      if (queued.has(output.topic)) {
        // Between outputs, not inside a subscriber map: a flush that closes a connection may unsubscribe it.
        for (const subscriber of touched) subscriber.flush();
        touched.clear();
        queued.clear();
      }
      const entry = this.#topics.get(output.topic);
      if (entry === undefined) continue;
      // Each engine thread renders a topic once when it starts watching it, which only a state
      // topic needs. Every message of an event topic reaches us anyway, and its render (a
      // request's status) is nothing its subscribers read: a thread slower to take the watch
      // would send it as a second snapshot, skipping messages still on their way from the
      // thread that applied them.
      if (output.snapshot === true && !isStateTopic(output.topic)) continue;
      // Already had (an engine on another thread renders a topic again when it starts watching it).
      if (output.seq <= entry.history.last) continue;
      if (output.data === undefined) {
        // Not rendered: we cannot keep or send it, so the history restarts after it.
        entry.history.reset(output.seq);
        continue;
      }
      let message: OutMessage;
      if (output.snapshot === true && output.seq > entry.history.last + 1) {
        // The updates between were never rendered: the whole state, as a snapshot, tells the
        // subscriber so (kept history cannot bridge the gap either, so it restarts here).
        message = new OutMessage({ op: 'snapshot', topic: output.topic, seq: output.seq, epoch: this.engine.epoch, data: output.data });
        entry.history.reset(output.seq);
      } else {
        message = updateMessage(output.topic, output.seq, output.data, output.ts);
        entry.history.append(message);
      }
      if (message.stateUpdate) queued.add(output.topic);
      const guard = this.guard !== undefined && this.guard.covers(output.topic) ? this.guard : undefined;
      for (const [subscriber, state] of entry.subscribers) {
        if (output.seq <= state.after) continue;
        state.after = output.seq;
        subscriber.push(message);
        touched.add(subscriber);
        // Deleting the visited entry is safe in a Map iteration.
        if (guard !== undefined && !guard.mayKeep(subscriber, output.topic, output.data)) {
          entry.subscribers.delete(subscriber);
          this.#left(subscriber, output.topic, entry);
          guard.ended(subscriber, output.topic, output.data);
        }
      }
    }
    // After the loop: a flush may close a slow connection, which unsubscribes it.
    for (const subscriber of touched) subscriber.flush();
    // After the flushes: they cache the msgpack encodings, which count too.
    if (this.#historyBytes > this.limits.historyBytes) this.#shed();
  }

  /** Over the global bound: drop idle histories first, then empty the busiest ones. */
  #shed(): void {
    for (const [topic, entry] of this.#idle) {
      if (this.#historyBytes <= this.limits.historyBytes) return;
      this.#drop(topic, entry);
    }
    const bySize = [...this.#topics.values()].sort((a, b) => b.history.bytes - a.history.bytes);
    for (const entry of bySize) {
      if (this.#historyBytes <= this.limits.historyBytes) return;
      entry.history.reset(entry.history.last);
    }
  }

  /** Drops idle topics, longest idle first, until at most `target` remain (or none is idle). */
  #dropIdle(target: number): void {
    for (const [topic, entry] of this.#idle) {
      if (this.#topics.size <= target) return;
      this.#drop(topic, entry);
    }
  }

  #drop(topic: string, entry: TopicEntry<S>): void {
    // Detaches the kept messages, which may still sit in slow clients' queues, from our count.
    entry.history.reset(entry.history.last);
    this.#topics.delete(topic);
    this.#idle.delete(topic);
    this.engine.watch?.(topic, false);
  }
}
