// Which figures a caller asks for: a window of 1 minute to 24 hours written `5m`, `1h`, `24h`,
// and the dimension its groups are cut by. Checked here once, for the query and the gateway.

import { DIMENSIONS, KEPT_MINUTES, type Dimension } from './types.ts';

export const DEFAULT_WINDOW = '1h';
export const DEFAULT_BY: Dimension = 'channel';

export interface StatsRequest {
  /** As the caller wrote it (the answer names it so). */
  window: string;
  minutes: number;
  by: Dimension;
}

const WINDOW = /^([1-9][0-9]{0,4})([mh])$/;

/** The request for `window` and `by` (absent or empty: the defaults), or a sentence saying what is wrong. */
export function statsRequest(window: unknown, by: unknown): StatsRequest | { problem: string } {
  const w = window === undefined || window === '' ? DEFAULT_WINDOW : window;
  const b = by === undefined || by === '' ? DEFAULT_BY : by;
  const match = typeof w === 'string' ? WINDOW.exec(w) : null;
  const minutes = match === null ? NaN : Number(match[1]) * (match[2] === 'h' ? 60 : 1);
  if (!(minutes >= 1 && minutes <= KEPT_MINUTES)) {
    return { problem: 'window must be minutes or hours such as 5m, 15m, 1h, 24h: 1 minute to 24 hours' };
  }
  if (!DIMENSIONS.includes(b as Dimension)) return { problem: `by must be one of ${DIMENSIONS.join(', ')}` };
  return { window: w as string, minutes, by: b as Dimension };
}
