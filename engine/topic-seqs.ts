// Topics: which processor renders each, and their sequence numbers. A topic's seq rises by
// one per update and is stored with the state, grouped as its processor says (seqSlot), so
// that one record per SKU holds the seqs of `stock/A` and every `stock/A@<location>`.
//
// A restarted state topic (Effects.restart: a customer's erasure; `recs/<id>`, `loyalty/<id>`,
// `cases/<id>`, `order/<order>`) loses its record, whose key names the customer, in the same
// commit. Its seqs must still never go back for a subscriber that saw them: the push layer drops an
// update whose seq is not above the last one it sent (gateway/ws/topic-hub.ts), and a client
// resuming with an old `since` must not be replayed a new customer's updates as if they followed
// what it saw. So each engine thread keeps a floor, `$seq-floor/<thread>`, no lower than any seq it
// restarted, and a state topic without a record counts on from the highest floor of any thread (a
// thread count changed since). A reader still sees 0 for it: a state topic's seq may jump (its
// updates carry the whole state; the push layer and the client SDK take a jump as such), so its
// snapshot at 0 and its next update above every old seq are what a new start looks like.
// Event topics (messages: `request/`, `agent/`, `kiosk/`) keep their record when restarted, and
// count from 0 without one: their client treats any jump as missed messages, and their names hold
// a request, desk or kiosk id, never one of the customer's ids.

import type { Batch, SeqRecord } from './items.ts';
import type { StateStore } from './store.ts';
import type { ProcessorIndex } from './processor-index.ts';
import type { Processor, StateView } from './types.ts';

const seqKey = (group: string) => `$seq/${group}`;
const FLOOR_PREFIX = '$seq-floor/';

/** The seq of the last update of `topic` stored in `view` (0 when it never had one). */
export function storedSeq(view: StateView, processor: Processor | undefined, topic: string): number {
  const at = processor?.seqSlot ? processor.seqSlot(view, topic) : { group: topic, slot: 0 };
  if (!at) return 0;
  return view.get<SeqRecord>(seqKey(at.group))?.[at.slot] ?? 0;
}

/** A state topic's state in `view`, with the seq of its last update there; undefined when it has none. */
export function topicSnapshot(view: StateView, owner: Processor | undefined, topic: string): { seq: number; data: unknown } | undefined {
  const data = owner?.render(view, topic);
  return data === undefined ? undefined : { seq: storedSeq(view, owner, topic), data };
}

export class TopicSeqs {
  /** The highest floor stored (read on first need), raised by this thread's restarts. */
  #floor: number | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly processors: ProcessorIndex,
    /** This engine thread's index: the floor record it writes. */
    private readonly slot = 0,
  ) {}

  private get floorKey(): string {
    return `${FLOOR_PREFIX}${this.slot}`;
  }

  private floor(): number {
    if (this.#floor === undefined) {
      let max = 0;
      for (const { value } of this.store.state.getRange({ start: FLOOR_PREFIX, end: `${FLOOR_PREFIX}\uffff` })) {
        if (typeof value === 'number' && value > max) max = value;
      }
      this.#floor = max;
    }
    return this.#floor;
  }

  processorFor(topic: string): Processor | undefined {
    return this.processors.ofTopic(topic);
  }

  private slotOf(view: StateView, processor: Processor | undefined, topic: string) {
    return processor?.seqSlot ? processor.seqSlot(view, topic) : { group: topic, slot: 0 };
  }

  /**
   * The seq of the next update of `topic` in this batch. `state`: a state topic's render, which
   * without a record counts on from the floor.
   */
  next(batch: Batch, processor: Processor, topic: string, state = false): number {
    const { group, slot } = this.slotOf(this.store.latest, processor, topic) ?? { group: topic, slot: 0 };
    let rec = batch.seqs.get(group);
    if (!rec) {
      rec = this.store.latest.get<SeqRecord>(seqKey(group))?.slice() ?? [];
      batch.seqs.set(group, rec);
    }
    batch.set.track?.seq(topic, seqKey(group));
    while (rec.length <= slot) rec.push(state ? this.floor() : 0);
    return ++rec[slot];
  }

  /**
   * Restarts `topic`'s history (Effects.restart): its seq skips a number, so the push layer's kept
   * history, which covers only an unbroken run, starts over; and the record of a state topic (one
   * the batch renders) is deleted when the batch is flushed, the floor raised past it. A topic
   * sharing its record with others (seqSlot) only skips: deleting would restart them too, and no
   * such group names a customer.
   */
  restart(batch: Batch, processor: Processor, topic: string): void {
    const at = this.slotOf(this.store.latest, processor, topic);
    this.next(batch, processor, topic);
    if (at === undefined || at.group === topic) (batch.restarted ??= new Set()).add(topic);
  }

  /** Writes every seq record the batch moved: once per group, however many updates. */
  flush(batch: Batch): void {
    let floor: number | undefined;
    for (const [group, rec] of batch.seqs) {
      if (batch.restarted?.has(group) !== true || !batch.changed.has(group)) {
        this.store.write(batch.set, seqKey(group), rec);
        continue;
      }
      this.store.write(batch.set, seqKey(group), undefined);
      // With the topic's partition, so a copy of it (changelog.ts) taking over counts on above it too.
      batch.set.track?.seq(group, this.floorKey);
      floor = Math.max(floor ?? this.floor(), ...rec);
    }
    if (floor !== undefined && floor > this.floor()) {
      this.#floor = floor;
      this.store.write(batch.set, this.floorKey, floor);
    }
  }

  /** The seq of the last durable update of a topic (0 when it never had one). */
  lastDurable(topic: string): number {
    return storedSeq(this.store.durable, this.processorFor(topic), topic);
  }
}
