// Partitions applied elsewhere: in a cluster each node has its own data dir and applies only the
// partitions it holds a lease for. A derived event for a partition of another node is committed
// in the emitting batch's outbox as always, then handed to `RemotePartitions.send` once that
// batch is durable; the caller appends it to the target partition's log and calls
// `derivedSent`, which deletes it from the outbox in a commit of its own. A crash in between
// leaves it in the outbox, and it is sent again (at open, and whenever the set of local
// partitions is given again): the node applying the log drops the second copy by its id.
//
// Derived ids are deterministic, so the dedup index remembers the derived events applied (under
// `derivedDedupId`, which no sender's id can collide with) whenever remote partitions are set,
// and always for those read from a log. That makes a partition that becomes local safe: its
// derived events still in this outbox are applied here, and a copy of one already appended to
// its log (and read by this node, now its owner) is recognised as applied, whichever comes first.

import { rejection } from './errors.ts';
import type { DedupIndex } from './dedup.ts';
import type { Batch, DerivedItem, Item } from './items.ts';
import { Outbox, type DerivedWire } from './outbox.ts';
import { MAX_PARTITIONS } from './partitions.ts';
import type { WriteSet } from './store.ts';
import type { EventResult, InputEvent, LoggedDerived, RemoteDerived, RemotePartitions } from './types.ts';

/** A derived event's dedup id: senders' ids hold no control character (validate.ts, idProblem). */
export const derivedDedupId = (id: string) => `\u0001d${id}`;

const PLAIN_OK = { ok: true };

/** `remote` when it can be called as RemotePartitions (or undefined); a TypeError otherwise. */
export function checkedRemote(remote: RemotePartitions | undefined): RemotePartitions | undefined {
  if (remote !== undefined && (typeof remote?.isLocal !== 'function' || typeof remote.send !== 'function' || !['function', 'undefined'].includes(typeof remote.answered))) {
    throw new TypeError('remote partitions need isLocal(partition) and send(items) functions (and answered(results), if any)');
  }
  return remote;
}

/** The partitions `remote` names local, as plain data for engine threads (every partition a data dir may have). */
export function localPartitions(remote: RemotePartitions): number[] {
  checkedRemote(remote);
  return Array.from({ length: MAX_PARTITIONS }, (_, p) => p).filter((p) => remote.isLocal(p));
}

export function isLoggedDerived(entry: unknown): entry is LoggedDerived {
  return typeof entry === 'object' && entry !== null && 'derived' in entry;
}

/** The derived event of partition `partition`'s log entry, ready to queue, or the answer refusing it. */
export function derivedOfLog(outbox: Outbox, partition: number, entry: LoggedDerived, arrival: number): { item: DerivedItem } | { refused: EventResult } {
  const event = entry.derived as Partial<InputEvent> | null;
  const id = typeof event?.id === 'string' ? event.id : '';
  let item: DerivedItem | undefined;
  try {
    item = id.length > 0 && typeof event?.type === 'string' ? outbox.fromLog(event as InputEvent, Number.isFinite(entry.arrival) ? entry.arrival! : arrival) : undefined;
  } catch {
    // A key its processor could not compute (a malformed event): refused below like an unknown one.
  }
  if (!item) return { refused: { id, ...rejection('invalid_event', `log entry ${entry.seq} is not a derived event any processor applies`) } };
  if (item.partition !== partition) return { refused: { id, ...rejection('wrong_partition', `derived event '${id}' belongs to partition ${item.partition}, not to the log of partition ${partition}`) } };
  return { item };
}

export class RemoteRouting {
  private remote: RemotePartitions | undefined;
  /** Derived ids recorded by batches not yet durable (the dedup index reads committed state only). */
  private readonly recent = new Set<string>();

  /** Some partitions are applied elsewhere: derived events applied here are remembered by id. */
  get active(): boolean {
    return this.remote !== undefined;
  }

  set(remote: RemotePartitions | undefined): void {
    this.remote = checkedRemote(remote);
  }

  /**
   * Hands derived events (or answers) to the caller. Its failure stops nothing: the events stay
   * in the outbox and are sent again with the next setRemote or open; an answer is lost, as one
   * whose sender went away.
   */
  private hand(what: 'send' | 'answered', items: RemoteDerived[] | EventResult[]): void {
    try {
      if (what === 'send') this.remote!.send(items as RemoteDerived[]);
      else this.remote?.answered?.(items as EventResult[]);
    } catch (err) {
      console.error(`omni: RemotePartitions.${what} failed:`, err);
    }
  }

  readonly isLocal = (p: number): boolean => this.remote === undefined || this.remote.isLocal(p);

  /**
   * Whether derived event `id` was applied already; if not, it is from now on (recorded in the
   * batch). Called for every derived event read from a log, and for the outbox's while active.
   */
  seen(set: WriteSet, dedup: DedupIndex, id: string, now: number): boolean {
    const key = derivedDedupId(id);
    if (this.recent.has(key) || dedup.lookup(key, now)) return true;
    this.recent.add(key);
    dedup.record(set, key, 0, PLAIN_OK);
    return false;
  }

  /**
   * Outbox entries for partitions `owns` names: queued here when local (as relayed copies, which
   * the outbox applies once however many reach it), sent when not. At start, and on setRemote.
   * Those `copied` names are copies of another node's (changelog.ts): its owner's to send.
   */
  resend(outbox: Outbox, owns: (p: number) => boolean, queue: Item[], again: boolean, copied: (outboxKey: string) => boolean): void {
    const away: RemoteDerived[] = [];
    for (const item of outbox.restore(owns)) {
      if (copied(item.outboxKey)) continue;
      if (!this.isLocal(item.partition)) away.push(remoteOf(item));
      else queue.push(again ? { ...item, relayed: true } : item);
    }
    if (away.length > 0) this.hand('send', away);
  }

  /**
   * A batch is durable: its logged derived entries are answered, its answers delivered (those
   * nobody here waits for go to `answered`), and its derived events queued here, sent to other
   * nodes, or returned for the engine thread applying their partition.
   */
  finish(batch: Batch, owns: (p: number) => boolean, queue: Item[], deliver: (id: string, result: EventResult) => boolean, answerLogged: (item: DerivedItem) => void): DerivedWire[] {
    if (this.recent.size > 0) for (const id of batch.set.dedupIds) if (id.charCodeAt(0) === 1) this.recent.delete(id);
    const unheard = batch.foreignAnswers ?? [];
    for (const item of batch.items) if (item.kind === 'derived' && item.logged) answerLogged(item);
    for (const a of batch.answers) if (!deliver(a.id, a.result)) unheard.push(a.result);
    if (unheard.length > 0) this.hand('answered', unheard);
    const away: DerivedWire[] = [];
    const sent: RemoteDerived[] = [];
    for (const item of batch.emitted) {
      if (!this.isLocal(item.partition)) sent.push(remoteOf(item));
      else if (owns(item.partition)) queue.push(item);
      else away.push(Outbox.wire(item));
    }
    if (sent.length > 0) this.hand('send', sent);
    return away;
  }
}

const remoteOf = (item: DerivedItem): RemoteDerived => ({ partition: item.partition, event: item.event, outboxKey: item.outboxKey, arrival: item.arrival });
