// `omni bench http`: POST /v1/events against an `omni serve` child process: throughput and latency
// over HTTP, JSON and msgpack (ingest.ts).

import { defineBench } from '../shared/bench-def.ts';
import { HTTP_FLAGS, HTTP_HELP, httpDerived, httpHeadline, readHttpOptions, runHttpBench } from './ingest.ts';

export const HTTP_BENCH = defineBench({
  title: 'http: POST /v1/events throughput against an omni serve child process',
  help: HTTP_HELP,
  flags: HTTP_FLAGS,
  read: readHttpOptions,
  run: runHttpBench,
  headline: httpHeadline,
  derived: httpDerived,
});
