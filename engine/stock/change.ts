// What one stock event does, collected before anything is written: copy-on-write SKU
// records, the topics they change, and the alerts their rows cross into. A handler that
// rejects simply drops its Change, so a rejection never writes anything.

import type { Effects, StateView, TimerSpec } from '../types.ts';
import { availableAt, keys, topics, type Location, type SkuState } from './types.ts';

export class StockChange {
  private readonly skus = new Map<string, SkuState>();
  private readonly writes: Array<[string, unknown]> = [];
  private readonly changed: string[] = [];
  private messages: Array<{ topic: string; data: unknown }> | undefined;
  private timerSets: TimerSpec[] | undefined;
  private timerCancels: string[] | undefined;

  constructor(
    readonly view: StateView,
    private readonly defaultLowStock: number,
  ) {}

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
    return this.skus.get(sku) ?? this.view.get<SkuState>(keys.sku(sku));
  }

  /** Units available to sell at a location (0 for a row that does not exist). */
  available(sku: string, location: string): number {
    const state = this.skuState(sku);
    const i = state ? state.locations.indexOf(location) : -1;
    return i < 0 ? 0 : availableAt(state!, i);
  }

  /** The row's index in this event's own copy of the SKU record, adding the row if new. */
  private writableRow(sku: string, location: string): { state: SkuState; i: number } {
    let state = this.skus.get(sku);
    if (!state) {
      // Copied once per event; the view's object is never changed.
      const prev = this.view.get<SkuState>(keys.sku(sku));
      state = prev
        ? {
            sku,
            locations: prev.locations.slice(),
            onHand: prev.onHand.slice(),
            reserved: prev.reserved.slice(),
            safety: prev.safety.slice(),
          }
        : { sku, locations: [], onHand: [], reserved: [], safety: [] };
      this.skus.set(sku, state);
    }
    let i = state.locations.indexOf(location);
    if (i < 0) {
      i = state.locations.push(location) - 1;
      state.onHand.push(0);
      state.reserved.push(0);
      state.safety.push(0);
    }
    return { state, i };
  }

  /**
   * Changes one row: deltas for onHand and reserved, or a new value for onHand or safety.
   * Raises low-stock when available falls to or below the location's threshold. Returns
   * the row's new onHand.
   */
  change(
    sku: string,
    location: string,
    delta: { onHand?: number; reserved?: number; setOnHand?: number; setSafety?: number },
  ): number {
    const { state, i } = this.writableRow(sku, location);
    const isNew = state.onHand[i] === 0 && state.reserved[i] === 0 && state.safety[i] === 0 && !this.hadRow(sku, location);
    const before = isNew ? Infinity : availableAt(state, i);
    if (delta.onHand) state.onHand[i] += delta.onHand;
    if (delta.reserved) state.reserved[i] += delta.reserved;
    if (delta.setOnHand !== undefined) state.onHand[i] = delta.setOnHand;
    if (delta.setSafety !== undefined) state.safety[i] = delta.setSafety;
    this.changed.push(topics.sku(sku), topics.skuAt(sku, location));
    const threshold = this.location(location)?.lowStock ?? this.defaultLowStock;
    const after = availableAt(state, i);
    if (after <= threshold && before > threshold) {
      this.alert({ type: 'low_stock', sku, location, available: after, threshold });
    }
    return state.onHand[i];
  }

  private hadRow(sku: string, location: string): boolean {
    const prev = this.view.get<SkuState>(keys.sku(sku));
    return prev !== undefined && prev.locations.includes(location);
  }

  put(key: string, value: unknown): void {
    this.writes.push([key, value]);
  }

  alert(data: Record<string, unknown>): void {
    (this.messages ??= []).push({ topic: topics.alerts, data });
  }

  setTimer(t: TimerSpec): void {
    (this.timerSets ??= []).push(t);
  }

  cancelTimer(id: string): void {
    (this.timerCancels ??= []).push(id);
  }

  effects(result: Record<string, unknown> = {}): Effects {
    for (const [sku, state] of this.skus) this.writes.push([keys.sku(sku), state]);
    const effects: Effects = { result: { ok: true, ...result }, writes: this.writes, changed: this.changed };
    if (this.messages) effects.messages = this.messages;
    if (this.timerSets || this.timerCancels) effects.timers = { set: this.timerSets, cancel: this.timerCancels };
    return effects;
  }
}
