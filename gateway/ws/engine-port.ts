// The part of the engine the push layer uses, declared structurally like ../engine-port.ts.

import type { Output } from '../../engine/mod.ts';
import type { TopicSnapshot } from '../engine-port.ts';

export interface PushEngine {
  /** Names this data dir's history; a client's seqs are void under another epoch. */
  readonly epoch: string;
  /** Durable state of a state topic, or undefined when it has none (or is an event topic). */
  snapshot(topic: string): TopicSnapshot | undefined;
  /** Seq of the last durable update of any topic (0 if none). */
  lastSeq(topic: string): number;
  /** State topics are rendered only where this answers true. */
  setInterest(predicate: ((topic: string) => boolean) | undefined): void;
  /**
   * The push layer starts or stops keeping `topic` (an engine on another thread renders only
   * the state topics named so, besides `setInterest`). Optional: the in-thread engine asks the
   * predicate instead.
   */
  watch?(topic: string, watched: boolean): void;
  /** Called once per durable batch, in commit order, after its state is readable. */
  onOutput(listener: (outputs: Output[]) => void): () => void;
}
