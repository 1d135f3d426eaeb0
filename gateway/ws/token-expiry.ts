// A WebSocket lives longer than the token that opened it; what the token allowed must end with
// it. Like Centrifugo, a connection is closed when its token's `exp` passes (close code 4001);
// the client reconnects with a fresh token and resumes its topics with `since`.

/** setTimeout's longest delay (~24.8 days); a longer one would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface Expiry {
  cancel(): void;
}

/** Calls `onExpired` once `atMs` (epoch ms) has passed; at once if it already has. */
export function onExpiry(atMs: number, onExpired: () => void, now: () => number = Date.now): Expiry {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const delay = atMs - now();
    if (delay <= 0) return onExpired();
    // Re-armed on waking: a token valid for months needs several timers, and a timer may fire early.
    timer = setTimeout(arm, Math.min(delay, MAX_DELAY_MS));
    // The connection keeps the process alive, not its expiry.
    timer.unref();
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}
