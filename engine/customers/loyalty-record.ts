// What a customer's loyalty balance is stored as, and where: shared by the steps that change it
// (loyalty.ts) and those that only look whether a name holds one (routing, erasure, export).

import type { StateView } from '../types.ts';

/** One earning still (partly) unspent: spent oldest first. */
export interface Lot {
  points: number;
  /** Event time it was earned. */
  earned: number;
  /** Expiry (epoch ms), if any. */
  at?: number;
}

export interface LoyaltyEntry {
  kind: 'earned' | 'redeemed' | 'refunded' | 'expired';
  points: number;
  time: number;
  event: string;
  reason?: string;
  order?: string;
  redemption?: string;
}

/** `cu/pts/<name>`: the balance kept under a name, and what it spent that a refund may give back. */
export interface LoyaltyRecord {
  lots: Lot[];
  /**
   * Redemptions that may still be refunded: the lots each took, and the name its index was to
   * name (absent in records kept before it was stored): an erasure removes only an index naming it.
   */
  redemptions: Record<string, { lots: Lot[]; refunded?: true; noted?: string }>;
  history: LoyaltyEntry[];
  /** Coupons restricted to this customer (coupons.ts): an erasure removes them too. */
  coupons?: string[];
  /**
   * Expiry times with a timer still pending under this name, spent lots' included (a timer is
   * never cancelled when its lot is spent): an erasure or a move cancels each, since the timer's
   * id names the customer. Absent in records kept before it was stored.
   */
  timers?: number[];
}

export const loyaltyKeys = {
  record: (name: string) => `cu/pts/${name}`,
  /** Which customer a redemption spent the points of (on the redemption's partition). */
  redemption: (redemption: string) => `lo/rd/${redemption}`,
};

export const loyaltyTopic = (name: string) => `loyalty/${name}`;

export const loyaltyRecord = (view: StateView, name: string) => view.get<LoyaltyRecord>(loyaltyKeys.record(name));

export const balanceOf = (lots: readonly Lot[]) => lots.reduce((sum, lot) => sum + lot.points, 0);

export const LOYALTY_INTERNAL_TYPES = ['loyalty.noted', 'loyalty.unnote', 'coupon.forget'];
