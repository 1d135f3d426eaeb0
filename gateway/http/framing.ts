// Requests whose body length is ambiguous (RFC 9112 §6.3): two Content-Length headers, one next
// to Transfer-Encoding, or one that is not a number. uWebSockets.js frames such a body by the
// first Content-Length it finds, while a proxy in front may have used another; guessing would let
// a second request hide inside the body. These are refused with 400 and the connection closed.
//
// What uWS's own parser refuses (a request line other than `METHOD /path HTTP/1.1`, a missing
// Host, 49 or more header lines, bare-LF line ends, non-empty Content-Length and
// Transfer-Encoding together) never reaches a route: docs/deployment.md says what a client sees.

import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { ReplyOutcome } from './reply.ts';

const DIGITS = /^\d+$/;

/** Why the request's body length cannot be trusted, or undefined when it can. */
export function framingProblem(req: HttpRequest): string | undefined {
  let lengths = 0;
  let lengthIsNumber = true;
  let transferEncoding = false;
  req.forEach((name, value) => {
    if (name === 'content-length') {
      lengths++;
      if (!DIGITS.test(value)) lengthIsNumber = false;
    } else if (name === 'transfer-encoding') {
      transferEncoding = true;
    }
  });
  if (lengths > 1) return 'more than one Content-Length header';
  if (lengths === 1 && transferEncoding) return 'Content-Length together with Transfer-Encoding';
  if (!lengthIsNumber) return 'Content-Length is not a number';
  return undefined;
}

/**
 * Answers 400 `bad_request` and closes the connection. Called from the route handler, which must
 * return without having answered; `onSettled` gets 400, or 'aborted' if the connection went first.
 */
export function refuseFraming(res: HttpResponse, message: string, onSettled: (outcome: ReplyOutcome) => void): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
    onSettled('aborted');
  });
  // Answered on a later turn, not here: after the handler returns, uWS goes on parsing the rest
  // of the packet, framing the body by the first Content-Length. A request it finds there while
  // this one is unanswered makes uWS close the connection, so nothing smuggled behind the body is
  // served; had this one been answered already, uWS would serve the next request as usual.
  setImmediate(() => {
    if (aborted) return;
    const body = JSON.stringify({ error: { code: 'bad_request', message } });
    // closeConnection: uWS sends `Connection: close` and closes once the answer is written, so a
    // later packet of the ambiguous body is never read as a request either.
    res.cork(() => res.writeStatus('400 Bad Request').writeHeader('Content-Type', 'application/json').end(body, true));
    onSettled(400);
  });
}
