// The shape of every customer event, checked and copied before any state is read.

import { LANGUAGE_TAG, type EventSchema, type FieldRule } from '../validate.ts';
import { MAX_LINK_IDS } from './identity/mod.ts';

const id: FieldRule = { kind: 'id' };
const topicId: FieldRule = { kind: 'id', noAt: true };
const optionalLocation: FieldRule = { kind: 'id', optional: true, noAt: true };
const location: FieldRule = { kind: 'id', noAt: true };
const optionalId: FieldRule = { kind: 'id', optional: true };
const posInt: FieldRule = { kind: 'posInt' };
/** Epoch ms, up to the largest time a JavaScript Date holds. */
const optionalTime: FieldRule = { kind: 'int', min: 0, max: 8_640_000_000_000_000, optional: true };


const activity: Record<string, FieldRule> = {
  subject: id,
  sku: topicId,
  channel: { kind: 'pattern', re: /^[A-Za-z0-9_.-]{1,32}$/, what: 'a channel name (letters, digits, _ . -; at most 32)' },
  location: optionalLocation,
};

export const CUSTOMER_EVENT_FIELDS: Record<string, EventSchema> = {
  'identity.linked': {
    ids: { kind: 'array', of: { kind: 'id' }, min: 1, max: MAX_LINK_IDS },
    customer: { kind: 'id', optional: true },
  },
  'customer.profile': {
    customer: id,
    tier: { kind: 'enum', values: ['standard', 'vip'] },
    language: { ...LANGUAGE_TAG, optional: true },
  },
  'activity.viewed': activity,
  'activity.carted': activity,
  'activity.purchased': activity,
  'kiosk.identified': { kiosk: topicId, location, subject: id },
  'customer.erased': { customer: id },
  'loyalty.earned': { subject: id, points: posInt, reason: { kind: 'text', max: 200, optional: true }, order: optionalId, expiresAt: optionalTime },
  'loyalty.redeemed': { subject: id, points: posInt, redemption: id },
  'loyalty.refunded': { redemption: id },
  'coupon.issued': { coupon: id, value: { kind: 'number', min: 0, optional: true }, subject: optionalId, validUntil: optionalTime, maxUses: { kind: 'posInt', optional: true } },
  'coupon.redeemed': { coupon: id, subject: id, order: optionalId },
};

