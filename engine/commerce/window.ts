// Which figures a caller asks for: a window (engine/windows/ parseWindow) and the dimension its
// groups are cut by. Checked here once, for the query and the gateway.

import { parseWindow } from '../windows/mod.ts';
import { DIMENSIONS, type Dimension } from './types.ts';

export { DEFAULT_WINDOW } from '../windows/mod.ts';
export const DEFAULT_BY: Dimension = 'channel';

export interface StatsRequest {
  /** As the caller wrote it (the answer names it so). */
  window: string;
  minutes: number;
  by: Dimension;
}

/** The request for `window` and `by` (absent or empty: the defaults), or a sentence saying what is wrong. */
export function statsRequest(window: unknown, by: unknown): StatsRequest | { problem: string } {
  const parsed = parseWindow(window);
  if ('problem' in parsed) return parsed;
  const b = by === undefined || by === '' ? DEFAULT_BY : by;
  if (!DIMENSIONS.includes(b as Dimension)) return { problem: `by must be one of ${DIMENSIONS.join(', ')}` };
  return { ...parsed, by: b as Dimension };
}
