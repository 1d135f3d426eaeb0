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
