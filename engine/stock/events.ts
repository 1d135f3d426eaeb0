// The shape of every stock event, checked and copied before any state is read.

import { invalid, type EventSchema, type FieldRule } from '../validate.ts';
import type { EventError, InputEvent } from '../types.ts';
import { ORDER_EVENT_FIELDS, validateOrderEvent } from './order-events.ts';

const id: FieldRule = { kind: 'id' };
const topicId: FieldRule = { kind: 'id', noAt: true };
const qty: FieldRule = { kind: 'posInt' };
const channel: FieldRule = { kind: 'text', max: 64, optional: true };
const MAX_TTL_MS = 30 * 24 * 3600 * 1000;

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
  ...ORDER_EVENT_FIELDS,
};

/** Checks across fields; each field itself was checked as STOCK_EVENT_FIELDS declares. */
export function validateStockEvent(ev: InputEvent): EventError | null {
  if (ev.type.startsWith('order.')) return validateOrderEvent(ev);
  if (ev.type === 'stock.transfer' && ev.from === ev.to) return invalid("stock.transfer: 'from' and 'to' must differ", 'to');
  return null;
}
