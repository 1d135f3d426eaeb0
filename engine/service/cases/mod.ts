// Cases: a customer's matters that outlive a chat, on the service partition.
export { CASE_EVENT_FIELDS } from './events.ts';
export { CASE_HANDLERS, caseDue, isCaseTimer } from './handlers.ts';
export { customerCases, forgetCases, mergeCases } from './customers.ts';
export { caseKeys, CASE_STATUSES, DEFAULT_DUE_MS, MAX_CASES_PER_CUSTOMER, MAX_NOTES } from './types.ts';
export type { CaseNote, CaseRecord, CaseStatus, CaseTimer, CaseView, CustomerCases } from './types.ts';
