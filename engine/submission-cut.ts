// Where a submission is cut in two. An event other partitions read (Processor.readByOthers: a
// location, an identity link, a profile) may finish its work only steps later (a link answers
// once the state it moved has arrived), so when events of other keys follow it in one
// submission, they are applied after its answer: they see all of it, whether one engine thread
// or several apply the partitions. Events of other keys before it are applied before it, for
// the same reason the other way round: on several threads its partition could otherwise commit
// first, and they would read what it wrote although they came before it. A submission cut in
// two holds back those submitted after it until it is answered whole: sent at once, they would
// overtake its second part, and a key's events must keep the order they came in. Only those
// sharing a key with it are held (and then those sharing a key with a held one): the others have
// no order to keep with it, and a request of several orders must not stall every other sender.
//
// Where keys commit apart (`placeOf`: several engine threads, each committing its own), a
// submission is also cut before an event whose steps run on other partitions (a reservation,
// an order: Processor.stepsElsewhere) when an event of another place comes before it. Live, its
// steps reach their partitions after those events anyway; but its own commit could come first,
// and after a crash right then its steps, found in the outbox, would be applied before those
// events, which only come back with the sender's retry.
//
// An event that reads what an earlier event of its submission writes on another partition
// (Processor.readsEarlier: a refund, the index its redemption writes) is cut before when an event
// of another key comes before it: otherwise it could be applied before that write exists.

import type { ProcessorIndex } from './processor-index.ts';
import type { EventResult, InputEvent } from './types.ts';

/** A submission cut in two, or one held back behind it: the keys it orders until it is answered. */
interface Hold {
  keys: ReadonlySet<string>;
  done: Promise<void>;
}

export class SubmissionCutter {
  /** Submissions cut in two and those held back behind them, oldest first. */
  private holds: Hold[] = [];
  /** Every type that may cut a submission (any of the three reasons above): one lookup per event finds none. */
  private readonly cutTypes: ReadonlySet<string>;

  constructor(
    private readonly processors: ProcessorIndex,
    /** Applies events as they are, in order per key: resolves with one result each. */
    private readonly route: (events: readonly unknown[]) => Promise<EventResult[]>,
    /** Where a key's events commit, when keys commit apart (one engine thread each); else every key commits in order. */
    private readonly placeOf?: (key: string) => number,
  ) {
    this.cutTypes = new Set([...processors.readByOthers, ...(placeOf ? processors.stepsElsewhere : []), ...processors.readsEarlier]);
  }

  /** Settles once no submission cut in two is under way, nor any held back behind one. */
  async settled(): Promise<void> {
    while (this.holds.length > 0) await this.holds[this.holds.length - 1].done;
  }

  submit(events: readonly unknown[]): Promise<EventResult[]> {
    // Keys are read only while something is held: most of the time nothing is.
    const keys = this.holds.length > 0 ? this.keysOf(events) : undefined;
    const ahead = keys === undefined ? [] : this.holds.filter((h) => shares(h.keys, keys));
    if (ahead.length > 0) {
      // Held back, and holding back in turn what shares a key with it: it must not be overtaken either.
      const answered = Promise.all(ahead.map((h) => h.done)).then(() => this.routeWhole(events));
      this.hold(keys!, answered);
      return answered;
    }
    const cut = this.cutAt(events);
    if (cut < 0) return this.route(events);
    const whole = this.routeCut(events, cut);
    this.hold(keys ?? this.keysOf(events), whole);
    return whole;
  }

  /** The events, cut where they must be. */
  private routeWhole(events: readonly unknown[]): Promise<EventResult[]> {
    const cut = this.cutAt(events);
    return cut < 0 ? this.route(events) : this.routeCut(events, cut);
  }

  private hold(keys: ReadonlySet<string>, answered: Promise<unknown>): void {
    const done = answered.then(
      () => undefined,
      () => undefined,
    );
    const hold: Hold = { keys, done };
    this.holds.push(hold);
    void done.then(() => {
      this.holds = this.holds.filter((h) => h !== hold);
    });
  }

  private keysOf(events: readonly unknown[]): Set<string> {
    const keys = new Set<string>();
    for (const e of events) {
      const key = this.keyOf(e);
      // An event without a key is refused, never applied: it orders nothing.
      if (key !== undefined) keys.add(key);
    }
    return keys;
  }

  /** The events up to `cut`, then — once they are answered — the rest (cut again where it must be). */
  private routeCut(events: readonly unknown[], cut: number): Promise<EventResult[]> {
    return this.route(events.slice(0, cut)).then((first) => {
      const rest = events.slice(cut);
      const next = this.cutAt(rest);
      return (next < 0 ? this.route(rest) : this.routeCut(rest, next)).then((tail) => [...first, ...tail]);
    });
  }

  /**
   * Where the first part ends (-1: nowhere): before the first event other partitions read when
   * an event of another key comes before it, else after it when one of another key follows;
   * before an event with steps elsewhere when one of another place comes before it; before an
   * event that reads what earlier ones wrote when one of another key comes before it.
   * Events of the same key are in order anyway: a request of locations alone, or of one
   * customer's events, goes as one.
   */
  private cutAt(events: readonly unknown[]): number {
    const types = this.processors.readByOthers;
    const steps = this.placeOf ? this.processors.stepsElsewhere : undefined;
    const readers = this.processors.readsEarlier;
    // Most requests hold none: they pay one type lookup per event, no key.
    if (events.length < 2 || !events.some((e) => this.cutTypes.has(typeOf(e)))) return -1;
    // Each key once, and from the end whether the rest is all one key: one pass, however long.
    const keys = events.map((e) => this.keyOf(e));
    const MIXED = Symbol('mixed');
    const rest: Array<string | undefined | typeof MIXED> = new Array(events.length);
    for (let j = events.length - 1; j > 0; j--) rest[j - 1] = j === events.length - 1 || rest[j] === keys[j] ? keys[j] : MIXED;
    let before: string | undefined | typeof MIXED = keys[0];
    const placesBefore = new Set<number>();
    for (let i = 0; i < events.length; i++) {
      if (steps?.has(typeOf(events[i])) && this.apartFrom(placesBefore, keys[i])) return i;
      if (readers.has(typeOf(events[i])) && i > 0 && before !== keys[i]) return i;
      if (types.has(typeOf(events[i]))) {
        if (i > 0 && before !== keys[i]) return i;
        if (i < events.length - 1 && rest[i] !== keys[i]) return i + 1;
      }
      if (before !== keys[i]) before = MIXED;
      // An event without a key is refused, never applied: it commits nowhere.
      if (steps && keys[i] !== undefined) placesBefore.add(this.placeOf!(keys[i]!));
    }
    return -1;
  }

  /** Whether an event of `key` could commit apart from the events at `places` (an unknown key goes where it is refused). */
  private apartFrom(places: ReadonlySet<number>, key: string | undefined): boolean {
    if (key === undefined || places.size === 0) return false;
    const here = this.placeOf!(key);
    return places.size > 1 || !places.has(here);
  }

  /** The key an event is ordered by, or undefined for one that is not valid enough to tell. */
  private keyOf(event: unknown): string | undefined {
    const owner = this.processors.byType.get(typeOf(event));
    try {
      const key = owner?.partitionKey(event as InputEvent);
      return typeof key === 'string' ? key : undefined;
    } catch {
      return undefined;
    }
  }
}

function typeOf(event: unknown): string {
  const type = (event as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : '';
}

function shares(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const key of b) if (a.has(key)) return true;
  return false;
}
