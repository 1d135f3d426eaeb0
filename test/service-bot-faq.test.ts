// The knowledge base as the service partition stores it (engine/service/bot/faq.ts): entries,
// their id list and the version token, and the per-process index that follows the stored token —
// rebuilt for a store it was not built for, including one whose batch was rolled back and had
// other entries applied from the same state.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { knowledgeIndex, storedEntries } from '../engine/service/bot/mod.ts';
import type { Effects } from '../engine/types.ts';
import { code, ServiceRunner } from './service-harness.ts';

const answer = (e: Effects) => e.result as unknown as Record<string, string>;

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/knowledge-base.json', import.meta.url), 'utf8')) as Array<Record<string, unknown>>;

const refund = { type: 'faq.upserted', faq: 'refund', topic: 'billing', questions: ['How do I get a refund?'], answer: 'Open My orders and press Refund.', language: 'en' };
const hours = { type: 'faq.upserted', faq: 'hours', topic: 'stores', questions: ['When are your stores open?'], answer: 'Every day from 9 to 21.', language: 'en' };

describe('faq.upserted / faq.removed', () => {
  it('stores an entry, lists its id and moves the version on each change', () => {
    const run = new ServiceRunner();
    const first = answer(run.ok(refund));
    expect(first.faq).toBe('refund');
    expect(run.state.get('svc/faq/refund')).toMatchObject({ faq: 'refund', topic: 'billing', answer: refund.answer });
    const second = answer(run.ok({ ...refund, answer: 'Ask in any store.' }));
    expect(second.version).not.toBe(first.version);
    expect(storedEntries(run.view).map((e) => e.answer)).toEqual(['Ask in any store.']);
    const removed = answer(run.ok({ type: 'faq.removed', faq: 'refund' }));
    expect(removed.version).not.toBe(second.version);
    expect(run.state.get('svc/faq/refund')).toBeUndefined();
    expect(storedEntries(run.view)).toEqual([]);
  });

  it('faq.removed of an entry never stored (or removed already) is not_found, and changes nothing', () => {
    const run = new ServiceRunner();
    run.rejects({ type: 'faq.removed', faq: 'nothing' }, 'not_found');
    run.ok(refund);
    run.ok({ type: 'faq.removed', faq: 'refund' });
    run.rejects({ type: 'faq.removed', faq: 'refund' }, 'not_found');
  });

  it('refuses entries without words or past their bounds', () => {
    const run = new ServiceRunner();
    run.rejects({ ...refund, questions: [] }, 'invalid_event');
    run.rejects({ ...refund, questions: ['   '] }, 'invalid_event');
    run.rejects({ ...refund, answer: '' }, 'invalid_event');
    run.rejects({ ...refund, questions: ['x'.repeat(501)] }, 'invalid_event');
    run.rejects({ ...refund, questions: Array.from({ length: 51 }, (_, i) => `question ${i}`) }, 'invalid_event');
    run.rejects({ ...refund, answer: 'x'.repeat(4001) }, 'invalid_event');
    run.rejects({ ...refund, questions: 'How do I get a refund?' }, 'invalid_event');
    expect(code(run.apply({ ...refund, faq: 'a'.repeat(10_000) } as never))).toBe('invalid_event');
  });

  it('the index follows the stored version: a store it was not built for gets its own entries', () => {
    const run = new ServiceRunner();
    for (const event of FIXTURE) run.ok(event);
    const index = knowledgeIndex(run.view);
    expect(index.size).toBe(FIXTURE.length);
    expect(index.match('Where is my order?', 'en')).toMatchObject({ confident: true, faq: 'order-status-en' });
    // Another store (another data dir, or this one before the fixture): its own entries.
    const other = new ServiceRunner();
    other.ok(hours);
    expect(knowledgeIndex(other.view).size).toBe(1);
    expect(knowledgeIndex(run.view).size).toBe(FIXTURE.length);
  });

  it('a rolled-back change followed by a different one from the same state is not mistaken for it', () => {
    const run = new ServiceRunner();
    run.ok(hours);
    const before = new Map(run.state);
    run.ok(refund);
    expect(knowledgeIndex(run.view).has('refund')).toBe(true);
    // The batch holding the refund entry is rolled back; another event is applied instead.
    run.state.clear();
    for (const [k, v] of before) run.state.set(k, v);
    run.ok({ ...refund, faq: 'returns', questions: ['Can I return a jacket?'], answer: 'Within 30 days.' });
    const index = knowledgeIndex(run.view);
    expect(index.has('refund')).toBe(false);
    expect(index.has('returns')).toBe(true);
    expect(index.size).toBe(2);
  });
});
