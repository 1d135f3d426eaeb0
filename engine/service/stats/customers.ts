// The only per-customer part of the service figures: when the customer's requests on each topic
// last ended (first-contact resolution). It goes with the customer's erasure, and follows a
// merge of two customers; the buckets themselves hold no customer id.

import type { StateView } from '../../types.ts';
import type { ServiceChange } from '../change.ts';
import { figureKeys, LAST_ENDS_KEPT, type LastEnd } from './types.ts';

/**
 * The figures' part of a customer's erasure, run before the requests go: its last ends (under
 * every name it had) and the records of its open requests.
 */
export function forgetFigures(c: ServiceChange, names: readonly string[]): void {
  for (const name of names) {
    for (const id of c.customer(name)?.open ?? []) c.put(figureKeys.request(id), undefined);
    c.put(figureKeys.lastEnds(name), undefined);
  }
}

/** The writes that give each surviving customer the last ends of the one merged into it (per topic, the later end). */
export function mergeFigures(view: StateView, merged: ReadonlyArray<{ from: string; into: string }>): Array<[string, unknown]> {
  const pending = new Map<string, LastEnd[] | undefined>();
  const read = (id: string) => (pending.has(id) ? pending.get(id) : view.get<LastEnd[]>(figureKeys.lastEnds(id)));
  for (const { from, into } of merged) {
    const gone = read(from);
    if (gone === undefined) continue;
    const byTopic = new Map<string, LastEnd>();
    for (const e of [...(read(into) ?? []), ...gone]) {
      const had = byTopic.get(e.topic);
      if (had === undefined || e.endedAt > had.endedAt) byTopic.set(e.topic, e);
    }
    pending.set(into, [...byTopic.values()].sort((a, b) => b.endedAt - a.endedAt).slice(0, LAST_ENDS_KEPT));
    pending.set(from, undefined);
  }
  return [...pending].map(([id, ends]) => [figureKeys.lastEnds(id), ends]);
}
