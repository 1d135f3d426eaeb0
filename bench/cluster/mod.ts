// `omni bench cluster`: ingest through a three-node cluster against the embedded server, failover
// after kill -9 under load, and every acknowledged receipt counted once (cluster-bench.ts).

import { defineBench } from '../shared/bench-def.ts';
import { CLUSTER_FLAGS, CLUSTER_HELP, clusterHeadline, readClusterOptions, runClusterBench } from './cluster-bench.ts';

export const CLUSTER_BENCH = defineBench({
  title: 'cluster: ingest through three omni serve --nats nodes vs the embedded server, failover after kill -9, exactly-once',
  help: CLUSTER_HELP,
  flags: CLUSTER_FLAGS,
  read: readClusterOptions,
  run: runClusterBench,
  headline: clusterHeadline,
});
