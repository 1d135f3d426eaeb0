import { describe, expect, it } from 'vitest';
import { deviationsFromMedian, readLoadgenBenchOptions } from '../bench/loadgen/repeat.ts';
import { UsageError } from '../bench/shared/flags.ts';
import { spread } from '../bench/shared/report.ts';

describe('omni bench loadgen', () => {
  it('reports the largest deviation from the median in percent, on either side', () => {
    const dev = deviationsFromMedian({ eventsPerS: spread([100, 95, 112]), ackP99Ms: spread([10, 10, 10]), zero: spread([0, 0, 1]) });
    expect(dev.eventsPerS).toBeCloseTo(12, 6);
    expect(dev.ackP99Ms).toBe(0);
    // A median of zero has no relative deviation.
    expect(dev).not.toHaveProperty('zero');
  });

  it('passes loadgen flags through, checked before any server starts', () => {
    const o = readLoadgenBenchOptions(['--loadgen=--rate 5000 --subscribers 50', '--durability', 'none']);
    expect(o).toEqual({ durability: 'none', loadgenArgs: ['--rate', '5000', '--subscribers', '50'] });
    expect(() => readLoadgenBenchOptions(['--loadgen=--rate nope'])).toThrow(UsageError);
    // The bench owns the target and the tokens of every run.
    expect(() => readLoadgenBenchOptions(['--loadgen=--url http://127.0.0.1:9'])).toThrow(/set by the bench/);
    expect(() => readLoadgenBenchOptions(['--loadgen=--token=abc'])).toThrow(/set by the bench/);
  });
});
