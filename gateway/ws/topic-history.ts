// The recent updates of one topic, kept so a client that reconnects with `since` gets exactly
// what it missed. It always covers a contiguous range (base, last]: a seq jump (updates the
// engine did not render for us) restarts it, so a replay can never skip an update silently.

import type { OutMessage } from './out-message.ts';

export class TopicHistory {
  /** Seq just before the first kept update: the history covers (base, last]. */
  #base: number;
  #entries: OutMessage[] = [];
  #bytes = 0;

  constructor(
    lastSeq: number,
    private readonly capacity: number,
  ) {
    this.#base = lastSeq;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Approximate memory held: the JSON size of the kept updates. */
  get bytes(): number {
    return this.#bytes;
  }

  get last(): number {
    return this.#base + this.#entries.length;
  }

  /**
   * Appends an update; returns how many bytes the history grew by (negative when it shrank), so
   * the hub can keep its global count. Sizing encodes the update as JSON, which is cached on the
   * message and reused for every JSON subscriber.
   */
  append(message: OutMessage): number {
    const seq = message.seq!;
    const before = this.#bytes;
    const size = message.size('json');
    if (seq !== this.last + 1) {
      // A gap (or a replayed seq): start over at this update.
      this.#entries = [message];
      this.#base = seq - 1;
      this.#bytes = size;
      return this.#bytes - before;
    }
    this.#entries.push(message);
    this.#bytes += size;
    if (this.#entries.length > this.capacity) {
      this.#bytes -= this.#entries.shift()!.size('json');
      this.#base++;
    }
    return this.#bytes - before;
  }

  /** Restarts the history at `lastSeq` with nothing kept (after an update we could not keep). */
  reset(lastSeq: number): number {
    const before = this.#bytes;
    this.#entries = [];
    this.#bytes = 0;
    this.#base = lastSeq;
    return -before;
  }

  /** The updates after `since`, or undefined when they are not all kept. */
  after(since: number): OutMessage[] | undefined {
    if (since < this.#base || since > this.last) return undefined;
    return this.#entries.slice(since - this.#base);
  }
}
