// The outbox: derived events (Effects.emit) between the batch that emits them and the batch that
// applies them. An emitted event is written in the emitting batch's transaction and released to
// its partition's queue once that batch is durable; the batch that applies it deletes it in its
// own transaction. So a derived event is applied exactly once: a crash before the emitting
// commit loses both the cause and the event, a crash after it finds the event here on restart,
// and the apply and the delete are one commit.
//
// Keys are `<source partition>/<n>`, n counting up per source partition, so a restart re-sends
// each partition's derived events in the order it emitted them (Kafka keeps order per producer
// partition the same way). Follow events (follow-events.ts) are derived events too, stored and
// re-sent the same way, under the partition whose events they carry.

import { FOLLOW_TYPE, isFollowEvent, type FollowEvent, type Followed } from './follow-events.ts';
import type { DerivedItem, Item } from './items.ts';
import type { Partitions } from './partitions.ts';
import type { StateStore, WriteSet } from './store.ts';
import type { InputEvent, Processor } from './types.ts';

type Stored = [event: InputEvent, arrival: number];

/** A derived event between engine threads: its outbox key, the event, when it was emitted, its partition. */
export type DerivedWire = [outboxKey: string, event: InputEvent, arrival: number, partition: number];

const key = (source: number, n: number) => `${String(source).padStart(4, '0')}/${String(n).padStart(16, '0')}`;

export class Outbox {
  /** Next n per source partition: past every key still stored, so none is reused while it lives. */
  private readonly next = new Map<number, number>();
  /** Keys taken by batches not yet durable (take). */
  private readonly taken = new Set<string>();
  /** Processors that follow event types (Processor.follows), by name: who applies each follow event. */
  private followers: ReadonlyMap<string, Processor> = new Map();

  constructor(
    private readonly store: StateStore,
    private readonly partitions: Partitions,
    private readonly owners: ReadonlyMap<string, Processor>,
  ) {}

  /** Whether `event` could be emitted: an object with an id and a type some processor emits. */
  problem(event: unknown): string | null {
    if (typeof event !== 'object' || event === null) return 'a derived event that is not an object';
    const { id, type } = event as Partial<InputEvent>;
    if (typeof id !== 'string' || id.length === 0) return 'a derived event without an id';
    if (typeof type !== 'string' || !this.owners.has(type)) return `a derived event of type '${String(type)}', which no processor declares in internalTypes`;
    return null;
  }

  /** Names the processors follow events go to; before `restore`, which re-sends them. */
  setFollowers(followers: ReadonlyMap<string, Processor>): void {
    this.followers = followers;
  }

  /** Stores `event` in the batch, emitted by partition `source`; released once the batch is durable. */
  emit(set: WriteSet, source: number, event: InputEvent, arrival: number): DerivedItem {
    const outboxKey = this.nextKey(source);
    set.outbox.set(outboxKey, [event, arrival] satisfies Stored);
    return this.item(outboxKey, event, arrival);
  }

  /**
   * Stores the follow event carrying `followed` (events partition `source` applied in this batch,
   * in order) to `follower` on partition `target`. Its id is its outbox key and the source's
   * checkpoint: unique for good (keys are reused once deleted; every batch moves the checkpoint),
   * as a derived event applied on another node must be (remote-partitions.ts).
   */
  emitFollow(set: WriteSet, source: number, follower: Processor, target: number, followed: Followed[], now: number): DerivedItem {
    const outboxKey = this.nextKey(source);
    const event: FollowEvent = { id: `${FOLLOW_TYPE}/${outboxKey}/${this.partitions.checkpoint(source)}`, type: FOLLOW_TYPE, follower: follower.name, followed, now };
    const arrival = followed[0][3];
    set.outbox.set(outboxKey, [event, arrival] satisfies Stored);
    return { kind: 'derived', event, processor: follower, partition: target, outboxKey, arrival };
  }

