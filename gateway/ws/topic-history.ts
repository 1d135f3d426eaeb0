// The recent updates of one topic, kept so a client that reconnects with `since` gets exactly
// what it missed. It always covers a contiguous range (base, last]: a seq jump (updates the
// engine did not render for us) restarts it, so a replay can never skip an update silently.

import type { OutMessage } from './out-message.ts';

export class TopicHistory {
  /** Seq just before the first kept update: the history covers (base, last]. */
  #base: number;
  /** Kept updates from #head on; the slots before it were evicted (compacted now and then). */
  #entries: Array<OutMessage | undefined> = [];
  #head = 0;
  #bytes = 0;
  /** Given to each kept message, so an encoding cached later counts here and in the hub. */
  readonly #meter = (bytes: number): void => this.#count(bytes);

  constructor(
    lastSeq: number,
    private readonly capacity: number,
    /** Told every change of `bytes`, so the hub keeps its global count without rescanning. */
    private readonly onBytes: (delta: number) => void,
  ) {
    this.#base = lastSeq;
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Memory held: the bytes of every encoding (JSON, msgpack) cached on the kept updates. */
  get bytes(): number {
    return this.#bytes;
  }

  get last(): number {
    return this.#base + this.size;
  }

  /**
   * Appends an update. It is encoded as JSON at once, which sizes it (standing in for the body
   * it holds) and is cached on the message for every JSON subscriber.
   */
  append(message: OutMessage): void {
    const seq = message.seq!;
    // A gap (or a replayed seq): start over at this update.
    if (seq !== this.last + 1) this.reset(seq - 1);
    this.#entries.push(message);
    this.#count(message.cachedBytes);
    message.meter = this.#meter;
    message.encode('json');
    if (this.size > this.capacity) this.#evictOldest();
  }

  /** Restarts the history at `lastSeq` with nothing kept (after an update we could not keep). */
  reset(lastSeq: number): void {
    for (let i = this.#head; i < this.#entries.length; i++) this.#entries[i]!.meter = undefined;
    this.#count(-this.#bytes);
    this.#entries = [];
    this.#head = 0;
    this.#base = lastSeq;
  }

  /** The updates after `since`, or undefined when they are not all kept. */
  after(since: number): OutMessage[] | undefined {
    if (since < this.#base || since > this.last) return undefined;
    return this.#entries.slice(this.#head + since - this.#base) as OutMessage[];
  }

  #evictOldest(): void {
    const oldest = this.#entries[this.#head]!;
    this.#entries[this.#head++] = undefined;
    this.#base++;
    // Still queued for some slow client perhaps, but no longer ours to count.
    oldest.meter = undefined;
    this.#count(-oldest.cachedBytes);
    // Array.shift would move every kept update on each append (20,000 on a busy event topic).
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  #count(delta: number): void {
    this.#bytes += delta;
    this.onBytes(delta);
  }
}
