// Queue positions pushed as a lane moves. Telling every waiting request its new place on every
// dequeue would be O(queue) messages per event (50,000 queued), so only the first
// `positionUpdates` (K) of each lane the event moved are told, and only those whose place
// changed: O(K × lanes moved) per event, reading the head chunks of the old and new lane.
// Beyond K a request reads GET /v1/requests/:id, and is told once it moves into the first K.

import type { ServiceChange } from './change.ts';
import { head } from './ranked-list.ts';
import { topics } from './types.ts';

export function positionMessages(c: ServiceChange): void {
  const k = c.options.positionUpdates;
  if (k <= 0) return;
  for (const lane of c.lanesMoved) {
    const before = new Map(head(c.view, lane, k).map((id, i) => [id, i]));
    const after = head(c, lane, k);
    for (let i = 0; i < after.length; i++) {
      const id = after[i];
      // A request whose status message goes out already carries its position.
      if (c.touched.has(id) || before.get(id) === i) continue;
      c.message(topics.request(id), { type: 'position', request: id, position: i + 1 });
    }
  }
}
