// Which partition owns each piece of the customer domain's state, and so applies the events that
// write it. A customer's own state (its current session and its log, its recent orders) lives on
// the partition of the customer's name, so activity of different customers runs in parallel.
// What compares customers across the whole id space — identity links and merges, profiles, the
// ids themselves — is one partition, as routing is in the service domain: a merge must see every
// id it joins at once. The recommender's shared model (which sessions had an item, popularity)
// lives on one of ITEM_BUCKETS partitions by SKU, and the kiosk screens, which any stock change
// may refresh, on one.

import { itemBucket } from './recommender/mod.ts';

/** The partition key of identities, profiles and the creation of customers. */
export const IDENTITY_KEY = 'customers/identity';
/** The partition key of kiosk screens and the indexes of what they show. */
export const KIOSKS_KEY = 'customers/kiosks';

const bucketKey = (bucket: number | string) => `customers/items/${bucket}`;

/** The partition key of an item's records: its bucket's. */
export const itemKey = (sku: string) => bucketKey(itemBucket(sku));

/** Session ids name their customer: `<customer>#<n>`. */
function sessionCustomer(session: string): string {
  const at = session.lastIndexOf('#');
  return at < 0 ? session : session.slice(0, at);
}

const after = (key: string, prefix: string) => key.slice(prefix.length);

/**
 * The partition key of the partition that owns a state key of the customer domain (the only
 * partition that writes it); undefined for a key of another domain.
 */
export function ownerOfKey(key: string): string | undefined {
  if (key.startsWith('id/')) return IDENTITY_KEY;
  if (key.startsWith('cu/kiosk/') || key.startsWith('cu/kiosksof/') || key.startsWith('cu/shown/') || key.startsWith('cu/shownat/')) return KIOSKS_KEY;
  for (const prefix of ['cu/sess/', 'cu/orders/', 'cu/ordersold/', 'cu/moved/', 'cu/pts/', 'lo/rd/', 'lo/cp/']) if (key.startsWith(prefix)) return after(key, prefix);
  if (key.startsWith('rec/s/')) return sessionCustomer(after(key, 'rec/s/'));
  if (key.startsWith('rec/i/')) return itemKey(after(key, 'rec/i/'));
  if (key.startsWith('rec/c/')) {
    const rest = after(key, 'rec/c/');
    return itemKey(rest.slice(rest.indexOf('/') + 1));
  }
  if (key.startsWith('rec/pop/')) return bucketKey(after(key, 'rec/pop/'));
  return undefined;
}
