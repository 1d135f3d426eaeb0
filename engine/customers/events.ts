// The shape of every customer event (contract §3), checked before any state is read.

import { checkFields, type FieldRule } from '../validate.ts';
import type { EventError, InputEvent } from '../types.ts';
import { validateIds } from './identity/mod.ts';

const id: FieldRule = { kind: 'id' };
const topicId: FieldRule = { kind: 'id', noAt: true };
const optionalLocation: FieldRule = { kind: 'id', optional: true, noAt: true };
const location: FieldRule = { kind: 'id', noAt: true };

function languageProblem(v: unknown): string | null {
  return typeof v === 'string' && /^[A-Za-z0-9-]{1,35}$/.test(v) ? null : 'must be a language tag (letters, digits, -; at most 35)';
}

const activity: Record<string, FieldRule> = {
  subject: id,
  sku: topicId,
  channel: { kind: 'custom', check: (v) => (typeof v === 'string' && /^[A-Za-z0-9_.-]{1,32}$/.test(v) ? null : 'must be a channel name (letters, digits, _ . -; at most 32)') },
  location: optionalLocation,
};

export const CUSTOMER_EVENT_FIELDS: Record<string, Record<string, FieldRule>> = {
  'identity.linked': {
    ids: { kind: 'custom', check: validateIds },
    customer: { kind: 'id', optional: true },
  },
  'customer.profile': {
    customer: id,
    tier: { kind: 'enum', values: ['standard', 'vip'] },
    language: { kind: 'custom', optional: true, check: languageProblem },
  },
  'activity.viewed': activity,
  'activity.carted': activity,
  'activity.purchased': activity,
  'kiosk.identified': { kiosk: topicId, location, subject: id },
};

export function validateCustomerEvent(ev: InputEvent): EventError | null {
  return checkFields(ev, CUSTOMER_EVENT_FIELDS[ev.type]);
}
