// Who hears about the engine's progress: output listeners get each durable batch's outputs (in
// commit order), batch listeners its figures, fatal listeners a failed commit. A throwing output
// or batch listener is logged and stops neither the engine nor the other listeners.

import type { BatchStats, Output } from './types.ts';

export class EngineListeners {
  readonly #outputs = new Set<(outputs: Output[]) => void>();
  readonly #batches = new Set<(s: BatchStats) => void>();
  readonly #fatal = new Set<(err: Error) => void>();

  onOutput(listener: (outputs: Output[]) => void): () => void {
    this.#outputs.add(listener);
    return () => this.#outputs.delete(listener);
  }

  onBatch(listener: (s: BatchStats) => void): () => void {
    this.#batches.add(listener);
    return () => this.#batches.delete(listener);
  }

  onFatal(listener: (err: Error) => void): () => void {
    this.#fatal.add(listener);
    return () => this.#fatal.delete(listener);
  }

  /** Whether anyone takes outputs: without, the engine renders no state topic. */
  get rendering(): boolean {
    return this.#outputs.size > 0;
  }

  outputs(outputs: Output[]): void {
    if (outputs.length === 0) return;
    for (const listener of this.#outputs) {
      try {
        listener(outputs);
      } catch (err) {
        console.error('output listener failed:', err);
      }
    }
  }

  batch(stats: BatchStats): void {
    for (const listener of this.#batches) {
      try {
        listener(stats);
      } catch (err) {
        console.error('batch listener failed:', err);
      }
    }
  }

  fatal(err: Error): void {
    for (const listener of this.#fatal) listener(err);
  }
}
