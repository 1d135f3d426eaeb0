// A tiny typed event emitter: Node's EventEmitter is not in browsers and EventTarget loses the
// payload types, so the client carries its own.

export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** `onListenerError` receives what a listener throws: an application bug in one listener must
   * not break the connection's bookkeeping, nor crash a Node process from inside a socket callback. */
  constructor(private readonly onListenerError: (error: unknown) => void) {}

  on<K extends keyof Events>(name: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set.delete(listener as (payload: never) => void);
  }

  listenerCount(name: keyof Events): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    // A copy, so a listener may unsubscribe itself while we iterate.
    for (const listener of [...set]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
