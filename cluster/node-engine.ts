// What a node needs of its engine (Engine and ThreadedEngine in engine/ offer all of it): a
// partition's log applied exactly once, derived events for partitions owned elsewhere handed out,
// and every partition's changes handed to the changelog before commit (the partitions it owns) or
// applied from it (the others).

import type { EventResult, LogEntry, LoggedDerived, PartitionChange, RemotePartitions, Replicator } from '../engine/mod.ts';

export type { PartitionChange, Replicator };

export interface NodeEngine {
  submitLogged(partition: number, entries: ReadonlyArray<LogEntry | LoggedDerived>): Promise<EventResult[]>;
  logPosition(partition: number): number;
  setRemote(remote: RemotePartitions | undefined): void;
  derivedSent(outboxKeys: readonly string[]): void;
  setReplicator(replicator: Replicator | undefined): void;
  applyChanges(partition: number, changes: Array<{ seq: number; change: PartitionChange }>): Promise<void>;
  changelogPosition(partition: number): number;
  read<T>(key: string): T | undefined;
}

/** What a partition's owner needs: its log applied exactly once, and how far its log and changelog are. */
export type LoggedEngine = Pick<NodeEngine, 'submitLogged' | 'logPosition' | 'changelogPosition'>;
