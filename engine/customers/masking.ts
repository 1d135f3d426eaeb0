// Contact data as people other than the customer and supervisors see it (a store associate, an
// agent): enough to recognise a number or an address the customer reads out, not enough to
// call or write to it. Phone numbers keep their first 6 and last 2 characters, e-mail
// addresses the first letter of the local part and of each domain label. Any other id (a
// device, a WeChat id, a bare customer id) is shown as it is.

import { idKind } from './identity/mod.ts';

/** Characters a masked phone number keeps at each end. */
const PHONE_HEAD = 6;
const PHONE_TAIL = 2;
/** A number shorter than this would show most of itself with head and tail kept: it is starred whole. */
const PHONE_MIN_SHOWN = 12;
const STARS = '***';

/** `+4915112345600` → `+49151******00`; a short number → `***`. Counts code points, not UTF-16 units. */
export function maskPhone(number: string): string {
  const chars = Array.from(number);
  if (chars.length < PHONE_MIN_SHOWN) return STARS;
  const hidden = chars.length - PHONE_HEAD - PHONE_TAIL;
  return chars.slice(0, PHONE_HEAD).join('') + '*'.repeat(hidden) + chars.slice(-PHONE_TAIL).join('');
}

/** The first character of `part` (a whole code point), or `*` for an empty part. */
const firstOf = (part: string): string => Array.from(part)[0] ?? '*';

/** `anna@bhf.co` → `a***@b.c`; without an `@` the whole value counts as the local part. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const head = local.length > 0 ? firstOf(local) : '';
  if (at < 0) return head + STARS;
  const domain = address.slice(at + 1);
  const labels = domain.length > 0 ? domain.split('.').map(firstOf) : ['*'];
  return `${head}${STARS}@${labels.join('.')}`;
}

/** An id as others than the customer see it: `phone:` and `email:` ids masked, any other unchanged. */
export function maskId(id: string): string {
  const kind = idKind(id);
  if (kind !== 'phone' && kind !== 'email') return id;
  const colon = id.indexOf(':');
  const prefix = id.slice(0, colon + 1);
  const value = id.slice(colon + 1);
  return prefix + (kind === 'phone' ? maskPhone(value) : maskEmail(value));
}
