// Reading a request body from uWebSockets.js with a hard size cap. uWS hands out each chunk in an
// ArrayBuffer it neuters when the callback returns, so every chunk is copied; the cap is checked
// before copying so an oversized upload never costs more than the cap in memory.

import type { HttpResponse } from 'uWebSockets.js';

export type BodyOutcome = { kind: 'complete'; body: Buffer } | { kind: 'too_large' };

/**
 * Calls `onOutcome` exactly once, synchronously inside the uWS callback that decided it (so the
 * caller may answer right there), unless the client aborts first. `contentLength` is the raw
 * header ('' when absent, e.g. chunked uploads).
 */
export function readBody(res: HttpResponse, maxBytes: number, contentLength: string, onOutcome: (outcome: BodyOutcome) => void): void {
  const declared = parseContentLength(contentLength);
  if (declared !== undefined && declared > maxBytes) {
    // Refused before a byte is read; uWS discards a body nobody listens to and keeps the
    // connection usable for the next request.
    onOutcome({ kind: 'too_large' });
    return;
  }

  // With a declared length the body lands in one buffer; otherwise chunks are kept and joined.
  const exact = declared !== undefined ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  let decided = false;

  res.onData((chunk, isLast) => {
    // After a 413 the rest of the upload still arrives (uWS drains it so the connection can be
    // reused); it is dropped unread.
    if (decided) return;
    const size = chunk.byteLength;
    if (received + size > maxBytes || (exact !== undefined && received + size > exact.length)) {
      decided = true;
      onOutcome({ kind: 'too_large' });
      return;
    }
    if (size > 0) {
      const view = new Uint8Array(chunk);
      if (exact !== undefined) exact.set(view, received);
      else chunks.push(Buffer.from(view));
    }
    received += size;
    if (!isLast) return;
    decided = true;
    const body = exact !== undefined ? exact.subarray(0, received) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
    onOutcome({ kind: 'complete', body });
  });
}

function parseContentLength(header: string): number | undefined {
  if (header === '' || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}
