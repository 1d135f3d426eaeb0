// What one stock event does, collected before anything is written: copy-on-write SKU
// records, the topics they change, and the alerts their rows cross into (sent to the one
// partition that publishes alerts). A handler that
// rejects simply drops its Change, so a rejection never writes anything.

import type { ErrorCode } from '../errors.ts';
import type { Effects, FinalResult, InputEvent, PendingAnswer, StateView, TimerSpec } from '../types.ts';
import { availableAt, keys, locationTopic, namesOf, ON_HAND, RESERVED, SAFETY, type Location, type SkuNames, type SkuState } from './types.ts';

/** Rows stay within ±10^12 units, so SKU totals stay exact (below 2^53) up to 9,000 locations. */
export const MAX_ROW_UNITS = 1e12;

/** Thrown by a change that must not happen; the processor turns it into a rejection. */
export class StockRejection extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface SkuEntry {
  sku: string;
  names: SkuNames;
  /** This event's own copy, made on its first change. */
  state: SkuState | undefined;
}

export class StockChange {
  /** The SKUs this event has looked at: almost always one, so a list beats a map. */
  private readonly entries: SkuEntry[] = [];
  private readonly writes: Array<[string, unknown]> = [];
  private readonly changed: string[] = [];
  private timerSets: TimerSpec[] | undefined;
  private timerCancels: string[] | undefined;
  private emitted: InputEvent[] | undefined;
  private answered: PendingAnswer[] | undefined;
  private alerts = 0;

  constructor(
    readonly view: StateView,
    private readonly defaultLowStock: number,
    /** The id of the event (or timer) applied: the derived events carrying its alerts are named after it. */
    private readonly cause: string,
  ) {}

  private entry(sku: string): SkuEntry {
    for (const e of this.entries) if (e.sku === sku) return e;
    const e: SkuEntry = { sku, names: namesOf(sku), state: undefined };
    this.entries.push(e);
    return e;
  }

  private lastLocation: Location | undefined;

  location(id: string): Location | undefined {
    // Most events name one location several times (check, then threshold): read it once.
    if (this.lastLocation?.id === id) return this.lastLocation;
    const loc = this.view.get<Location>(keys.location(id));
    if (loc) this.lastLocation = loc;
    return loc;
  }

  /** The SKU's rows as this event sees them (its own changes included). */
  skuState(sku: string): SkuState | undefined {
    const e = this.entry(sku);
    return e.state ?? this.view.get<SkuState>(e.names.key);
  }

  /** Units available to sell at a location (0 for a row that does not exist). */
  available(sku: string, location: string): number {
    const state = this.skuState(sku);
    const i = state ? state.locations.indexOf(location) : -1;
    return i < 0 ? 0 : availableAt(state!, i);
  }

  /** The row's index in this event's own copy of the SKU record, adding the row if new. */
  private writableRow(e: SkuEntry, location: string): { state: SkuState; i: number; isNew: boolean } {
    let state = e.state;
    if (!state) {
      // Copied once per event; the view's object is never changed. `locations` is shared
      // until a location is added.
      const prev = this.view.get<SkuState>(e.names.key);
      const sku = e.sku;
      state = prev ? { sku, locations: prev.locations, rows: prev.rows.slice() } : { sku, locations: [], rows: [] };
      e.state = state;
    }
    let i = state.locations.indexOf(location);
    const isNew = i < 0;
    if (isNew) {
      state.locations = [...state.locations, location];
      i = state.locations.length - 1;
      state.rows.push(0, 0, 0);
    }
    return { state, i, isNew };
  }

  /**
   * Changes one row: deltas for onHand and reserved, or a new value for onHand or safety.
   * Raises low-stock when available falls to or below the location's threshold (a new row
   * counts as coming from above). Returns the row's new onHand.
   */
  change(
    sku: string,
    location: string,
    delta: { onHand?: number; reserved?: number; setOnHand?: number; setSafety?: number },
  ): number {
    const e = this.entry(sku);
    const { state, i, isNew } = this.writableRow(e, location);
    const before = isNew ? Infinity : availableAt(state, i);
    const r = state.rows;
    const at = 3 * i;
    if (delta.onHand) r[at + ON_HAND] += delta.onHand;
    if (delta.reserved) r[at + RESERVED] += delta.reserved;
    if (delta.setOnHand !== undefined) r[at + ON_HAND] = delta.setOnHand;
    if (delta.setSafety !== undefined) r[at + SAFETY] = delta.setSafety;
    if (Math.abs(r[at + ON_HAND]) > MAX_ROW_UNITS || r[at + RESERVED] > MAX_ROW_UNITS) {
      throw new StockRejection('invalid_event', `${sku} at ${location} would pass ${MAX_ROW_UNITS} units`);
    }
    this.changed.push(e.names.topic, locationTopic(e.names, sku, location));
    const threshold = this.location(location)?.lowStock ?? this.defaultLowStock;
    const after = availableAt(state, i);
    if (after <= threshold && before > threshold) {
      this.alert({ type: 'low_stock', sku, location, available: after, threshold });
    }
    return r[at + ON_HAND];
  }

  put(key: string, value: unknown): void {
    this.writes.push([key, value]);
  }

  /** A state topic whose rendering this change alters without a row changing (an order's). */
  touch(topic: string): void {
    this.changed.push(topic);
  }

  /**
   * Raises an alert: `alerts/stock` has one seq counter, so only ALERTS_OWNER's partition
   * publishes on it (stock.alert, handlers.ts), one commit after this change.
   */
  alert(data: Record<string, unknown>): void {
    this.emit({ id: `${this.cause}/alert/${this.alerts++}`, type: 'stock.alert', alert: data });
  }

  setTimer(t: TimerSpec): void {
    (this.timerSets ??= []).push(t);
  }

  cancelTimer(id: string): void {
    // The engine applies a step's cancels before its settings: a timer this step set (an order
    // readied and picked up in one step) is dropped here, or it would outlive its cancel.
    if (this.timerSets) this.timerSets = this.timerSets.filter((t) => t.id !== id);
    (this.timerCancels ??= []).push(id);
  }

  /** A derived event, for a step of a saga at another key (holds.ts, reservations.ts, order-saga.ts). */
  emit(event: InputEvent): void {
    (this.emitted ??= []).push(event);
  }

  /** The final answer of an event left pending; `event` lets its followers react when it is ok. */
  answer(id: string, result: FinalResult, event?: InputEvent): void {
    (this.answered ??= []).push(event ? { id, result, event } : { id, result });
  }

  effects(result: Record<string, unknown> = {}): Effects {
    for (const e of this.entries) if (e.state) this.writes.push([e.names.key, e.state]);
    const effects: Effects = { result: { ok: true, ...result }, writes: this.writes, changed: this.changed };
    if (this.timerSets || this.timerCancels) effects.timers = { set: this.timerSets, cancel: this.timerCancels };
    if (this.emitted) effects.emit = this.emitted;
    if (this.answered) effects.answers = this.answered;
    return effects;
  }

  /** The effects of an event whose answer comes later, from a step this one emitted. */
  pending(): Effects {
    return { ...this.effects(), result: { ok: true, pending: true } };
  }
}
