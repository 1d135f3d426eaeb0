// The shape of every stock event (contract §3), checked before any state is read.

import { checkFields, invalid, type FieldRule } from '../validate.ts';
import type { EventError, InputEvent } from '../types.ts';

const id: FieldRule = { kind: 'id' };
const topicId: FieldRule = { kind: 'id', noAt: true };
const qty: FieldRule = { kind: 'posInt' };
const channel: FieldRule = { kind: 'text', max: 64, optional: true };
const MAX_TTL_MS = 30 * 24 * 3600 * 1000;
export const MAX_ORDER_LINES = 200;

export const STOCK_EVENT_FIELDS: Record<string, Record<string, FieldRule>> = {
  'location.upserted': {
    location: topicId,
    kind: { kind: 'enum', values: ['store', 'warehouse'] },
    lat: { kind: 'number', min: -90, max: 90 },
    lon: { kind: 'number', min: -180, max: 180 },
    name: { kind: 'text', max: 200, optional: true },
    lowStock: { kind: 'nonNegInt', optional: true },
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
    lines: { kind: 'custom', check: linesProblem },
    pickup: { kind: 'id', noAt: true, optional: true },
    ship: { kind: 'custom', optional: true, check: shipProblem },
  },
  'order.fulfilled': { order: id },
  'order.cancelled': { order: id },
};

function linesProblem(v: unknown): string | null {
  if (!Array.isArray(v) || v.length === 0) return 'must be a non-empty array of {sku, qty}';
  if (v.length > MAX_ORDER_LINES) return `must have at most ${MAX_ORDER_LINES} lines`;
  for (const line of v) {
    if (typeof line !== 'object' || line === null) return 'must be an array of {sku, qty}';
    const l = line as Record<string, unknown>;
    const skuErr = checkFields({ id: '', type: 'line', ...l }, { sku: topicId, qty });
    if (skuErr) return `has a bad line: ${skuErr.message.replace(/^line: /, '')}`;
  }
  return null;
}

function shipProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'must be {lat, lon}';
  const err = checkFields({ id: '', type: 'ship', ...(v as object) }, {
    lat: { kind: 'number', min: -90, max: 90 },
    lon: { kind: 'number', min: -180, max: 180 },
  });
  return err ? err.message.replace(/^ship: /, '') : null;
}

export function validateStockEvent(ev: InputEvent): EventError | null {
  const fields = STOCK_EVENT_FIELDS[ev.type];
  const err = checkFields(ev, fields);
  if (err) return err;
  if (ev.type === 'order.placed' && (ev.pickup == null) === (ev.ship == null)) {
    return invalid("order.placed: give exactly one of 'pickup' and 'ship'");
  }
  if (ev.type === 'stock.transfer' && ev.from === ev.to) return invalid("stock.transfer: 'from' and 'to' must differ");
  return null;
}
