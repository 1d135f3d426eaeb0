// What can go wrong talking to NATS, as codes a caller can branch on. NATS' own errors
// (TimeoutError, NoRespondersError, JetStreamApiError, ...) stay reachable as `cause`, but a caller
// never has to know which of them means "try again later".

import { JetStreamApiError } from '@nats-io/jetstream';
import { MAX_PARTITIONS } from '../engine/mod.ts';

export const CLUSTER_ERROR_CODES = [
  /** NATS did not take the write within the bound. The outcome is unknown (a timed-out write can
   * still land, e.g. when an R3 stream regains quorum): append the same entries, same msgIDs, again. */
  'unavailable',
  /** The server refused the write for good (too large, permissions): retrying cannot help. */
  'rejected',
  /** The connection was closed (by `close()`): nothing more goes through it. */
  'closed',
  /** Bad arguments: a partition out of range, an empty msgID, a start sequence below 0. */
  'invalid',
  /** An append after an `unavailable` one on the same partition would store something new before
   * the unsettled entry (only entries the failed append had stored may go before it): that could put
   * it before an earlier entry that lands later. */
  'unsettled',
  /** The stream exists with another layout (subjects, replicas) than this code expects. */
  'stream_mismatch',
  /** Start-up could not reach a JetStream that answers within the bound. */
  'no_jetstream',
] as const;

export type ClusterErrorCode = (typeof CLUSTER_ERROR_CODES)[number];

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An append that did not get all its entries stored: `stored` holds the stream sequences of the
 * leading entries that were (in order), so the caller retries from entry `stored.length` on.
 */
export class AppendError extends ClusterError {
  constructor(
    code: ClusterErrorCode,
    message: string,
    readonly stored: number[],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A short description of any thrown value, with its NATS class and code, for logs and error messages. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  const cause = e.cause instanceof Error ? ` (cause: ${e.cause.constructor.name}: ${e.cause.message})` : '';
  return `${e.constructor.name}: ${e.message}${code === undefined ? '' : ` [${String(code)}]`}${cause}`;
}

/** Whether a JetStream API call failed because the stream, consumer or message is not there. */
export function isNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.apiError().code === 404;
}

/** Throws `invalid` unless `partitions` is a partition count the engine allows. */
export function checkPartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new ClusterError('invalid', `partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
  }
}
