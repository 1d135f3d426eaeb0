// One HTTP response on uWebSockets.js, made safe to answer at any time. uWS frees a response
// when the client goes away or once it is ended, and touching it afterwards crashes the process,
// so every answer goes through here: it registers onAborted at once, refuses to write twice,
// corks writes made outside the route handler, and streams large bodies with tryEnd/onWritable
// so a slow reader applies backpressure instead of us buffering a copy per client.

import type { HttpResponse } from 'uWebSockets.js';
import type { ErrorCode } from '../../engine/mod.ts';
import { CONTENT_TYPES, encode, type WireFormat } from './codec.ts';

/** The contract's error codes (engine/errors.ts) plus 405's, which only HTTP can produce. */
export type HttpErrorCode = ErrorCode | 'method_not_allowed';

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  413: '413 Payload Too Large',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/** How a response ended, for metrics and in-flight accounting: a status, or 'aborted'. */
export type ReplyOutcome = number | 'aborted';

export class Reply {
  #aborted = false;
  #answered = false;
  #settled = false;
  #abortListeners: Array<() => void> | undefined;

  constructor(
    private readonly res: HttpResponse,
    private readonly onSettled: (outcome: ReplyOutcome) => void,
  ) {
    res.onAborted(() => {
      this.#aborted = true;
      for (const listener of this.#abortListeners ?? []) listener();
      this.#settle('aborted');
    });
  }

  /**
   * Runs `listener` when the client goes away before the answer is finished (at once if it
   * already has). uWS keeps a single onAborted handler per response, and this class holds it, so
   * whatever else must let go of a request's resources on abort (a body's memory) asks here.
   */
  whenAborted(listener: () => void): void {
    if (this.#aborted) return listener();
    (this.#abortListeners ??= []).push(listener);
  }

  /** True once nothing more may be written: the client left or the answer has been started. */
  get closed(): boolean {
    return this.#aborted || this.#answered;
  }

  json(status: number, value: unknown, format: WireFormat = 'json', headers?: Record<string, string>): void {
    this.send(status, encode(value, format), CONTENT_TYPES[format], headers);
  }

  error(status: number, code: HttpErrorCode, message: string, format: WireFormat = 'json', headers?: Record<string, string>): void {
    this.json(status, { error: { code, message } }, format, headers);
  }

  send(status: number, body: Buffer | string, contentType: string, headers?: Record<string, string>): void {
    if (this.closed) return;
    this.#answered = true;
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const res = this.res;
    res.cork(() => {
      res.writeStatus(STATUS_TEXT[status] ?? String(status));
      res.writeHeader('Content-Type', contentType);
      if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
      this.#stream(bytes, status);
    });
  }

  #stream(bytes: Buffer, status: number): void {
    const res = this.res;
    const startOffset = res.getWriteOffset();
    const [ok, done] = res.tryEnd(bytes, bytes.length);
    if (done) return this.#settle(status);
    if (ok) return;
    // The socket is full: uWS kept nothing of what did not fit, so resume from its offset.
    res.onWritable((offset) => {
      if (this.#aborted) return true;
      const [resumed, finished] = res.tryEnd(bytes.subarray(offset - startOffset), bytes.length);
      if (finished) this.#settle(status);
      return resumed;
    });
  }

  #settle(outcome: ReplyOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettled(outcome);
  }
}
