// Every NATS subject and stream a cluster uses carries its name (`--cluster`, default `omni`), so
// several clusters can share one NATS system without seeing each other's events, leases or nodes.

import { ClusterError } from './errors.ts';

export const DEFAULT_CLUSTER = 'omni';
/** Lower case, so that stream names (upper case) of two clusters never coincide. */
const CLUSTER_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export interface ClusterNames {
  readonly cluster: string;
  /** The event log: one subject per partition. */
  readonly eventStream: string;
  eventSubject(partition: number): string;
  readonly eventSubjects: string;
  /** The changelog: each partition owner's committed write sets, one subject per partition. */
  readonly changeStream: string;
  changeSubject(partition: number): string;
  readonly changeSubjects: string;
  /** Partition leases: the last message of a partition's subject is its lease. */
  readonly leaseStream: string;
  leaseSubject(partition: number): string;
  readonly leaseSubjects: string;
  /** Where nodes announce themselves. */
  readonly nodesSubject: string;
  /** Where the owners send node `node` the answers of the events it logged. */
  answerSubject(node: string): string;
  /** Where a partition's owner takes questions about its entries' answers. */
  questionSubject(partition: number): string;
}

export function clusterNames(cluster: string = DEFAULT_CLUSTER): ClusterNames {
  if (typeof cluster !== 'string' || !CLUSTER_NAME.test(cluster)) {
    throw new ClusterError('invalid', `cluster name must be 1–32 lower-case letters, digits, '-' or '_' (starting with a letter or digit), got '${String(cluster)}'`);
  }
  const upper = cluster.toUpperCase();
  return {
    cluster,
    eventStream: `${upper}_EVENTS`,
    eventSubject: (p) => `${cluster}.ev.${p}`,
    eventSubjects: `${cluster}.ev.*`,
    changeStream: `${upper}_CHANGES`,
    changeSubject: (p) => `${cluster}.cl.${p}`,
    changeSubjects: `${cluster}.cl.*`,
    leaseStream: `${upper}_LEASES`,
    leaseSubject: (p) => `${cluster}.lease.${p}`,
    leaseSubjects: `${cluster}.lease.*`,
    nodesSubject: `${cluster}.nodes`,
    answerSubject: (node) => `${cluster}.ans.${node}`,
    questionSubject: (p) => `${cluster}.ask.${p}`,
  };
}
