// Error codes are part of the external interface (docs/protocol.md, section 4, lists them and
// marks the extensions).

export const ERROR_CODES = [
  'bad_request',
  'invalid_event',
  'unknown_type',
  'unknown_location',
  'insufficient_stock',
  'unknown_reservation',
  'not_found',
  'forbidden',
  'too_large',
  'rate_limited',
  // extensions
  'conflict',
  'unauthorized',
  'unavailable',
  'internal',
  'method_not_allowed',
  'no_offer',
  'id_conflict',
  // a log entry whose event's key maps to another partition than the log it was read from
  'wrong_partition',
  // orders followed across channels (order events for an order that was never placed, a change
  // its status does not allow, a return past what was bought or past its window)
  'unknown_order',
  'invalid_transition',
  'return_exceeds_order',
  'return_window_passed',
  // loyalty points and coupons
  'insufficient_points',
  'unknown_redemption',
  // a redemption id another customer's redemption holds (a refund names only the id)
  'duplicate_redemption',
  'unknown_coupon',
  'coupon_used',
  'coupon_expired',
  // service ratings: only once a request has ended, and only once
  'not_rated_yet',
  'already_rated',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function rejection(code: ErrorCode, message: string) {
  return { ok: false as const, error: { code, message } };
}

/** Thrown when the engine is closed or closing; the gateway answers 503. */
export class EngineClosedError extends Error {
  readonly code = 'unavailable' as const;
  constructor() {
    super('the engine is shutting down');
  }
}

/**
 * Why an event was refused. `field` names the offending field of an `invalid_event` (a path
 * such as `lines[2].qty`); `insufficient_stock` carries `wanted` and `available`.
 */
export type EventError = { code: ErrorCode; message: string; field?: string; wanted?: number; available?: number };

/**
 * Thrown when opening a data dir with a partition count other than the one it was created
 * with: keys would land in other partitions than their checkpoints describe. Nothing is written.
 */
export class PartitionCountMismatchError extends Error {
  readonly code = 'partition_count_mismatch' as const;
  constructor(
    readonly dir: string,
    readonly stored: number,
    readonly requested: number,
  ) {
    super(`data dir ${dir} was created with ${stored} partitions, which is fixed for its lifetime; ${requested} were asked for`);
    this.name = 'PartitionCountMismatchError';
  }
}
