// How an identifier is read. Its kind picks its limit, its shared threshold and its priority;
// its value decides whether it is a placeholder that must never link anyone. Ids are compared
// exactly everywhere else: `phone:+86 138` and `phone:+86138` are two ids (normalising numbers
// and addresses is the sender's job, as in Segment).

import { MAX_ID_LENGTH } from '../../validate.ts';

/** Ids in one `identity.linked` event. */
export const MAX_LINK_IDS = 100;
/** Characters in one id: as every other identifier (subjects, customers), so any id can be named anywhere. */
export const MAX_ID_CHARS = MAX_ID_LENGTH;

/** A kind prefix: short and plain, so `a@b.c` or `+86:138` stay bare customer ids. */
const KIND = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

/** Whether `kind` can be an id's kind (`phone`, `email`, …; `customer` for bare ids). */
export function isIdKind(kind: string): boolean {
  return KIND.test(kind);
}

function split(id: string): { kind: string; value: string } {
  const colon = id.indexOf(':');
  if (colon > 0) {
    const kind = id.slice(0, colon);
    if (KIND.test(kind)) return { kind: kind.toLowerCase(), value: id.slice(colon + 1) };
  }
  return { kind: 'customer', value: id };
}

/** `phone`, `email`, … (lower-cased); `customer` for an id without a `kind:` prefix. */
export function idKind(id: string): string {
  return split(id).kind;
}

/** The part after `kind:`, or the whole of a bare customer id. */
export function idValue(id: string): string {
  return split(id).value;
}

/** Segment's "Priority": the link follows the most trustworthy id it holds; devices are shared most. */
const RANK: Record<string, number> = { customer: 0, phone: 1, email: 2, wechat: 3, device: 5 };
const OTHER_RANK = 4;

export function kindRank(kind: string): number {
  return Object.hasOwn(RANK, kind) ? RANK[kind] : OTHER_RANK;
}

/** How blocked values compare: `" NULL "` is `null`. */
export function normalizeValue(v: string): string {
  return v.trim().toLowerCase();
}

/** The normalised forms a blocked list is matched against: the value part, and the whole id. */
export function blockKeys(id: string): [value: string, whole: string] {
  const trimmed = id.trim();
  return [normalizeValue(split(trimmed).value), normalizeValue(trimmed)];
}
