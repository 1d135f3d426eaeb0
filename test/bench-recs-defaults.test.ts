// `omni bench recs` without --train / --test runs on the YooChoose sessions kept in the
// repository, so it works on any clone with nothing beside it.

import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECS_HELP, readRecsOptions } from '../bench/recs/engine-level.ts';
import { readSessions } from '../bench/recs/eval.ts';

const ROOT = join(import.meta.dirname, '..');

describe('omni bench recs defaults', () => {
  it('reads train_tr → train_valid from test/fixtures/yoochoose, and says so in its help', () => {
    const o = readRecsOptions([]);
    if (o === 'help') throw new Error('no flags asked for help');
    expect([relative(ROOT, o.train), relative(ROOT, o.test)]).toEqual(['test/fixtures/yoochoose/train_tr.tsv.gz', 'test/fixtures/yoochoose/train_valid.tsv.gz']);
    for (const file of [o.train, o.test]) expect(existsSync(file)).toBe(true);
    // The whole validation split: more sessions than the 1,000 of the short sample.
    expect(readSessions(o.test).length).toBeGreaterThan(1000);
    expect(RECS_HELP).toContain('test/fixtures/yoochoose');
    expect(RECS_HELP).not.toMatch(/shared|issue/);
  });
});
