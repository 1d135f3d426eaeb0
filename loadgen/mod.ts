// `omni loadgen`: a bounded, open-loop load against a running server on this
// machine. Progress goes to stderr, the summary to stdout, the reports to --report / --html.
// Exit codes: 0 done, 1 failed, 2 invoked wrongly (cli/mod.ts turns a UsageError into 2).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderHtml } from './html.ts';
import { HELP, readOptions, type LoadgenOptions } from './options.ts';
import { summaryTable } from './report.ts';
import { runLoadgen, type RunOutput } from './run.ts';

export { readOptions, loopbackUrl, isLoopback, type LoadgenOptions } from './options.ts';
export { runLoadgen, type RunOutput } from './run.ts';
export type { LoadgenReport } from './report.ts';

// The workload pieces the benchmarks share with the loadgen: seeded PRNG, Zipf sampler, SKU and
// location names, the stock workload, latency histograms.
export { StockWorkload, ZipfSampler, chunked, countErrors, locationEvents, locationName, prng, reservationsIn, seedEvents, skuName, type Distribution } from './stock-workload.ts';
export { latencyHistogram, summariseLatency, type Histogram, type LatencySummary } from './histogram.ts';
export { LatencyRecorder, epochMs, type LatencyMs } from './latency.ts';
export type { Format } from './types.ts';

// The loadgen's parts, for benchmarks that drive them against other servers (bench/push/) or
// count connections (bench/idle/), and the WebSocket receiver they measure (bench/receiver/): the
// same ingest, schedule, subscribers and wire as `omni loadgen`.
export { httpPoster } from './http-poster.ts';
export { IngestDriver } from './ingest.ts';
export { quietPushes, runTicks, setUp } from './run.ts';
export { openScenario } from './scenario.ts';
export { OpenLoopSchedule } from './schedule.ts';
export { SubscriberPool, defaultWorkers, type PoolSample } from './subscriber-pool.ts';
export type { SubscriberProtocol } from './subscriber-group.ts';
export { openOmniSubscriber, type OmniSubscriber, type SubscriberSpec } from './omni-subscriber.ts';
export type { SubscriberTally } from './types.ts';
export { openWire, type WireSocket } from './ws-wire.ts';

export async function main(argv: string[]): Promise<number> {
  const options = readOptions(argv);
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const out = await runLoadgen(options);
  writeOutputs(options, out, (line) => process.stdout.write(`${line}\n`));
  return 0;
}

/** Prints the summary and writes the JSON and HTML reports asked for. */
export function writeOutputs(options: LoadgenOptions, out: RunOutput, print: (line: string) => void): void {
  print(`\nomni loadgen summary\n${summaryTable(out.report)}`);
  if (options.report) {
    write(options.report, JSON.stringify(out.report, null, 2) + '\n');
    print(`report written to ${options.report}`);
  }
  if (options.html) {
    write(options.html, renderHtml(out.report));
    print(`HTML report written to ${options.html}`);
  }
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
