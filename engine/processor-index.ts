// The processors an engine runs, looked up by the event types they own (those senders send and
// those only processors emit), by name (timers and queries name their processor), and by the
// topic prefixes they render.

import type { Processor } from './types.ts';

export class ProcessorIndex {
  readonly byType = new Map<string, Processor>();
  readonly byName = new Map<string, Processor>();
  /** Types other partitions read (Processor.readByOthers). */
  readonly readByOthers = new Set<string>();
  /** Types whose steps run on other partitions (Processor.stepsElsewhere). */
  readonly stepsElsewhere = new Set<string>();
  /** Types that read what events of other keys before them in a submission wrote (Processor.readsEarlier). */
  readonly readsEarlier = new Set<string>();
  /** Owners of the types only processors emit (Processor.internalTypes). */
  readonly byInternalType = new Map<string, Processor>();
  private readonly prefixes: Array<[string, Processor]> = [];

  constructor(readonly all: readonly Processor[]) {
    for (const p of all) {
      this.byName.set(p.name, p);
      for (const t of p.types) this.byType.set(t, p);
      for (const t of p.internalTypes ?? []) this.byInternalType.set(t, p);
      for (const t of p.readByOthers ?? []) this.readByOthers.add(t);
      for (const t of p.stepsElsewhere ?? []) this.stepsElsewhere.add(t);
      for (const t of p.readsEarlier ?? []) this.readsEarlier.add(t);
      for (const prefix of p.topicPrefixes) this.prefixes.push([prefix, p]);
    }
  }

  /** The processor rendering `topic` (Processor.topicPrefixes). */
  ofTopic(topic: string): Processor | undefined {
    for (const [prefix, p] of this.prefixes) if (topic.startsWith(prefix)) return p;
    return undefined;
  }
}
