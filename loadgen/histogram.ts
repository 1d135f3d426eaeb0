// Latency histograms (HdrHistogram): what the loadgen records into and what the benchmarks
// summarise, so that both report the same percentiles from the same resolution.

import hdr from 'hdr-histogram-js';

export type Histogram = ReturnType<typeof hdr.build>;

/** Records microseconds, 1 µs to 10 min, 3 significant digits. */
export function latencyHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

export function summariseLatency(h: Histogram): LatencySummary {
  return {
    count: h.totalCount,
    p50Ms: h.getValueAtPercentile(50) / 1000,
    p99Ms: h.getValueAtPercentile(99) / 1000,
    p999Ms: h.getValueAtPercentile(99.9) / 1000,
    maxMs: h.maxValue / 1000,
    meanMs: h.mean / 1000,
  };
}
