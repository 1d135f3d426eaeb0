// Follow-up steps (commit a cart hold, fulfil an order) waiting for their turn. The loadgen never
// waits for answers, and batches travel concurrently over several connections, so a follow-up
// may only go out once `lag` events have been made since the step it follows: by then that step
// has been answered (the run sets the lag to the most events that can be in flight, plus a
// second's worth), and the follow-up cannot overtake it.

export class Backlog<T> {
  private readonly items: Array<{ at: number; item: T }> = [];
  private head = 0;

  constructor(private readonly lag: number) {}

  /** Queues `item`, made by event number `at`. */
  push(at: number, item: T): void {
    this.items.push({ at, item });
  }

  /** The oldest item whose step is at least `lag` events before event number `now`, if any. */
  takeDue(now: number): T | undefined {
    const first = this.items[this.head];
    if (first === undefined || now - first.at < this.lag) return undefined;
    this.head++;
    // Drop the taken prefix now and then, so a long run does not keep every item ever queued.
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return first.item;
  }
}
