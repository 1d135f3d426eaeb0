// Calls waiting for their answer: events (matched by `ref` = event id), ops (by their generated
// `id`) and pings (pong `id`). A call made while disconnected waits in an outbox and goes out on
// the next open: it cannot have been applied, so holding it is safe. A call already on the wire
// when the socket closes is rejected, because its outcome is unknown; the caller decides whether
// to resend (event ids make that safe).

import { DisconnectedError, TimeoutError } from './errors.ts';
import type { ClientFrame } from './types.ts';

export type CallKind = 'result' | 'pong';

interface Call {
  key: string;
  frame: ClientFrame;
  what: string;
  /** When it went on the wire (for ping round trips); undefined while in the outbox. */
  sentAt?: number;
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export const now: () => number =
  typeof globalThis.performance?.now === 'function' ? () => globalThis.performance.now() : () => Date.now();

export class PendingCalls {
  #calls = new Map<string, Call>();

  constructor(private readonly timeoutMs: number) {}

  /**
   * Registers a call. If one with the same key is already waiting (the same event sent twice
   * before its answer), the caller shares its promise instead of putting a second copy on the wire.
   */
  add(kind: CallKind, id: string, frame: ClientFrame, what: string, timeoutMs = this.timeoutMs): { promise: Promise<unknown>; isNew: boolean } {
    const key = `${kind}:${id}`;
    const existing = this.#calls.get(key);
    if (existing) return { promise: existing.promise, isNew: false };
    let resolve!: (value: unknown) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const call: Call = { key, frame, what, promise, resolve, reject, timer: undefined };
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      call.timer = setTimeout(() => this.#settle(key)?.reject(new TimeoutError(what, timeoutMs)), timeoutMs);
    }
    this.#calls.set(key, call);
    return { promise, isNew: true };
  }

  /** Frames of the calls not yet on the wire, oldest first, marking them sent. */
  takeUnsent(): ClientFrame[] {
    const frames: ClientFrame[] = [];
    for (const call of this.#calls.values()) {
      if (call.sentAt === undefined) {
        call.sentAt = now();
        frames.push(call.frame);
      }
    }
    return frames;
  }

  /** The call `id` was written to the socket just now. */
  markSent(kind: CallKind, id: string): void {
    const call = this.#calls.get(`${kind}:${id}`);
    if (call) call.sentAt = now();
  }

  /** Resolves a call; for pongs the value is the round trip in ms. Returns false if none waits. */
  resolve(kind: CallKind, id: string, value?: unknown): boolean {
    const call = this.#settle(`${kind}:${id}`);
    if (!call) return false;
    call.resolve(kind === 'pong' ? now() - (call.sentAt ?? now()) : value);
    return true;
  }

  reject(kind: CallKind, id: string, error: Error): boolean {
    const call = this.#settle(`${kind}:${id}`);
    if (!call) return false;
    call.reject(error);
    return true;
  }

  /** The socket closed: every call on the wire fails; the outbox keeps waiting for the next open. */
  rejectSent(closeCode: number, reason: string): void {
    for (const call of [...this.#calls.values()]) {
      if (call.sentAt !== undefined) this.#settle(call.key)?.reject(new DisconnectedError(closeCode, reason));
    }
  }

  rejectAll(error: Error): void {
    for (const call of [...this.#calls.values()]) this.#settle(call.key)?.reject(error);
  }

  #settle(key: string): Call | undefined {
    const call = this.#calls.get(key);
    if (!call) return undefined;
    this.#calls.delete(key);
    if (call.timer !== undefined) clearTimeout(call.timer);
    return call;
  }
}
