// The shape of every stock event, checked and copied before any state is read.

import { invalid, type EventSchema, type FieldRule } from '../validate.ts';
import type { EventError, InputEvent } from '../types.ts';

const id: FieldRule = { kind: 'id' };
const topicId: FieldRule = { kind: 'id', noAt: true };
const qty: FieldRule = { kind: 'posInt' };
const channel: FieldRule = { kind: 'text', max: 64, optional: true };
const MAX_TTL_MS = 30 * 24 * 3600 * 1000;
export const MAX_ORDER_LINES = 200;

export const STOCK_EVENT_FIELDS: Record<string, EventSchema> = {
  'location.upserted': {
    location: topicId,
    kind: { kind: 'enum', values: ['store', 'warehouse'] },
    lat: { kind: 'number', min: -90, max: 90 },
    lon: { kind: 'number', min: -180, max: 180 },
    name: { kind: 'text', max: 200, optional: true },
    lowStock: { kind: 'nonNegInt', optional: true },
    ships: { kind: 'boolean', optional: true },
    shipCapacity: { kind: 'nonNegInt', optional: true },
  },
  'stock.received': { sku: topicId, location: topicId, qty },
  'stock.returned': { sku: topicId, location: topicId, qty, channel },
  'stock.adjusted': { sku: topicId, location: topicId, onHand: { kind: 'nonNegInt' } },
  'stock.safety': { sku: topicId, location: topicId, safety: { kind: 'nonNegInt' } },
  'stock.sold': { sku: topicId, location: topicId, qty, channel },
  'stock.reserve': {
    reservation: id,
    sku: topicId,
    qty,
    location: { kind: 'id', noAt: true, optional: true },
    ttlMs: { kind: 'number', min: 1, max: MAX_TTL_MS, optional: true },
    channel,
  },
  'stock.release': { reservation: id },
  'stock.commit': { reservation: id },
  'stock.transfer': { transfer: id, sku: topicId, from: topicId, to: topicId, qty },
  'order.placed': {
    order: id,
    customer: { kind: 'id', optional: true },
    lines: { kind: 'array', of: { kind: 'object', fields: { sku: topicId, qty } }, min: 1, max: MAX_ORDER_LINES },
    pickup: { kind: 'id', noAt: true, optional: true },
    ship: {
      kind: 'object',
      optional: true,
      fields: { lat: { kind: 'number', min: -90, max: 90 }, lon: { kind: 'number', min: -180, max: 180 } },
    },
  },
  'order.fulfilled': { order: id },
  'order.cancelled': { order: id },
};

/** Checks across fields; each field itself was checked as STOCK_EVENT_FIELDS declares. */
export function validateStockEvent(ev: InputEvent): EventError | null {
  if (ev.type === 'order.placed' && (ev.pickup === undefined) === (ev.ship === undefined)) {
    return invalid("order.placed: give exactly one of 'pickup' and 'ship'", 'pickup');
  }
  if (ev.type === 'stock.transfer' && ev.from === ev.to) return invalid("stock.transfer: 'from' and 'to' must differ", 'to');
  return null;
}
