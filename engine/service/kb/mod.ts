// Knowledge-base answers: the index that matches a customer's text to an entry.
export { KB_CONFIDENCE_THRESHOLD, KnowledgeIndex, knowledgeIndexOf } from './knowledge-index.ts';
export type { KnowledgeEntry, KnowledgeMatch } from './knowledge-index.ts';
