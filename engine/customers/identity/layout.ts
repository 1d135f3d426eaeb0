// The identity state: every key starts with `id/`, every value is a small plain object (msgpack),
// and a value is replaced whole, never changed in place: the engine caches decoded values.

/** When and why a change happened: the event's own time and its id, for the explanation log. */
export interface At {
  time: number;
  event: string;
}

/** `id/x/<id>`: the customer an id resolves to. Merges rewrite it, so it names a live customer. */
export interface IdRecord {
  customer: string;
  /** Customers this id has joined together; absent = 1 (only its own). */
  joined?: number;
  /** Reached its kind's `sharedAfter`: it never bridges a merge (nor anchors a link) again. */
  shared?: true;
}

export type Tier = 'standard' | 'vip';

/** `id/c/<name>` of a live customer. */
export interface CustomerRecord {
  name: string;
  /** Position in creation order (`id/$created`): of two merging customers the older survives. */
  created: number;
  /** Every id resolving here, its name first. Bounded by the limits, except customer ids. */
  ids: string[];
  tier: Tier;
  language?: string;
  /** When and by which event it was created: its log's first entry, written only with the next. */
  since?: { at: number; event: string };
}

/** `id/c/<name>` of a customer merged away: where anything still holding its name is sent. */
export interface Tombstone {
  name: string;
  created: number;
  mergedInto: string;
}

export type StoredCustomer = CustomerRecord | Tombstone;

export const isTombstone = (c: StoredCustomer): c is Tombstone => 'mergedInto' in c;

export type LogKind = 'created' | 'merged' | 'refused' | 'shared';

/** `id/log/<name>`: why the customer is what it is, oldest first, the latest `logLimit` kept. */
export interface LogEntry {
  /** Event time. */
  at: number;
  event: string;
  kind: LogKind;
  /** merged: the customer merged away; refused: the customer the refused id belongs to, if any. */
  from?: string;
  /** The customer the entry is about: created, survivor, link target, or the shared id's owner. */
  into?: string;
  /** The id that bridged (merged), was refused, or became shared. */
  via?: string;
  reason?: RefusalReason;
}

export type RefusalReason = 'limit' | 'shared';

export const keys = {
  id: (id: string) => `id/x/${id}`,
  customer: (name: string) => `id/c/${name}`,
  log: (name: string) => `id/log/${name}`,
  /** Customers created so far: the next one's `created`. */
  created: 'id/$created',
};
