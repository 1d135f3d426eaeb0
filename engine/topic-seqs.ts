// Topics: which processor renders each, and their sequence numbers. A topic's seq rises by
// one per update and is stored with the state, grouped as its processor says (seqSlot), so
// that one record per SKU holds the seqs of `stock/A` and every `stock/A@<location>`.

import type { Batch, SeqRecord } from './items.ts';
import type { StateStore } from './store.ts';
import type { ProcessorIndex } from './processor-index.ts';
import type { Processor, StateView } from './types.ts';

const seqKey = (group: string) => `$seq/${group}`;

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
  constructor(
    private readonly store: StateStore,
    private readonly processors: ProcessorIndex,
  ) {}

  processorFor(topic: string): Processor | undefined {
    return this.processors.ofTopic(topic);
  }

  private slotOf(view: StateView, processor: Processor | undefined, topic: string) {
    return processor?.seqSlot ? processor.seqSlot(view, topic) : { group: topic, slot: 0 };
  }

  /** The seq of the next update of `topic` in this batch. */
  next(batch: Batch, processor: Processor, topic: string): number {
    const { group, slot } = this.slotOf(this.store.latest, processor, topic) ?? { group: topic, slot: 0 };
    let rec = batch.seqs.get(group);
    if (!rec) {
      rec = this.store.latest.get<SeqRecord>(seqKey(group))?.slice() ?? [];
      batch.seqs.set(group, rec);
    }
    batch.set.track?.seq(topic, seqKey(group));
    while (rec.length <= slot) rec.push(0);
    return ++rec[slot];
  }

  /** Writes every seq record the batch moved: once per group, however many updates. */
  flush(batch: Batch): void {
    for (const [group, rec] of batch.seqs) this.store.write(batch.set, seqKey(group), rec);
  }

  /** The seq of the last durable update of a topic (0 when it never had one). */
  lastDurable(topic: string): number {
    return storedSeq(this.store.durable, this.processorFor(topic), topic);
  }
}
