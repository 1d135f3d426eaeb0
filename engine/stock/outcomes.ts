// What every stock step is, and the refusals they share: the contract's errors, with the same
// messages wherever the step that finds them runs.

import { rejection as errorResult, type ErrorCode } from '../errors.ts';
import type { Effects, EventContext, EventError, InputEvent } from '../types.ts';
import type { StockChange } from './change.ts';

/** The processor's options as they apply (StockOptions with each default filled in). */
export interface StockSettings {
  defaultTtlMs: number;
  pickupHoldMs: number;
  returnWindowMs: number;
  /** Whether order steps send commerce.counted: only when a processor (engine/commerce) takes it. */
  countCommerce: boolean;
}

export type Handler = (c: StockChange, ev: InputEvent, ctx: EventContext, settings: StockSettings) => Effects;

export const rejection = (code: ErrorCode, message: string): Effects => ({ result: errorResult(code, message) });

export const unknownLocation = (id: string) => rejection('unknown_location', `location '${id}' has not been declared`);

export const unknownReservation = (message: string): EventError => ({ code: 'unknown_reservation', message });

/** `available` is what the event could have had: at its location, or where it would be taken from. */
export function insufficientError(sku: string, location: string | undefined, wanted: number, available: number, detail = ''): EventError {
  return {
    code: 'insufficient_stock',
    message: `${wanted} × ${sku} wanted${location ? ` at ${location}` : ''}, ${available} available${detail}`,
    wanted,
    available,
  };
}

export const insufficient = (sku: string, location: string | undefined, wanted: number, available: number): Effects => ({
  result: { ok: false, error: insufficientError(sku, location, wanted, available) },
});
