// The options of a short real `omni loadgen` run against a test server: its ingest token, a
// customer token for plain subscribers, and minted kiosk / member tokens recorded for the test.
// Small batches over few connections keep the follow-up lag (rate + batch × connections) inside
// a short run, so commits, releases and fulfilments reach the server too. No cleanup: the tests
// read what the run left in the server (a member's recommendations leave out sold-out SKUs, and
// the cleanup sets the run's stock to 0); test/loadgen-cleanup.test.ts checks the cleanup.

import type { LoadgenOptions } from '../loadgen/options.ts';
import type { TestServer } from './gateway-harness.ts';

export interface Minted {
  role: string;
  sub: string;
  loc?: string;
}

export function shortRun(
  server: Pick<TestServer, 'url' | 'token'>,
  run: Pick<LoadgenOptions, 'durationS' | 'rate' | 'subscribers' | 'skus' | 'scenario'>,
): { options: LoadgenOptions; minted: Minted[] } {
  const minted: Minted[] = [];
  const options: LoadgenOptions = {
    url: server.url,
    ...run,
    token: server.token('ingest', 'loadgen'),
    subscriberToken: server.token('customer', 'watcher'),
    mintToken: ({ role, sub, loc }) => {
      minted.push({ role, sub, loc });
      return server.token(role, sub, loc);
    },
    batch: 50,
    format: 'json',
    connections: 4,
    tickMs: 5,
    progress: false,
    cleanup: false,
  };
  return { options, minted };
}
