// A request's language finds the knowledge-base entries of that language by its primary subtag:
// a customer tagged en-GB or EN gets the English entries, one tagged zh-Hans the Chinese ones.

import { describe, expect, it } from 'vitest';
import { knowledgeIndexOf, type KnowledgeEntry } from '../engine/service/kb/mod.ts';

const entry = (faq: string, language: string | undefined, question: string): KnowledgeEntry => ({
  faq,
  topic: 'delivery',
  questions: [question],
  answer: `About ${question}`,
  ...(language ? { language } : {}),
});

const INDEX = knowledgeIndexOf([
  entry('ship-en', 'en-US', 'How long does delivery take?'),
  entry('ship-zh', 'zh', '送货需要多长时间？'),
  entry('gift-any', undefined, 'Do you offer gift wrapping?'),
]);

describe('knowledge-base languages', () => {
  it('matches by primary subtag, whatever its case and region', () => {
    for (const tag of ['en', 'en-GB', 'EN', 'en-us']) expect(INDEX.match('how long does delivery take', tag), tag).toMatchObject({ confident: true, faq: 'ship-en' });
    expect(INDEX.match('送货需要多长时间', 'zh-Hans')).toMatchObject({ confident: true, faq: 'ship-zh' });
  });

  it('keeps other languages out, and entries without a language in', () => {
    const faqOf = (text: string, language: string) => {
      const m = INDEX.match(text, language);
      return m.confident ? m.faq : undefined;
    };
    expect(faqOf('how long does delivery take', 'fr')).not.toBe('ship-en');
    expect(faqOf('送货需要多长时间', 'en-GB')).not.toBe('ship-zh');
    expect(INDEX.match('gift wrapping', 'de-AT')).toMatchObject({ confident: true, faq: 'gift-any' });
  });
});

describe('knowledge-base ties', () => {
  it('go to the lower id, whatever order the entries were added or replaced in', () => {
    const twin = (faq: string) => entry(faq, 'en', 'Can I change my delivery address?');
    const running = knowledgeIndexOf([twin('addr-a'), twin('addr-b'), twin('addr-c')]);
    // Replacing one moves it last in the index's own order.
    running.upsert(twin('addr-a'));
    const rebuilt = knowledgeIndexOf([twin('addr-c'), twin('addr-b'), twin('addr-a')]);
    for (const index of [running, rebuilt]) expect(index.match('change my delivery address', 'en')).toMatchObject({ faq: 'addr-a' });
  });
});
