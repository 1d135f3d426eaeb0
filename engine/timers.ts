// Durable timers (the punctuator role): stored in LMDB with the state that set them, held in
// memory as a min-heap for firing. A timer that came due while the process was down fires
// on the first run after start. Cancelling or replacing one leaves a stale heap entry that is
// skipped when popped (lazy deletion keeps both operations O(log n)).

import type { StateStore, TimerRecord, WriteSet } from './store.ts';

interface HeapEntry {
  at: number;
  key: string;
}

export class TimerQueue {
  private readonly byKey = new Map<string, TimerRecord>();
  /** Taken for firing, not yet applied: kept apart so the flag never reaches the stored record. */
  private readonly firing = new Set<TimerRecord>();
  private readonly heap: HeapEntry[] = [];

  constructor(private readonly store: StateStore) {}

  /**
   * Loads every pending timer of the partitions `owns` names (a timer from before timers kept
   * their partition is given one by `legacyPartition`); O(pending timers), independent of state size.
   */
  load(owns: (partition: number) => boolean = () => true, legacyPartition: (rec: TimerRecord) => number = () => 0): void {
    for (const { key, value } of this.store.timers.getRange()) {
      const { at, processor, id, data } = value;
      const partition = value.partition ?? legacyPartition(value);
      // Loaded already (a partition that stayed local while others became so).
      if (!owns(partition) || this.byKey.has(key as string)) continue;
      this.byKey.set(key as string, { at, processor, id, data, partition });
      this.push({ at: value.at, key: key as string });
    }
  }

  /** Stops firing the timers of the partitions `keep` does not name (they stay stored): they are applied elsewhere now. */
  unload(keep: (partition: number) => boolean): void {
    for (const [key, rec] of this.byKey) {
      if (keep(rec.partition ?? 0)) continue;
      this.byKey.delete(key);
      this.firing.delete(rec);
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  static key(processor: string, id: string): string {
    return `${processor}/${id}`;
  }

  get(key: string): TimerRecord | undefined {
    return this.byKey.get(key);
  }

  set(set: WriteSet, rec: TimerRecord): void {
    const key = TimerQueue.key(rec.processor, rec.id);
    const old = this.byKey.get(key);
    if (old) this.firing.delete(old);
    this.byKey.set(key, rec);
    this.push({ at: rec.at, key });
    set.timers.set(key, rec);
    set.track?.note('timers', key, rec.partition);
  }

  cancel(set: WriteSet, key: string): void {
    const rec = this.byKey.get(key);
    if (!rec) return;
    this.byKey.delete(key);
    this.firing.delete(rec);
    set.timers.set(key, undefined);
    set.track?.note('timers', key, rec.partition);
  }

  /** Takes the timers due at `now`, marking them so a stale heap entry cannot fire twice. */
  takeDue(now: number): Array<{ key: string; rec: TimerRecord }> {
    const due: Array<{ key: string; rec: TimerRecord }> = [];
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      const top = this.pop();
      const rec = this.byKey.get(top.key);
      if (!rec || rec.at !== top.at || this.firing.has(rec)) continue;
      this.firing.add(rec);
      due.push({ key: top.key, rec });
    }
    return due;
  }

  /** When the earliest live timer is due, or undefined when none is pending. */
  nextDue(): number | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0];
      const rec = this.byKey.get(top.key);
      if (rec && rec.at === top.at && !this.firing.has(rec)) return top.at;
      this.pop();
    }
    return undefined;
  }

  private push(e: HeapEntry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].at <= e.at) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = e;
  }

  private pop(): HeapEntry {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r].at < h[l].at ? r : l;
        if (h[c].at >= last.at) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
