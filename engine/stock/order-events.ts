// The shape of every order event, checked and copied before any state is read.

import { invalid, type EventSchema, type FieldRule } from '../validate.ts';
import type { EventError, InputEvent } from '../types.ts';
import { ORDER_CHANNELS } from './types.ts';

const id: FieldRule = { kind: 'id' };
const topicId: FieldRule = { kind: 'id', noAt: true };
const qty: FieldRule = { kind: 'posInt' };
const orderChannel: FieldRule = { kind: 'enum', values: ORDER_CHANNELS, optional: true };
const reason: FieldRule = { kind: 'text', max: 500, optional: true };
export const MAX_ORDER_LINES = 200;

export const ORDER_EVENT_FIELDS: Record<string, EventSchema> = {
  'order.placed': {
    order: id,
    customer: { kind: 'id', optional: true },
    lines: {
      kind: 'array',
      of: { kind: 'object', fields: { sku: topicId, qty, price: { kind: 'nonNegInt', optional: true } } },
      min: 1,
      max: MAX_ORDER_LINES,
    },
    pickup: { kind: 'id', noAt: true, optional: true },
    ship: {
      kind: 'object',
      optional: true,
      fields: { lat: { kind: 'number', min: -90, max: 90 }, lon: { kind: 'number', min: -180, max: 180 } },
    },
    channel: orderChannel,
    currency: { kind: 'pattern', re: /^[A-Z]{3}$/, what: 'a currency code (three capital letters, e.g. EUR)', optional: true },
  },
  'order.ready': { order: id },
  'order.picked_up': { order: id },
  'order.shipped': { order: id, carrier: { kind: 'text', max: 100, optional: true }, tracking: { kind: 'text', max: 200, optional: true } },
  'order.delivered': { order: id },
  'order.fulfilled': { order: id },
  'order.cancelled': { order: id, reason },
  'order.returned': {
    return: id,
    order: id,
    lines: { kind: 'array', of: { kind: 'object', fields: { sku: topicId, qty } }, min: 1, max: MAX_ORDER_LINES },
    location: topicId,
    channel: orderChannel,
    reason,
  },
};

/** Checks across the fields of an order event; each field itself was checked as ORDER_EVENT_FIELDS declares. */
export function validateOrderEvent(ev: InputEvent): EventError | null {
  if (ev.type !== 'order.placed') return null;
  if ((ev.pickup === undefined) === (ev.ship === undefined)) return invalid("order.placed: give exactly one of 'pickup' and 'ship'", 'pickup');
  // Lines of one SKU are one line of the order: they can only be one if they cost the same.
  const prices = new Map<string, number | undefined>();
  let total = 0;
  for (const [i, line] of (ev.lines as Array<{ sku: string; qty: number; price?: number }>).entries()) {
    if (prices.has(line.sku) && prices.get(line.sku) !== line.price) {
      return invalid(`order.placed: the lines of ${line.sku} give different prices`, `lines[${i}].price`);
    }
    prices.set(line.sku, line.price);
    // Revenue and refunds are sums of price × qty: they must stay exact.
    total += (line.price ?? 0) * line.qty;
    if (total > Number.MAX_SAFE_INTEGER) return invalid('order.placed: the lines cost more than 2^53 − 1 in all', `lines[${i}].price`);
  }
  return null;
}
