// A case: a customer's matter that outlives a chat (a complaint, a refund), followed by a team
// until resolved. Each case is one small record; a customer's cases are listed in another.

export const CASE_STATUSES = ['open', 'pending', 'resolved'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** A case is overdue this long after it was opened unless the event says otherwise (one day). */
export const DEFAULT_DUE_MS = 86_400_000;
/** Bounds the case record, rewritten by every update. */
export const MAX_NOTES = 200;
/** Bounds the customer's list of cases, rewritten by every case opened. */
export const MAX_CASES_PER_CUSTOMER = 500;

export interface CaseNote {
  /** Event time (or the clock when the event had none), epoch ms. */
  at: number;
  /** The case's status once the update that carried the note was applied. */
  status: CaseStatus;
  text: string;
}

export interface CaseRecord {
  case: string;
  /**
   * The customer whose list holds it (its subject resolved; after a merge, the survivor).
   * Absent when the subject names nobody (a blocked value such as `anonymous`).
   */
  customer?: string;
  /** The id it was opened with (a customer id or any linked id). */
  subject: string;
  topic: string;
  team: string;
  summary: string;
  status: CaseStatus;
  /** The service request it came from, as the opener named it. */
  request?: string;
  /** Clock ms. */
  openedAt: number;
  /** Clock ms it becomes overdue unless resolved; no update moves it. */
  dueAt: number;
  updatedAt: number;
  resolvedAt?: number;
  /** Set once `case_overdue` was raised. */
  overdue?: true;
  notes: CaseNote[];
}

/** What `cases/<customer>`, GET /v1/customers/:subject/cases and the data-subject export show. */
export interface CustomerCases {
  customer: string;
  /** Newest first. */
  cases: CaseView[];
}

export type CaseView = Omit<CaseRecord, 'customer'>;

export interface CaseTimer {
  kind: 'case';
  case: string;
}

export const caseKeys = {
  case: (id: string) => `svc/case/${id}`,
  /** The customer's case ids, oldest first. */
  customerCases: (customer: string) => `svc/cases/${customer}`,
};

export const caseTopic = (customer: string) => `cases/${customer}`;
export const caseTimerId = (id: string) => `case/${id}`;
