// Followers (Processor.follows) react on their own partition: the batch that applies a followed
// event emits a derived event of the engine's own type `$follow` to the partition the follower's
// `partitionKey` names for it, and applying that event runs `onFollowed` there. So a partition's
// batch writes only keys its partition owns (followers' keys are their own partition's), at the
// price of the reaction landing one commit after the followed event. A batch emits one follow
// event per follower, source partition and target partition, carrying each followed event of
// the batch with its outcome in order: the outbox cost of following is per batch, not per event.

import type { FollowedOutcome, InputEvent } from './types.ts';

/** The type of follow events: no processor declares it, so no sender or processor can send one. */
export const FOLLOW_TYPE = '$follow';

/** One followed event as a follow event carries it: the event, its owner's outcome, its event time. */
export type Followed = [event: InputEvent, result: FollowedOutcome['result'], changed: readonly string[], eventTime: number];

/** A follow event: every event `follower` follows that one batch applied ok on one partition, in order. */
export interface FollowEvent extends InputEvent {
  type: typeof FOLLOW_TYPE;
  /** The name of the following processor. */
  follower: string;
  followed: Followed[];
  /**
   * The clock when the followed events were applied: the reactions' `now`, so that they do not
   * depend on when the follow event is applied (one commit later, maybe on another thread).
   */
  now?: number;
}

export function isFollowEvent(event: InputEvent): event is FollowEvent {
  return event.type === FOLLOW_TYPE;
}
