// Errors the SDK rejects with. Each carries a stable `code` so callers branch on it, not on text.

import type { ResultFrame } from './types.ts';

export class OmniError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OmniError';
  }
}

/**
 * The connection closed while the call was on the wire: it may or may not have been applied.
 * Resending is safe — the server recognises a repeated event id and answers `duplicate: true`.
 */
export class DisconnectedError extends OmniError {
  constructor(
    readonly closeCode: number,
    reason: string,
  ) {
    super('disconnected', `connection closed (${closeCode}${reason ? ` ${reason}` : ''}) before the answer arrived; resend to retry safely`);
    this.name = 'DisconnectedError';
  }
}

/** No answer within the call's timeout. As with a disconnect, the outcome is unknown. */
export class TimeoutError extends OmniError {
  constructor(what: string, ms: number) {
    super('timeout', `${what}: no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** client.close() was called: nothing more will be sent or answered. */
export class ClientClosedError extends OmniError {
  constructor() {
    super('closed', 'client closed');
    this.name = 'ClientClosedError';
  }
}

/** The server answered no: a `result` with ok:false, or an `error` frame naming the call. */
export class ServerError extends OmniError {
  constructor(
    code: string,
    message: string,
    /** The full result frame when the answer was one (it may carry details such as `available`). */
    readonly result?: ResultFrame,
  ) {
    super(code, message);
    this.name = 'ServerError';
  }
}
