// Reading a request body from uWebSockets.js with a hard size cap and a server-wide memory
// budget. uWS hands out each chunk in an ArrayBuffer it neuters when the callback returns, so
// every chunk is copied into one buffer of ours; the cap is checked before copying so an
// oversized upload never costs more than the cap in memory.
//
// The budget covers bodies still arriving, i.e. held across uWS callbacks. A body that arrives
// whole in one callback (nearly every ordinary POST) is handed to the route at once and holds
// nothing in between, so it is never refused for budget, however many slow uploads there are.
// A body that spans callbacks is admitted when its first partial chunk arrives and is charged
// its declared length (the cap when none is declared) right then: admission is a promise that
// it can finish, so an admitted upload is never cut off halfway by others filling the budget.
// The declared length is only charged, not allocated: it is a claim from a client that has
// proven nothing yet, so the buffer grows by doubling (capped there) as bytes actually arrive,
// and what is held always stays within what was charged.

import type { HttpResponse } from 'uWebSockets.js';
import type { Budget } from '../budget.ts';

export type BodyOutcome = { kind: 'complete'; body: Buffer } | { kind: 'too_large' };

/** What readBody reports: a BodyOutcome, or a refusal because the server-wide budget is spent. */
export type BodyReadOutcome = BodyOutcome | { kind: 'over_budget' };

export interface BodyLimits {
  /** Largest body accepted (413 past it). */
  maxBytes: number;
  /** Bytes promised to bodies still arriving, over all requests (see above). */
  memory: Budget;
}

/** The part of Reply readBody needs: uWS keeps one onAborted handler per response, and Reply has it. */
export interface AbortSource {
  whenAborted(listener: () => void): void;
}

/** First allocation when the length is unknown or larger: small bodies stay small. */
const INITIAL_CAPACITY = 16 * 1024;

/**
 * Calls `onOutcome` exactly once, synchronously inside the uWS callback that decided it (so the
 * caller may answer right there), unless the client aborts first. `contentLength` is the raw
 * header ('' when absent, e.g. chunked uploads). What was charged to the budget is given back
 * exactly once: when the outcome is reported, or when the client aborts.
 */
export function readBody(res: HttpResponse, aborts: AbortSource, limits: BodyLimits, contentLength: string, onOutcome: (outcome: BodyReadOutcome) => void): void {
  const { maxBytes, memory } = limits;
  const declared = parseContentLength(contentLength);
  if (declared !== undefined && declared > maxBytes) {
    // Refused before a byte is read; uWS discards a body nobody listens to and keeps the
    // connection usable for the next request.
    onOutcome({ kind: 'too_large' });
    return;
  }
  const ceiling = declared ?? maxBytes;

  let buffer: Buffer | undefined;
  let received = 0;
  let charged = 0;
  let decided = false;
  // The body is handed over (or dropped) with the outcome: from then on it is the route's, which
  // decodes it at once, and what it holds while the engine commits is bounded by the engine.
  const finish = (): void => {
    decided = true;
    memory.release(charged);
    charged = 0;
    buffer = undefined;
  };
  aborts.whenAborted(() => {
    if (!decided) finish();
  });

  res.onData((chunk, isLast) => {
    // After a 413 or 503 the rest of the upload still arrives (uWS drains it so the connection
    // can be reused); it is dropped unread.
    if (decided) return;
    const size = chunk.byteLength;
    if (received + size > ceiling) {
      finish();
      return onOutcome({ kind: 'too_large' });
    }
    if (isLast && buffer === undefined) {
      // Whole in one callback: copied and handed over, nothing held in between.
      finish();
      return onOutcome({ kind: 'complete', body: Buffer.from(new Uint8Array(chunk)) });
    }
    if (charged === 0 && !isLast) {
      if (!memory.tryTake(ceiling)) {
        finish();
        return onOutcome({ kind: 'over_budget' });
      }
      charged = ceiling;
    }
    const capacity = buffer?.length ?? 0;
    if (received + size > capacity) {
      const next = Buffer.allocUnsafe(Math.min(ceiling, Math.max(received + size, capacity * 2, INITIAL_CAPACITY)));
      buffer?.copy(next, 0, 0, received);
      buffer = next;
    }
    if (size > 0) buffer!.set(new Uint8Array(chunk), received);
    received += size;
    if (!isLast) return;
    const body = buffer!.subarray(0, received);
    finish();
    onOutcome({ kind: 'complete', body });
  });
}

function parseContentLength(header: string): number | undefined {
  if (header === '' || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}
