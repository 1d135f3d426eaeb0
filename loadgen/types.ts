// What several loadgen files share and none of them owns: kept here so that the files that use
// these need not import each other (options.ts, the desk group and the subscribers would
// otherwise import one another in a circle).

/** How frames are encoded on the wire. */
export type Format = 'json' | 'msgpack';

/** The desks run in the main thread: more than this would start to compete with the ingest. */
export const MAX_DESKS = 500;

/** What the connections of one thread add up into. */
export interface SubscriberTally {
  opened(): void;
  /** `subscribed`: every topic of the connection had its first snapshot. */
  closed(subscribed: boolean): void;
  snapshot(first: boolean): void;
  /** An update for `client` on a topic of `family` (`stock`, `kiosk`, …), received at `nowMs`, whose oldest event was scheduled at `tsMs`. */
  update(client: number, tsMs: number, nowMs: number, family: string): void;
  /** A state topic's seq jumped: the server conflated updates for a slow reader (not an error). */
  conflated(): void;
  /** A seq that went backwards or repeated, an event topic with a gap, an update before its snapshot. */
  seqError(): void;
  /** An `error` op, an undecodable message, a failed or lost connection. */
  error(detail: string): void;
  /** Every topic of one connection had its first snapshot. */
  subscribed(): void;
}
