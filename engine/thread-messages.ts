// What the gateway's thread and the engine's thread say to each other (threaded-engine.ts,
// engine-thread.ts). Events, answers and outputs travel as msgpack bytes: one message per turn
// of the event loop carries every submission (or every answer) of that turn, so the cost of a
// message between threads is paid per turn, not per request.

import { Packr } from 'msgpackr';
import type { DomainOptions } from './processors.ts';
import type { BatchStats, EngineLayout, EngineOptions, EngineStats, EventResult, Output, PrebuiltEvent } from './types.ts';

/** Plain msgpack on both sides: no records, no extensions but `undefined` (an unrendered output). */
const packr = new Packr({ useRecords: false, moreTypes: false });

/** `__proto__` as msgpack writes it (a fixstr of 9 bytes), key or value. */
const PROTO = Buffer.from([0xa9, ...Buffer.from('__proto__')]);

/**
 * What crosses: msgpack bytes, or — for the rare value holding the string `__proto__`, which
 * msgpackr's decoder renames when it is a key (an id may be `__proto__`, and a location of that
 * name is a key of the SKU's topic) — the value itself, which the structured clone of
 * `postMessage` keeps exactly.
 */
export type Payload = Uint8Array | { cloned: unknown };

/**
 * The bytes in a buffer of their own: msgpackr packs into a large buffer it reuses, and posting a
 * view of it would copy (or, transferred, take away) all of that buffer, not just these bytes.
 */
export function pack(value: unknown): Payload {
  const bytes = packr.pack(value);
  if (bytes.indexOf(PROTO) !== -1) return { cloned: value };
  return new Uint8Array(bytes);
}

export function unpack<T>(payload: Payload): T {
  return (payload instanceof Uint8Array ? packr.unpack(payload) : payload.cloned) as T;
}

/** Everything the engine's thread needs to open the engine: plain data, cloned once at start. */
export type EngineThreadConfig = Pick<EngineOptions, 'path' | 'durability' | 'partitions' | 'share' | 'maxBatch' | 'maxInFlight' | 'dedupRetentionMs' | 'cacheEntries' | 'mapSize' | 'autoTimers' | 'scrubDelayMs' | 'rewriteAfterErasure'> & {
  domains: DomainOptions;
  /** The partitions this node applies when some are applied elsewhere (remote-partitions.ts localPartitions). */
  local?: number[];
};

/** One submission: its number (to match the answers) and its events, built and checked. */
export type PackedSubmission = [sub: number, events: PrebuiltEvent[]];

/** The answers to one submission, or the reason it failed (the engine stopped). */
export type PackedAnswer = [sub: number, results: EventResult[] | null, failure?: string];

export type ToEngine =
  | { kind: 'submit'; submissions: Payload }
  /**
   * Which state topics to render: none (nobody takes outputs: event-topic messages are dropped
   * too), every changed one, or only those named through `watch`.
   */
  | { kind: 'interest'; render: 'none' | 'all' | 'watched' }
  | { kind: 'watch'; add: string[]; drop: string[] }
  /** Derived events another engine thread emitted for this one's partitions (msgpack of DerivedWire[]). */
  | { kind: 'derived'; items: Payload }
  /** Entries of one partition's log (msgpack of LogEntry[]), answered as submission `sub`. */
  | { kind: 'logged'; sub: number; partition: number; entries: Payload }
  /** The partitions this node applies now (null: all of them), as Engine.setRemote. */
  | { kind: 'remote'; local: number[] | null }
  /** Outbox keys other nodes' logs now hold (Engine.derivedSent). */
  | { kind: 'sent'; keys: string[] }
  /**
   * Answered by `returned`. A store rewrite's steps (threaded-rewrite.ts): `rewrite-pause` stops
   * batches, `rewrite-close` closes the store (messages wait until it reopens), `rewrite-reopen`
   * opens the new file and checks its generation (`arg`).
   */
  | { kind: 'call'; call: number; name: EngineThreadCall; arg?: string }
  /** A replicator is set (or none is): batches' changes go to the other thread first (changelog-link.ts). */
  | { kind: 'replicator'; on: boolean }
  /** The seqs of a `replicate` (null: it failed, and is tried again unless `closed`: the engine is closing). */
  | { kind: 'replicated'; call: number; seqs: number[] | null; error?: string; closed?: true }
  /** Another node's changes of a partition this thread keeps a copy of (msgpack of Engine.applyChanges' changes). */
  | { kind: 'changes'; call: number; partition: number; changes: Payload }
  | { kind: 'close' };

export type EngineThreadCall = 'idle' | 'timers' | 'rewrite-pause' | 'rewrite-close' | 'rewrite-reopen';

/** How often the engine's counters cross over (they are read when /metrics is scraped). */
export const STATS_EVERY_MS = 250;

export interface EngineThreadStats extends Omit<EngineStats, 'eventsByTypeAndResult'> {
  counts: Array<[string, number]>;
}

export type FromEngine =
  /** With the engine's figures as it starts (timers it already holds), so stats() is right before the first batch. */
  | { kind: 'ready'; epoch: string; layout: EngineLayout; stats: EngineThreadStats }
  | { kind: 'start-failed'; message: string; name: string; mismatch?: { dir: string; stored: number; requested: number } }
  | { kind: 'answers'; answers: Payload }
  /** A durable batch's outputs (msgpack of Output[]), before its stats. */
  | { kind: 'outputs'; outputs: Payload }
  | { kind: 'batch'; stats: BatchStats }
  /** The engine's counters: after a batch at most every STATS_EVERY_MS (and after the last), and before a call returns. */
  | { kind: 'stats'; engine: EngineThreadStats }
  | { kind: 'returned'; call: number; value: number }
  /** Derived events for other engine threads' partitions, emitted by a durable batch (msgpack of DerivedWire[]). */
  | { kind: 'relay'; items: Payload }
  /** Derived events for other nodes' partitions (msgpack of RemoteDerived[]), for RemotePartitions.send. */
  | { kind: 'remote'; items: Payload }
  /** Answers nobody waits for on this node (msgpack of EventResult[]), for RemotePartitions.answered. */
  | { kind: 'unheard'; answers: Payload }
  | { kind: 'fatal'; message: string }
  /** A durable batch asked for a store rewrite (Effects.scrub): the thread that started the engine's runs it. */
  | { kind: 'scrub' }
  /** A batch's changes (msgpack of PartitionChange[]) for the replicator; answered by `replicated`. */
  | { kind: 'replicate'; call: number; batchId: string; changes: Payload }
  /** A `changes` call is durable, or was refused (`error`, and the error's name). */
  | { kind: 'changes-applied'; call: number; error?: string; name?: string }
  | { kind: 'closed' };

export type { Output };

/** A message's own byte buffers, handed over to the other thread rather than copied. */
export function transferList(message: ToEngine | FromEngine): ArrayBuffer[] {
  const bytes =
    'submissions' in message ? message.submissions : 'changes' in message ? message.changes : 'entries' in message ? message.entries : 'answers' in message ? message.answers : 'outputs' in message ? message.outputs : 'items' in message ? message.items : undefined;
  return bytes instanceof Uint8Array ? [bytes.buffer as ArrayBuffer] : [];
}
