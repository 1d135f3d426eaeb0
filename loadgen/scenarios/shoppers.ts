// The retailer's shoppers. Visits are Zipf-skewed over the population with a mild exponent:
// regulars come far more often than most, yet no single shopper is a sizeable share of the
// traffic (with s = 1 the top one of 50,000 would make 9% of all visits). A share of them are
// members, whose account the CRM knows before the run (customer id, tier, language); the rest
// only ever browse anonymously. Who is a member, their home store and how they sign in are a
// hash of the shopper's number, so the customer role and the subscriber plans agree on them
// without sharing a random stream.

import { ZipfSampler } from '../stock-workload.ts';
import type { InputEvent } from '../../engine/mod.ts';

export const MEMBER_SHARE = 0.6;
const VIP_SHARE = 0.05;
/** Members who sign in with their phone number; the others with their email address. */
const PHONE_SHARE = 0.4;
/** A German chain's members, by the language their profile states. */
const LANGUAGES = ['de', 'de', 'de', 'de', 'de', 'de', 'de', 'en', 'tr', 'pl'];
const VISIT_SKEW = 0.6;

/** One independent hash per trait. */
const SALT = { member: 1, tier: 2, language: 3, phone: 4, store: 5 } as const;
type Salt = (typeof SALT)[keyof typeof SALT];

/** A uniform number in [0, 1) fixed by (seed, k, salt): the prng's mixer over their combination. */
function unit(seed: number, k: number, salt: Salt): number {
  let t = (Math.imul(k + 1, 0x9e3779b1) ^ Math.imul(seed + salt, 0x85ebca6b)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export class Shoppers {
  // Built on first use: scenarios without the customer role never draw a shopper.
  private zipf: ZipfSampler | undefined;

  constructor(
    readonly size: number,
    private readonly seed: number,
    private readonly idPrefix: string,
  ) {}

  /** A shopper (0 … size − 1) drawn by how often each visits, from a uniform draw u. */
  frequent(u: number): number {
    this.zipf ??= new ZipfSampler(this.size, VISIT_SKEW);
    return this.zipf.sample(u);
  }

  isMember(k: number): boolean {
    return unit(this.seed, k, SALT.member) < MEMBER_SHARE;
  }

  /** The member's customer id (a loyalty card number, as a kiosk scans it). */
  customer(k: number): string {
    return `${this.idPrefix}-cu${k}`;
  }

  /** The browser or phone the shopper browses with when signed out. */
  device(k: number): string {
    return `device:${this.idPrefix}-d${k}`;
  }

  signsInByPhone(k: number): boolean {
    return unit(this.seed, k, SALT.phone) < PHONE_SHARE;
  }

  /** What the member signs in with. Like every id of a run it carries the run's prefix, so runs never link each other's shoppers. */
  contact(k: number): string {
    return this.signsInByPhone(k) ? `phone:+49151${String(k).padStart(8, '0')}-${this.idPrefix}` : `email:${this.idPrefix}.cu${k}@example.com`;
  }

  /** Index of the store (of `stores`) the shopper visits: people shop where they live. */
  homeStore(k: number, stores: number): number {
    return Math.floor(unit(this.seed, k, SALT.store) * stores);
  }

  /** Every member's `customer.profile`, for the set-up: the CRM knows its members before they visit. */
  *profiles(): Generator<InputEvent> {
    for (let k = 0; k < this.size; k++) {
      if (!this.isMember(k)) continue;
      yield {
        id: `${this.idPrefix}-profile-${k}`,
        type: 'customer.profile',
        customer: this.customer(k),
        tier: unit(this.seed, k, SALT.tier) < VIP_SHARE ? 'vip' : 'standard',
        language: LANGUAGES[Math.floor(unit(this.seed, k, SALT.language) * LANGUAGES.length)],
      };
    }
  }
}
