// Derived events for partitions other nodes own (a saga's step at another SKU): appended to their
// partitions' logs, then taken out of the engine's outbox. Until then they stay there: a failed
// append is retried here, and whatever a crash interrupts is sent again when the engine opens
// (the owner drops a second copy by its id).

import { setTimeout as sleep } from 'node:timers/promises';
import type { RemoteDerived } from '../engine/mod.ts';
import type { EventLog } from './event-log.ts';
import { derivedMsgID, encode, type LoggedDerivedEvent } from './log-wire.ts';

export class DerivedForwarder {
  private readonly appending = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly log: EventLog,
    private readonly sent: (outboxKeys: string[]) => void,
  ) {}

  forward(items: RemoteDerived[]): void {
    const byPartition = new Map<number, RemoteDerived[]>();
    for (const item of items) {
      let list = byPartition.get(item.partition);
      if (!list) byPartition.set(item.partition, (list = []));
      list.push(item);
    }
    for (const [partition, list] of byPartition) {
      const entries = list.map((i) => ({ msgID: derivedMsgID(i.event.id), data: encode({ derived: i.event, arrival: i.arrival } satisfies LoggedDerivedEvent) }));
      const done = (async () => {
        for (let pause = 100; !this.stopped; pause = Math.min(pause * 2, 2_000)) {
          try {
            await this.log.append(partition, entries);
            this.sent(list.map((i) => i.outboxKey));
            return;
          } catch {
            await sleep(pause);
          }
        }
      })();
      this.appending.add(done);
      void done.then(() => this.appending.delete(done));
    }
  }

  /** Waits for the appends under way; those failing stop retrying (their events stay in the outbox). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.appending]);
  }
}
