// Where each arriving event goes, for a node that hands events on to a shared log instead of
// applying them itself: checked and built exactly as the engine checks them (an invalid event is
// answered here and never logged), and the partition that applies it. Requests keep the engine's
// rule for events other partitions read (submission-cut.ts): the caller's route is given each
// part of a request once the part before it is answered.

import { admitEvent } from './event-builder.ts';
import { EventCounts } from './event-counts.ts';
import { partitionOf } from './partitions.ts';
import { ProcessorIndex } from './processor-index.ts';
import { SubmissionCutter } from './submission-cut.ts';
import type { EventResult, InputEvent, Processor } from './types.ts';

/** An event on its way to a partition: the fresh event and its digest (equal events share it). */
export interface RoutedEvent {
  partition: number;
  event: InputEvent;
  digest: number;
}

export class EventRouter {
  private readonly processors: ProcessorIndex;
  /** Events refused here, by type and code (as the engine counts its own). */
  readonly refused = new EventCounts();

  constructor(
    processors: readonly Processor[],
    readonly partitions: number,
  ) {
    this.processors = new ProcessorIndex(processors);
  }

  /** The event checked and built, with its partition; or the answer that refuses it. */
  route(raw: unknown): RoutedEvent | { refused: EventResult } {
    const admitted = admitEvent(raw, this.processors.byType, this.refused);
    if (admitted.refused) return { refused: admitted.refused };
    const { event, digest } = admitted.built;
    return { partition: partitionOf(admitted.processor.partitionKey(event), this.partitions), event, digest };
  }

  /** Whether other partitions read what an event of this type writes (a location, a link, a profile). */
  readByOthers(type: string): boolean {
    return this.processors.readByOthers.has(type);
  }

  /**
   * `submit` that gives `apply` each request in the parts the engine would apply one after the
   * other, the next once the one before is answered; `settled` resolves when none is under way.
   */
  inOrder(apply: (events: readonly unknown[]) => Promise<EventResult[]>): { submit(events: readonly unknown[]): Promise<EventResult[]>; settled(): Promise<void> } {
    // Each partition commits on its own (on its owner's node): a reservation or an order waits for
    // the events of other partitions before it, so that no crash can apply its steps before them.
    const cutter = new SubmissionCutter(this.processors, apply, (key) => partitionOf(key, this.partitions));
    return { submit: (events) => cutter.submit(events), settled: () => cutter.settled() };
  }
}
