// One activity applied on its customer's partition: the session it falls in and the session's
// log here; the item's half of the recommender update goes to the item's bucket (rec.item).

import type { Effects, FinalResult, InputEvent } from '../types.ts';
import type { StagedState } from '../staged-state.ts';
import type { ItemActivityEvent } from './internal-events.ts';
import { recordInSession, type ActivityKind } from './recommender/mod.ts';
import { aliasTouches } from './route.ts';
import { sessionFor } from './sessions.ts';
import { topics, type ResolvedCustomerOptions } from './types.ts';

export function applyActivity(
  state: StagedState,
  ev: InputEvent,
  customer: string,
  time: number,
  o: ResolvedCustomerOptions,
): Omit<Effects, 'result'> & { result: FinalResult } {
  const session = sessionFor(state, customer, time, o.sessionGapMs);
  const sku = ev.sku as string;
  const kind = ev.type.slice('activity.'.length) as ActivityKind;
  const had = recordInSession(state, session.id, sku, kind, time, o.recommender);
  const item: ItemActivityEvent = { id: `${ev.id}/item`, type: 'rec.item', sku, session: session.id, kind, time, had };
  return {
    result: { ok: true, customer, session: session.id },
    writes: state.writes(),
    changed: [topics.recs(customer)],
    emit: [item, ...aliasTouches(state, customer, ev.id)],
  };
}
