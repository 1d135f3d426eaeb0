// What one service event (or timer) does, collected before anything is written: the records it
// staged (its own copies; the view's objects are never changed), messages, timers, and the
// requests whose status the customer is told about once the event is done.

import type { ErrorCode } from '../errors.ts';
import { StagedState } from '../staged-state.ts';
import type { Effects, InputEvent, StateView, TimerSpec } from '../types.ts';
import type { CaseTimer } from './cases/types.ts';
import type { RecordEditor } from './ranked-list.ts';
import type { Agent, CustomerRecord, ServiceOptions, ServiceRequest, TimerData } from './types.ts';
import { keys } from './types.ts';

/** One event type's step: stages its changes in a ServiceChange and returns its effects. */
export type Handler = (c: ServiceChange, ev: InputEvent) => Effects;

/** Thrown by a handler that must refuse the event; the processor turns it into a rejection. */
export class ServiceRejection extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type ResolvedOptions = Required<Omit<ServiceOptions, 'customerContext' | 'customerProfile'>> &
  Pick<ServiceOptions, 'customerContext' | 'customerProfile'>;

export class ServiceChange extends StagedState implements RecordEditor {
  private readonly messages: Array<{ topic: string; data: unknown }> = [];
  private readonly changed = new Set<string>();
  /** The last set (or cancel, null) per timer id: the engine applies cancels before sets. */
  private readonly timers = new Map<string, TimerSpec | null>();
  /** Requests whose final status goes to `request/<id>` when the event is done, in order. */
  readonly touched = new Set<string>();
  /** Request lanes an entry entered or left: their heads are told new positions (positions.ts). */
  readonly lanesMoved = new Set<string>();
  /** Per request: more for its status message and for the answer to its service.requested (predicted wait, bot). */
  readonly statusNotes = new Map<string, Record<string, unknown>>();

  constructor(
    view: StateView,
    readonly options: ResolvedOptions,
    /** The clock: offers, SLAs, waiting times and idle times all run on it. */
    readonly now: number,
  ) {
    super(view);
  }

  edit<T>(key: string, copy: (value: T) => T): T | undefined {
    if (this.staged.has(key)) return this.staged.get(key) as T | undefined;
    const value = this.view.get<T>(key);
    if (value === undefined) return undefined;
    const own = copy(value);
    this.staged.set(key, own);
    return own;
  }

  agent(id: string): Agent | undefined {
    return this.get<Agent>(keys.agent(id));
  }

  request(id: string): ServiceRequest | undefined {
    return this.get<ServiceRequest>(keys.request(id));
  }

  /** The customer a request belongs to now: after a merge, the survivor. */
  ownerOf(r: ServiceRequest): string {
    return this.options.resolveCustomer(this, r.customer) ?? r.customer;
  }

  customer(id: string): CustomerRecord | undefined {
    return this.get<CustomerRecord>(keys.customer(id));
  }

  message(topic: string, data: unknown): void {
    this.messages.push({ topic, data });
  }

  noteStatus(request: string, note: Record<string, unknown>): void {
    this.statusNotes.set(request, { ...this.statusNotes.get(request), ...note });
  }

  topicChanged(topic: string): void {
    this.changed.add(topic);
  }

  setTimer(id: string, at: number, data: TimerData | CaseTimer): void {
    this.timers.set(id, { id, at, data });
  }

  cancelTimer(id: string): void {
    this.timers.set(id, null);
  }

  /** The staged state as effects. */
  effects(result: Record<string, unknown> = {}): Effects {
    const writes = this.writes();
    const effects: Effects = { result: { ok: true, ...result }, writes, changed: [...this.changed] };
    if (this.messages.length > 0) effects.messages = this.messages;
    if (this.timers.size > 0) {
      const set: TimerSpec[] = [];
      const cancel: string[] = [];
      for (const [id, spec] of this.timers) {
        if (spec) set.push(spec);
        else cancel.push(id);
      }
      effects.timers = { set, cancel };
    }
    return effects;
  }
}
