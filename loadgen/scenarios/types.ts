// The omnichannel scenario's settings as a type, apart from their reading (omnichannel-config.ts):
// world.ts, which every role imports, needs the type, and the reading needs the roles, so one
// file for both would put the roles in an import circle.

export interface OmnichannelConfig {
  /** Role → weight: the share of events each role makes. */
  mix: Record<string, number>;
  skus: number;
  stores: number;
  warehouses: number;
  /** Kiosks per store (they are subscribers, at most half of --subscribers). */
  kiosksPerStore: number;
  /** An order has 1 to this many lines. */
  maxOrderLines: number;
  /** Share of orders picked up at a store; the rest are shipped. */
  pickupShare: number;
  /** Shoppers the customer role draws its visits from (members get a profile in the set-up). */
  shoppers: number;
  /** Share of members' signed-out web visits that sign in part-way (identity.linked). */
  signInShare: number;
  /** Share of members' store visits that start at a kiosk (kiosk.identified), then browse on it. */
  kioskShare: number;
  /** Share of the storefront subscribers that are signed-in members also on their `recs/<customer>`. */
  recsShare: number;
  /** Store associates per store, on their store's notices (subscribers, at most a quarter of --subscribers). */
  associatesPerStore: number;
  /** Most customers following their own orders at once, one connection each (0: nobody follows). */
  orderFollowers: number;
  seed: number;
}
