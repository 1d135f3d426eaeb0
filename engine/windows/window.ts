// A window a caller asks for, written `5m`, `15m`, `1h`, `24h`: 1 minute to the 24 h kept.

import { KEPT_MINUTES } from './buckets.ts';

export const DEFAULT_WINDOW = '1h';

interface WindowRequest {
  /** As the caller wrote it (the answer names it so). */
  window: string;
  minutes: number;
}

const WINDOW = /^([1-9][0-9]{0,4})([mh])$/;

/** The window `window` names (absent or empty: the default), or a sentence saying what is wrong. */
function parseWindow(window: unknown): WindowRequest | { problem: string } {
  const w = window === undefined || window === '' ? DEFAULT_WINDOW : window;
  const match = typeof w === 'string' ? WINDOW.exec(w) : null;
  const minutes = match === null ? NaN : Number(match[1]) * (match[2] === 'h' ? 60 : 1);
  if (!(minutes >= 1 && minutes <= KEPT_MINUTES)) {
    return { problem: 'window must be minutes or hours such as 5m, 15m, 1h, 24h: 1 minute to 24 hours' };
  }
  return { window: w as string, minutes };
}

/** A window and one of `dimensions` to cut the figures by (absent or empty `by`: `defaultBy`), or a sentence saying what is wrong. */
export function windowAndDimension<D extends string>(window: unknown, by: unknown, dimensions: readonly D[], defaultBy: D): (WindowRequest & { by: D }) | { problem: string } {
  const parsed = parseWindow(window);
  if ('problem' in parsed) return parsed;
  const b = by === undefined || by === '' ? defaultBy : by;
  if (!dimensions.includes(b as D)) return { problem: `by must be one of ${dimensions.join(', ')}` };
  return { ...parsed, by: b as D };
}
