// Which figures a caller asks for: a window (engine/windows/) and the dimension its
// groups are cut by. Checked here once, for the query and the gateway.

import { windowAndDimension } from '../windows/mod.ts';
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
  return windowAndDimension(window, by, DIMENSIONS, DEFAULT_BY);
}
