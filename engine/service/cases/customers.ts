// A customer's cases as shown (topic, GET, data-subject export), and what a merge or an erasure
// of customers (the customer domain's events) does to them.

import { StagedState } from '../../staged-state.ts';
import type { StateView } from '../../types.ts';
import type { ServiceChange } from '../change.ts';
import { caseKeys, caseTimerId, caseTopic, type CaseRecord, type CaseView, type CustomerCases } from './types.ts';

type Resolve = (view: StateView, subject: string) => string | undefined;

/** The cases of the customer `name` stands for (any linked id), newest first; undefined when it names nobody. */
export function customerCases(view: StateView, name: string, resolve: Resolve): CustomerCases | undefined {
  const customer = resolve(view, name);
  if (customer === undefined) return undefined;
  const cases: CaseView[] = [];
  for (const id of (view.get<string[]>(caseKeys.customerCases(customer)) ?? []).slice().reverse()) {
    const r = view.get<CaseRecord>(caseKeys.case(id));
    if (r === undefined) continue;
    const { customer: _owner, ...shown } = r;
    cases.push(shown);
  }
  return { customer, cases };
}

/**
 * Two customers merged: the one merged away's cases join the survivor's list (by opening time)
 * and name it. Its topic changes too: it now shows the survivor's cases.
 */
export function mergeCases(view: StateView, merged: ReadonlyArray<{ from: string; into: string }>): { writes: Array<[string, unknown]>; changed: string[] } {
  const state = new StagedState(view);
  const changed = new Set<string>();
  for (const { from, into } of merged) {
    const gone = state.get<string[]>(caseKeys.customerCases(from));
    if (gone === undefined) continue;
    const records = [...(state.get<string[]>(caseKeys.customerCases(into)) ?? []), ...gone]
      .map((id) => state.get<CaseRecord>(caseKeys.case(id)))
      .filter((r): r is CaseRecord => r !== undefined)
      .sort((a, b) => a.openedAt - b.openedAt);
    for (const r of records) if (r.customer !== into) state.put(caseKeys.case(r.case), { ...r, customer: into } satisfies CaseRecord);
    state.put(caseKeys.customerCases(into), records.map((r) => r.case));
    state.put(caseKeys.customerCases(from), undefined);
    changed.add(caseTopic(from)).add(caseTopic(into));
  }
  return { writes: state.writes(), changed: [...changed] };
}

/**
 * Erasure (service.forget): every case listed under one of the erased customer's names goes,
 * its overdue timer with it. Returns how many, and the topics that showed them: their histories restart.
 */
export function forgetCases(c: ServiceChange, names: readonly string[]): { count: number; shown: string[] } {
  const shown: string[] = [];
  let count = 0;
  for (const name of names) {
    const list = c.get<string[]>(caseKeys.customerCases(name));
    if (list === undefined) continue;
    for (const id of list) {
      if (c.get(caseKeys.case(id)) !== undefined) count++;
      c.put(caseKeys.case(id), undefined);
      c.cancelTimer(caseTimerId(id));
    }
    c.put(caseKeys.customerCases(name), undefined);
    c.topicChanged(caseTopic(name));
    shown.push(caseTopic(name));
  }
  return { count, shown };
}