  private nextKey(source: number): string {
    const n = this.next.get(source) ?? 0;
    this.next.set(source, n + 1);
    return key(source, n);
  }

  /**
   * The batch applying `item` takes it out of the outbox: false when it is no longer there, taken
   * by a batch before (durable or not). A derived event can reach its engine twice — relayed by
   * the engine that emitted it, and found in the outbox by an engine thread starting meanwhile —
   * and is applied once. Only a relayed one is looked up in LMDB: one emitted or restored here
   * reaches this engine once.
   */
  take(set: WriteSet, item: DerivedItem): boolean {
    if (this.taken.has(item.outboxKey)) return false;
    if (item.relayed && this.store.outbox.get(item.outboxKey) === undefined) return false;
    this.taken.add(item.outboxKey);
    set.outbox.set(item.outboxKey, undefined);
    return true;
  }

  /** A batch is durable: what it took is out of the outbox in LMDB too. */
  released(set: WriteSet): void {
    for (const [key, value] of set.outbox) if (value === undefined) this.taken.delete(key);
  }

  /**
   * Every derived event a committed batch emitted and none applied, for the partitions `owns`
   * names: re-sent at start, in emit order per source. Counting continues past every stored key
   * of the sources `owns` names (the others' keys are their engines' to make).
   */
  restore(owns: (partition: number) => boolean): DerivedItem[] {
    const items: DerivedItem[] = [];
    for (const { key: k, value } of this.store.outbox.getRange()) {
      const outboxKey = k as string;
      const [event, arrival] = value as Stored;
      const slash = outboxKey.indexOf('/');
      const source = Number(outboxKey.slice(0, slash));
      if (owns(source)) this.next.set(source, Math.max(this.next.get(source) ?? 0, Number(outboxKey.slice(slash + 1)) + 1));
      // Emitted by a version whose processors declared this type; kept, in case it comes back.
      if (!this.applierOf(event)) console.error(`omni: derived event '${event.id}' (${event.type}) has no processor; left in the outbox`);
      else {
        const item = this.item(outboxKey, event, arrival);
        if (owns(item.partition)) items.push(item);
      }
    }
    return items;
  }

  /** A derived event as it crosses to the engine thread applying its partition. */
  static wire(item: DerivedItem): DerivedWire {
    return [item.outboxKey, item.event, item.arrival, item.partition];
  }

  /** A derived event another engine emitted for a partition this one applies. */
  fromWire([outboxKey, event, arrival]: DerivedWire): DerivedItem {
    return { ...this.item(outboxKey, event, arrival), relayed: true };
  }

  /** A derived event another node emitted, read from its partition's log; undefined when no processor applies its type. */
  fromLog(event: InputEvent, arrival: number): DerivedItem | undefined {
    return this.applierOf(event) ? this.item('', event, arrival) : undefined;
  }

  /**
   * Entries another node's log holds now (Engine.derivedSent): out of the outbox in this batch,
   * unless a batch here took them (their partition became local meanwhile).
   */
  drop(set: WriteSet, keys: readonly unknown[]): void {
    for (const k of keys) {
      if (typeof k !== 'string' || this.taken.has(k)) continue;
      this.taken.add(k);
      set.outbox.set(k, undefined);
    }
  }

  /** The processor applying a derived event: its type's owner, or for a follow event its follower. */
  private applierOf(event: InputEvent): Processor | undefined {
    if (!isFollowEvent(event)) return this.owners.get(event.type);
    const follower = this.followers.get(event.follower);
    return follower?.onFollowed ? follower : undefined;
  }

  private item(outboxKey: string, event: InputEvent, arrival: number): DerivedItem {
    const processor = this.applierOf(event)!;
    // A follow event goes where its follower keys the events it carries (all to one partition).
    const keyed = isFollowEvent(event) ? event.followed[0][0] : event;
    return { kind: 'derived', event, processor, partition: this.partitions.of(processor.partitionKey(keyed)), outboxKey, arrival };
  }
}
