// Per-topic bookkeeping that turns the server's at-least-once stream (replays after a reconnect,
// frames still in flight after an unsub) into exactly-once, in-order callbacks: each topic keeps
// the last seq and epoch it delivered, and resubscribes with them (`since`/`epoch`) on every open.

import { ServerError } from './errors.ts';
import type { SnapshotFrame, SubOp, SubscriptionHandlers, UnsubOp, UpdateFrame } from './types.ts';

/** Answers that refuse a topic for good; the SDK forgets a topic refused before its first snapshot (`forbidden`: at any time). */
const REFUSALS = new Set(['forbidden', 'bad_frame', 'too_many_subscriptions']);
const RATE_LIMITED_RETRY_MS = 1000;

/**
 * State topics carry the whole state in every update and the server may conflate them for a slow
 * client (seq jumps, the latest state wins). Event topics carry individual events and never jump
 * without a snapshot, so a jump there means something was lost. Unknown families are treated as
 * event topics: strict is the safe default.
 */
export type TopicKind = 'state' | 'event';

// As the server's gateway/ws/topic-kind.ts: `store/<loc>` carries notices, each one mattering.
const STATE_PREFIXES = ['stock/', 'queue/', 'recs/', 'order/', 'stats/'];

export function topicKind(topic: string): TopicKind {
  return STATE_PREFIXES.some((prefix) => topic.startsWith(prefix)) ? 'state' : 'event';
}

interface Listener {
  handlers: SubscriptionHandlers<any>;
  /** Has had its snapshot: only then does it get updates (an update alone means nothing). */
  ready: boolean;
}

interface Topic {
  name: string;
  kind: TopicKind;
  listeners: Set<Listener>;
  /** Last seq delivered; undefined until the first snapshot. */
  seq?: number;
  epoch?: string;
  /**
   * State topics: the latest state, so a second listener starts at once without a round trip.
   * Event topics: the last snapshot's data (null on today's server, where event snapshots
   * carry only a position).
   */
  latest?: unknown;
  /** A resubscribe is on its way: don't ask again for every further out-of-order frame. */
  resyncing: boolean;
}

export class Subscriptions {
  #topics = new Map<string, Topic>();

  constructor(
    /** Writes a frame if the socket is open; drops it otherwise (the next open resubscribes all). */
    private readonly send: (frame: SubOp | UnsubOp) => void,
    /** Receives what an application callback throws, so one bad handler cannot stop the stream. */
    private readonly onHandlerError: (error: unknown) => void,
  ) {}

  /** Last seq and epoch delivered on a topic (for diagnostics and tests). */
  position(topic: string): { seq?: number; epoch?: string } | undefined {
    const t = this.#topics.get(topic);
    return t && { seq: t.seq, epoch: t.epoch };
  }

  add(topic: string, handlers: SubscriptionHandlers<any>): () => void {
    const listener: Listener = { handlers, ready: false };
    let t = this.#topics.get(topic);
    if (!t) {
      // Sent before the topic is registered: a frame that cannot be sent (too large) throws to
      // the caller here, instead of on every later open.
      this.send({ op: 'sub', topic });
      t = { name: topic, kind: topicKind(topic), listeners: new Set([listener]), resyncing: false };
      this.#topics.set(topic, t);
    } else {
      t.listeners.add(listener);
      if (t.seq !== undefined && (t.kind === 'state' || t.latest === null)) {
        // The new listener starts from where the topic is: a state topic's latest state, or an
        // event topic's position when its snapshots carry no data. Nobody else is disturbed.
        listener.ready = true;
        this.#call(() => handlers.onSnapshot(t!.latest, t!.seq!));
      } else if (t.seq !== undefined) {
        // An event snapshot with data cannot be rebuilt from the updates seen since: ask the
        // server for a fresh one. Existing listeners get onSnapshot again, which they must handle.
        this.#resubscribe(t, false);
      }
      // Else the topic's first snapshot is still on its way and will serve this listener too.
    }
    const topicState = t;
    return () => {
      if (!topicState.listeners.delete(listener)) return;
      if (topicState.listeners.size === 0 && this.#topics.get(topic) === topicState) {
        this.#topics.delete(topic);
        this.send({ op: 'unsub', topic });
      }
    };
  }

