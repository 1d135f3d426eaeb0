// What a data dir records about itself when an engine first opens it, before any batch: the
// partition count (every later start routes each key to the same partition), the epoch (the
// name of its history: a new one voids subscribers' seqs) and how many engine threads ever kept
// dedup answers in it (a retry may find its first answer with any of them). The first engine
// thread writes them; the others start after it and read them.

import { randomUUID } from 'node:crypto';
import { DEDUP_SLOTS_KEY } from './dedup.ts';
import { PARTITIONS_KEY } from './partitions.ts';
import type { StateStore } from './store.ts';

const EPOCH_KEY = '$epoch';

/** The epoch the first engine thread recorded (read by the others). */
export const recordedEpoch = (store: StateStore): string => store.durable.get<string>(EPOCH_KEY) ?? '';

async function record(store: StateStore, key: string, value: unknown): Promise<void> {
  await store.state.put(key, value);
  await store.root.flushed;
}

/** Writes what is missing (or grew) and returns the data dir's epoch. */
export async function recordDataDir(store: StateStore, partitions: number, engineThreads: number): Promise<string> {
  if (engineThreads > (store.durable.get<number>(DEDUP_SLOTS_KEY) ?? 1)) await record(store, DEDUP_SLOTS_KEY, engineThreads);
  if (store.state.get(PARTITIONS_KEY) === undefined) await record(store, PARTITIONS_KEY, partitions);
  let epoch = store.durable.get<string>(EPOCH_KEY);
  if (!epoch) {
    epoch = randomUUID();
    await record(store, EPOCH_KEY, epoch);
  }
  return epoch;
}
