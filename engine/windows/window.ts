// A window a caller asks for, written `5m`, `15m`, `1h`, `24h`: 1 minute to the 24 h kept.

import { KEPT_MINUTES } from './buckets.ts';

export const DEFAULT_WINDOW = '1h';

export interface WindowRequest {
  /** As the caller wrote it (the answer names it so). */
  window: string;
  minutes: number;
}

const WINDOW = /^([1-9][0-9]{0,4})([mh])$/;

/** The window `window` names (absent or empty: the default), or a sentence saying what is wrong. */
export function parseWindow(window: unknown): WindowRequest | { problem: string } {
  const w = window === undefined || window === '' ? DEFAULT_WINDOW : window;
  const match = typeof w === 'string' ? WINDOW.exec(w) : null;
  const minutes = match === null ? NaN : Number(match[1]) * (match[2] === 'h' ? 60 : 1);
  if (!(minutes >= 1 && minutes <= KEPT_MINUTES)) {
    return { problem: 'window must be minutes or hours such as 5m, 15m, 1h, 24h: 1 minute to 24 hours' };
  }
  return { window: w as string, minutes };
}
