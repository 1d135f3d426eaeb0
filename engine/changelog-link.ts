// The changelog of an engine on threads of its own (threaded-engine.ts): the replicator is called
// on the thread that took the engine's requests, which is where the cluster's connection lives.
// An engine thread posts each batch's changes and waits for their seqs (a message round trip,
// its retries included); a copy's changes go to the engine thread keeping their partition.

import { EngineClosedError } from './errors.ts';
import type { PartitionChange, Replicator } from './partition-track.ts';
import { pack, unpack, type FromEngine, type ToEngine } from './thread-messages.ts';

type Replicate = Extract<FromEngine, { kind: 'replicate' }>;
type Applied = Extract<FromEngine, { kind: 'changes-applied' }>;

/** An error as it crossed threads: its kind kept, so a refusal is still a RangeError or TypeError. */
function revived(name: string | undefined, message: string): Error {
  if (name === 'RangeError') return new RangeError(message);
  if (name === 'TypeError') return new TypeError(message);
  return new Error(message);
}

/** The engine thread's side: a Replicator whose calls are answered by the other thread. */
export function threadReplicator(post: (m: FromEngine) => void): { replicator: Replicator; replied(m: Extract<ToEngine, { kind: 'replicated' }>): void } {
  let calls = 0;
  const waiting = new Map<number, { resolve(seqs: number[]): void; reject(err: Error): void }>();
  return {
    replicator: {
      replicate(changes, batchId) {
        const call = ++calls;
        post({ kind: 'replicate', call, batchId, changes: pack(changes) });
        return new Promise((resolve, reject) => waiting.set(call, { resolve, reject }));
      },
    },
    replied(m) {
      const w = waiting.get(m.call);
      waiting.delete(m.call);
      if (m.seqs) w?.resolve(m.seqs);
      // Closing: the engine stops retrying (changelog.ts), as one in this thread does when it closes.
      else w?.reject(m.closed ? new EngineClosedError() : new Error(m.error ?? 'replicate failed'));
    },
  };
}

/** The requests thread's side: the replicator, and the applyChanges calls waiting for their engine thread. */
export class ChangelogLink {
  private replicator: Replicator | undefined;
  private calls = 0;
  private readonly applying = new Map<number, { resolve(): void; reject(err: Error): void }>();
  /** Changes being replicated, by batchId: a retry is given the same objects again. */
  private readonly replicating = new Map<string, PartitionChange[]>();
  /** The engine closes: a failed replication is not tried again. */
  closing = false;

  constructor(private readonly send: (slot: number, m: ToEngine) => void) {}

  set(replicator: Replicator | undefined, slots: number): void {
    if (replicator !== undefined && typeof replicator?.replicate !== 'function') throw new TypeError('a replicator needs a replicate(changes, batchId) function');
    this.replicator = replicator;
    for (let slot = 0; slot < slots; slot++) this.send(slot, { kind: 'replicator', on: replicator !== undefined });
  }

  /** Engine thread `slot` asks for a batch's changes to be replicated. */
  replicate(slot: number, m: Replicate): void {
    let changes = this.replicating.get(m.batchId);
    if (!changes) this.replicating.set(m.batchId, (changes = unpack<PartitionChange[]>(m.changes)));
    const reply = (seqs: number[] | null, error?: string) => this.send(slot, { kind: 'replicated', call: m.call, seqs, error, ...(seqs === null && this.closing ? { closed: true as const } : {}) });
    const replicator = this.replicator;
    if (!replicator) return reply(null, 'no replicator is set');
    let answer: Promise<number[]>;
    try {
      answer = Promise.resolve(replicator.replicate(changes, m.batchId));
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (seqs) => {
        this.replicating.delete(m.batchId);
        reply(seqs);
      },
      (err: unknown) => reply(null, err instanceof Error ? err.message : String(err)),
    );
  }

  /** Changes of `partition` for engine thread `slot`; settled once it reports them durable. */
  apply(slot: number, partition: number, changes: unknown): Promise<void> {
    const call = ++this.calls;
    this.send(slot, { kind: 'changes', call, partition, changes: pack(changes) });
    return new Promise((resolve, reject) => this.applying.set(call, { resolve, reject }));
  }

  applied(m: Applied): void {
    const w = this.applying.get(m.call);
    this.applying.delete(m.call);
    if (m.error === undefined) w?.resolve();
    else w?.reject(revived(m.name, m.error));
  }

  failAll(err: Error): void {
    for (const w of this.applying.values()) w.reject(err);
    this.applying.clear();
    this.replicating.clear();
  }
}