  /** A new connection is open: resume every topic where it stopped. */
  onOpen(): void {
    for (const t of this.#topics.values()) {
      t.resyncing = false;
      const waiting = [...t.listeners].some((l) => !l.ready);
      // A listener still waiting for its snapshot needs one; a replay would not give it.
      try {
        this.send(t.seq === undefined || waiting ? { op: 'sub', topic: t.name } : this.#resumeFrame(t));
      } catch (error) {
        // One topic that cannot be sent must not stop the others from resuming.
        this.onHandlerError(error);
      }
    }
  }

  handleSnapshot(frame: SnapshotFrame): void {
    const t = this.#topics.get(frame.topic);
    if (!t) return; // a late frame for a topic unsubscribed since
    t.seq = frame.seq;
    t.epoch = frame.epoch;
    t.resyncing = false;
    t.latest = frame.data;
    for (const listener of [...t.listeners]) {
      listener.ready = true;
      this.#call(() => listener.handlers.onSnapshot(frame.data, frame.seq));
    }
  }

  handleUpdate(frame: UpdateFrame): void {
    const t = this.#topics.get(frame.topic);
    // No snapshot yet: an update cannot be applied to nothing (it is a leftover of an older sub).
    if (!t || t.seq === undefined) return;
    // Already delivered: a replay overlapping what we saw before a reconnect.
    if (frame.seq <= t.seq) return;
    if (t.kind === 'event' && frame.seq !== t.seq + 1) {
      // Updates t.seq+1 … frame.seq−1 are missing. Ask for them again (or a snapshot, if the server
      // no longer keeps them) and drop everything out of order until they arrive.
      if (!t.resyncing) {
        for (const listener of [...t.listeners]) {
          const onGap = listener.handlers.onGap;
          if (onGap) this.#call(() => onGap.call(listener.handlers));
        }
        this.#resubscribe(t, true);
      }
      return;
    }
    t.seq = frame.seq;
    t.resyncing = false;
    if (t.kind === 'state') t.latest = frame.data;
    for (const listener of [...t.listeners]) {
      if (listener.ready) this.#call(() => listener.handlers.onUpdate(frame.data, frame.seq, frame.ts));
    }
  }

  /**
   * The server ended a subscription as a matter of course (`ended`): every listener hears why,
   * and the topic is forgotten, so no reconnect asks for it again.
   */
  handleEnded(topic: string, reason: string): void {
    const t = this.#topics.get(topic);
    if (!t) return;
    this.#topics.delete(topic);
    for (const listener of [...t.listeners]) {
      const onEnd = listener.handlers.onEnd;
      if (onEnd) this.#call(() => onEnd.call(listener.handlers, reason));
    }
  }

  /** An error frame about a topic; returns false if no such topic is subscribed. */
  handleError(topic: string, code: string, message: string): boolean {
    const t = this.#topics.get(topic);
    if (!t) return false;
    const error = new ServerError(code, `${topic}: ${message}`);
    for (const listener of [...t.listeners]) {
      const onError = listener.handlers.onError;
      if (onError) this.#call(() => onError.call(listener.handlers, error));
      else this.onHandlerError(error);
    }
    if (code === 'rate_limited') {
      // The sub (or resume) was dropped, not refused: ask again shortly.
      setTimeout(() => {
        if (this.#topics.get(topic) === t) this.#resubscribe(t, t.seq !== undefined);
      }, RATE_LIMITED_RETRY_MS);
    } else if (REFUSALS.has(code) && (t.seq === undefined || code === 'forbidden')) {
      // Refused for good (the token may not read it, no such topic, too many): forget it, or
      // every reconnect would ask again and a later subscribe would wait forever. `forbidden`
      // after the snapshot too: a server that ends a subscription by refusing it (the current
      // one sends `ended` instead, see handleEnded).
      this.#topics.delete(topic);
    }
    return true;
  }

  #resumeFrame(t: Topic): SubOp {
    const frame: SubOp = { op: 'sub', topic: t.name, since: t.seq };
    if (t.epoch !== undefined) frame.epoch = t.epoch;
    return frame;
  }

  /**
   * unsub then sub: meaningful on any server (a repeated sub on a live topic might be ignored).
   * `resume` asks for a replay after our seq; otherwise for a fresh snapshot.
   */
  #resubscribe(t: Topic, resume: boolean): void {
    t.resyncing = true;
    this.send({ op: 'unsub', topic: t.name });
    this.send(resume ? this.#resumeFrame(t) : { op: 'sub', topic: t.name });
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.onHandlerError(error);
    }
  }
}
