// How the ops page writes the service figures (ui/shared/figure-format.ts): a missing figure is
// "—", never "0" or "NaN"; durations change unit where a supervisor expects.

import { describe, expect, it } from 'vitest';
import { count, duration, NOTHING_COUNTED, percent } from '../ui/shared/figure-format.ts';

describe('service figure formatting', () => {
  it('writes null, undefined and non-finite figures as —', () => {
    for (const value of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(duration(value)).toBe(NOTHING_COUNTED);
      expect(percent(value)).toBe(NOTHING_COUNTED);
    }
    expect(count(null)).toBe('—');
    expect(percent(0)).toBe('0.0%');
    expect(duration(0)).toBe('0 ms');
  });

  it('writes durations in ms, then seconds, then minutes', () => {
    expect(duration(999.4)).toBe('999 ms');
    expect(duration(1000)).toBe('1.0 s');
    expect(duration(9_960)).toBe('10.0 s');
    expect(duration(45_200)).toBe('45 s');
    expect(duration(119_999)).toBe('120 s');
    expect(duration(120_000)).toBe('2.0 min');
    expect(duration(5_400_000)).toBe('90.0 min');
  });

  it('writes ratios as percentages with one decimal', () => {
    expect(percent(1 / 3)).toBe('33.3%');
    expect(percent(1)).toBe('100.0%');
  });
});
