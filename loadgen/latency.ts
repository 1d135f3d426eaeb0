// Latency histograms for the load generator: microseconds in an HdrHistogram (histogram.ts),
// always measured from an event's *scheduled* time, so coordinated omission is corrected by
// construction. Histograms cross worker threads as compressed base64.

import hdr from 'hdr-histogram-js';
import { latencyHistogram, type Histogram } from './histogram.ts';

export interface LatencyMs {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/** Most a value can be (10 min in µs); a longer wait is recorded as this. */
const MAX_US = 600_000_000;

export class LatencyRecorder {
  readonly histogram: Histogram;

  constructor(histogram: Histogram = latencyHistogram()) {
    this.histogram = histogram;
  }

  /** Records `nowMs − scheduledMs` (both epoch ms). */
  recordSince(scheduledMs: number, nowMs: number): void {
    this.histogram.recordValue(toMicros(nowMs - scheduledMs));
  }

  /**
   * Records a value sampled every `intervalMs`: a value longer than the interval also stands for
   * the samples that could not be taken meanwhile (HdrHistogram's coordinated-omission correction).
   */
  recordWithInterval(valueMs: number, intervalMs: number): void {
    this.histogram.recordValueWithExpectedInterval(toMicros(valueMs), toMicros(intervalMs));
  }

  add(other: LatencyRecorder): void {
    this.histogram.add(other.histogram);
  }

  reset(): void {
    this.histogram.reset();
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencyMs {
    const h = this.histogram;
    const at = (p: number) => (h.totalCount === 0 ? 0 : round3(h.getValueAtPercentile(p) / 1000));
    return { p50: at(50), p99: at(99), p999: at(99.9), max: h.totalCount === 0 ? 0 : round3(h.maxValue / 1000), count: h.totalCount };
  }

  /** Latency (ms) at each percentile, for the percentile curve. */
  curve(percentiles: readonly number[]): Array<[number, number]> {
    return percentiles.map((p) => [p, this.histogram.totalCount === 0 ? 0 : this.histogram.getValueAtPercentile(p) / 1000]);
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  static decode(base64: string): LatencyRecorder {
    const h = latencyHistogram();
    h.add(hdr.decodeFromCompressedBase64(base64));
    return new LatencyRecorder(h);
  }
}

function toMicros(ms: number): number {
  return Math.min(MAX_US, Math.max(1, Math.round(ms * 1000)));
}

/** Rounded to 3 decimals, as the reports print figures. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Epoch ms with sub-millisecond resolution (the same scale in every thread). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
