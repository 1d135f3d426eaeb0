// case.opened, case.updated and the overdue timer. Each stages its changes in the service
// processor's ServiceChange (the same partition as the requests a case comes from) and returns
// its effects, or throws ServiceRejection (then nothing is written).

import type { Handler, ServiceChange } from '../change.ts';
import { done, reject } from '../outcome.ts';
import { topics } from '../types.ts';
import {
  caseKeys,
  caseTimerId,
  caseTopic,
  DEFAULT_DUE_MS,
  MAX_CASES_PER_CUSTOMER,
  MAX_NOTES,
  type CaseRecord,
  type CaseStatus,
  type CaseTimer,
} from './types.ts';

/** The customer a case belongs to now: after a merge, the survivor. */
export function caseOwner(c: ServiceChange, r: CaseRecord): string | undefined {
  return r.customer === undefined ? undefined : (c.options.resolveCustomer(c, r.customer) ?? r.customer);
}

const opened: Handler = (c, ev) => {
  const id = ev.case as string;
  if (c.get<CaseRecord>(caseKeys.case(id))) reject('conflict', `case '${id}' already exists (a case is opened once; case.updated changes it)`);
  const customer = c.options.resolveCustomer(c, ev.subject as string);
  const list = customer === undefined ? [] : (c.get<string[]>(caseKeys.customerCases(customer)) ?? []);
  if (list.length >= MAX_CASES_PER_CUSTOMER) reject('too_large', `the customer already has ${MAX_CASES_PER_CUSTOMER} cases, the most kept`);
  const record: CaseRecord = {
    case: id,
    ...(customer !== undefined ? { customer } : {}),
    subject: ev.subject as string,
    topic: ev.topic as string,
    team: ev.team as string,
    summary: ev.summary as string,
    status: 'open',
    ...(ev.request !== undefined ? { request: ev.request as string } : {}),
    openedAt: c.now,
    dueAt: c.now + ((ev.dueMs as number | undefined) ?? DEFAULT_DUE_MS),
    updatedAt: c.now,
    notes: [],
  };
  c.put(caseKeys.case(id), record);
  if (customer !== undefined) {
    c.put(caseKeys.customerCases(customer), [...list, id]);
    c.topicChanged(caseTopic(customer));
  }
  c.setTimer(caseTimerId(id), record.dueAt, { kind: 'case', case: id });
  return done(c, { case: id, status: record.status, dueAt: record.dueAt, ...(customer !== undefined ? { customer } : {}) });
};

const updated: Handler = (c, ev) => {
  const id = ev.case as string;
  const before = c.get<CaseRecord>(caseKeys.case(id)) ?? reject('not_found', `no case '${id}'`);
  // Resolved is final: a matter that comes back is a new case, with its own due time.
  if (before.status === 'resolved') reject('invalid_transition', `case '${id}' is resolved; open a new case instead`);
  const status = ev.status as CaseStatus;
  const note = ev.note as string | undefined;
  if (note !== undefined && before.notes.length >= MAX_NOTES) reject('too_large', `case '${id}' already has ${MAX_NOTES} notes, the most kept`);
  const at = (ev.ts as number | undefined) ?? c.now;
  const after: CaseRecord = {
    ...before,
    status,
    updatedAt: c.now,
    ...(status === 'resolved' ? { resolvedAt: c.now } : {}),
    notes: note === undefined ? before.notes : [...before.notes, { at, status, text: note }],
  };
  c.put(caseKeys.case(id), after);
  if (status === 'resolved') c.cancelTimer(caseTimerId(id));
  const owner = caseOwner(c, after);
  if (owner !== undefined) c.topicChanged(caseTopic(owner));
  return done(c, { case: id, status });
};

export const CASE_HANDLERS: Record<string, Handler> = { 'case.opened': opened, 'case.updated': updated };

export function isCaseTimer(data: unknown): data is CaseTimer {
  return (data as CaseTimer | undefined)?.kind === 'case';
}

/** The due time came: `case_overdue` on alerts/service, once, unless the case was resolved. */
export function caseDue(c: ServiceChange, data: CaseTimer, at: number): void {
  const r = c.get<CaseRecord>(caseKeys.case(data.case));
  // Erased, or erased and opened again under the same id with another due time: stale.
  if (!r || r.status === 'resolved' || r.overdue || r.dueAt !== at) return;
  c.put(caseKeys.case(r.case), { ...r, overdue: true } satisfies CaseRecord);
  const customer = caseOwner(c, r);
  c.message(topics.alerts, { type: 'case_overdue', case: r.case, ...(customer !== undefined ? { customer } : {}), team: r.team, dueAt: r.dueAt });
  if (customer !== undefined) c.topicChanged(caseTopic(customer));
}
