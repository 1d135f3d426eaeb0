// The shape of the case events, checked and copied before any state is read.

import type { EventSchema, FieldRule } from '../../validate.ts';
import { MAX_TEXT } from '../events.ts';
import { CASE_STATUSES } from './types.ts';

const topicId: FieldRule = { kind: 'id', noAt: true };
/** A year: a due time further out is a typo, not a plan. */
export const MAX_DUE_MS = 366 * 86_400_000;

export const CASE_EVENT_FIELDS: Record<string, EventSchema> = {
  'case.opened': {
    case: topicId,
    subject: { kind: 'id' },
    topic: topicId,
    team: topicId,
    summary: { kind: 'text', max: MAX_TEXT },
    dueMs: { kind: 'int', min: 1, max: MAX_DUE_MS, optional: true },
    request: { kind: 'id', noAt: true, optional: true },
  },
  'case.updated': {
    case: topicId,
    status: { kind: 'enum', values: CASE_STATUSES },
    note: { kind: 'text', max: MAX_TEXT, optional: true },
  },
};
