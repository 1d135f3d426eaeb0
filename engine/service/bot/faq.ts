// The knowledge base as stored: one record per entry (`svc/faq/<id>`), their ids in a ranked list
// (`svc/faqs`, so an upsert rewrites one small chunk, not a list of every id) and a version token
// (`svc/kb-version`). The search index over them is derived state, kept per process and rebuilt
// from the stored entries whenever the stored token is not the one it was built for: after a start,
// after another thread changed the entries, or after a batch it had followed was rolled back.
//
// The token is a chain of hashes (previous token, entry id, entry content), not a counter: after a
// rollback a different event may be applied from the same previous state, and a counter would give
// it the same number as the rolled-back one, so the index would silently keep the wrong entries.

import { createHash } from 'node:crypto';
import type { InputEvent, StateView } from '../../types.ts';
import { LANGUAGE_TAG, type EventSchema, type FieldRule } from '../../validate.ts';
import type { Handler, ServiceChange } from '../change.ts';
import { knowledgeIndexOf, type KnowledgeEntry, type KnowledgeIndex } from '../kb/mod.ts';
import { done, reject } from '../outcome.ts';
import { entries, insert, remove } from '../ranked-list.ts';

export const MAX_QUESTIONS = 50;
export const MAX_QUESTION = 500;
export const MAX_ANSWER = 4000;

export const faqKeys = {
  entry: (faq: string) => `svc/faq/${faq}`,
  ids: 'svc/faqs',
  version: 'svc/kb-version',
};

const faqId: FieldRule = { kind: 'id', noAt: true };

export const FAQ_EVENT_FIELDS: Record<string, EventSchema> = {
  'faq.upserted': {
    faq: faqId,
    topic: faqId,
    questions: { kind: 'array', of: { kind: 'text', max: MAX_QUESTION }, min: 1, max: MAX_QUESTIONS },
    answer: { kind: 'text', max: MAX_ANSWER },
    language: { ...LANGUAGE_TAG, optional: true },
  },
  'faq.removed': { faq: faqId },
};

/** The index built for one version of the stored entries. */
let memo: { version: string; index: KnowledgeIndex } | undefined;

const storedVersion = (view: StateView): string => view.get<string>(faqKeys.version) ?? '';

function nextVersion(previous: string, faq: string, content: KnowledgeEntry | undefined): string {
  return createHash('sha256')
    .update(`${previous}\n${faq}\n${content === undefined ? '-' : JSON.stringify(content)}`)
    .digest('base64url')
    .slice(0, 22);
}

/** The stored entries, in id order. */
export function storedEntries(view: StateView): KnowledgeEntry[] {
  const out: KnowledgeEntry[] = [];
  for (const { id } of entries(view, faqKeys.ids)) {
    const entry = view.get<KnowledgeEntry>(faqKeys.entry(id));
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

/** The index of the entries `view` holds: the memo when it was built for them, else rebuilt. */
export function knowledgeIndex(view: StateView): KnowledgeIndex {
  const version = storedVersion(view);
  if (memo?.version !== version) memo = { version, index: knowledgeIndexOf(storedEntries(view)) };
  return memo.index;
}

/** Stages the entry (or its removal) and moves the memo along with it. Nothing may throw after. */
function store(c: ServiceChange, faq: string, entry: KnowledgeEntry | undefined): string {
  const index = knowledgeIndex(c);
  const had = c.get<KnowledgeEntry>(faqKeys.entry(faq)) !== undefined;
  const version = nextVersion(storedVersion(c), faq, entry);
  c.put(faqKeys.entry(faq), entry);
  if (entry !== undefined && !had) insert(c, faqKeys.ids, faq, 0, 0);
  if (entry === undefined && had) remove(c, faqKeys.ids, faq, 0);
  c.put(faqKeys.version, version);
  if (entry === undefined) index.remove(faq);
  else index.upsert(entry);
  memo = { version, index };
  return version;
}

const hasWords = (text: string) => text.trim().length > 0;

const upserted: Handler = (c, ev: InputEvent) => {
  const faq = ev.faq as string;
  const questions = ev.questions as string[];
  const answer = ev.answer as string;
  if (!questions.every(hasWords)) reject('invalid_event', 'every question must hold some text');
  if (!hasWords(answer)) reject('invalid_event', 'the answer must hold some text');
  const entry: KnowledgeEntry = {
    faq,
    topic: ev.topic as string,
    questions,
    answer,
    ...(ev.language ? { language: ev.language as string } : {}),
  };
  const version = store(c, faq, entry);
  return done(c, { faq, version });
};

const removed: Handler = (c, ev: InputEvent) => {
  const faq = ev.faq as string;
  if (c.get(faqKeys.entry(faq)) === undefined) reject('not_found', `no knowledge-base entry '${faq}'`);
  const version = store(c, faq, undefined);
  return done(c, { faq, version });
};

export const FAQ_HANDLERS: Record<string, Handler> = { 'faq.upserted': upserted, 'faq.removed': removed };

/** The stored entry an answer came from. */
export function faqEntry(view: StateView, faq: string): KnowledgeEntry | undefined {
  return view.get<KnowledgeEntry>(faqKeys.entry(faq));
}
