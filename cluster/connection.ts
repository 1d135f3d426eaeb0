// The node's one connection to NATS, set up for a cluster that loses servers: it never gives up
// reconnecting (nats.js' default of 10 attempts closes the connection for good after about 19 s
// of absence, and consumers then end without an error), it retries soon after a server comes
// back, and start-up waits for JetStream itself rather than for the socket.

import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ClusterError, describeError } from './errors.ts';
import { clusterNames, type ClusterNames } from './names.ts';
import type { ConnectionStatus, ConnectOptions } from './types.ts';

export interface ClusterConnection {
  /** The subjects and streams of the cluster this connection is for. */
  readonly names: ClusterNames;
  /** False from a disconnect until the next reconnect: what is sent meanwhile may be dropped. */
  readonly connected: boolean;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /**
   * Calls `listener` at every reconnect until the returned function is called. nats.js drops what
   * it had not yet written when it dials again, so a publish pending at a reconnect may never be
   * answered: its caller retries at once rather than wait out the publish timeout.
   */
  onReconnect(listener: () => void): () => void;
  /** Drains nothing: pending publishes fail with `closed`. Resolves when the socket is closed. */
  close(): Promise<void>;
}

const RETRY_PAUSE_MS = 250;

export async function connectCluster(opts: ConnectOptions): Promise<ClusterConnection> {
  const names = clusterNames(opts.cluster);
  const startupTimeoutMs = opts.startupTimeoutMs ?? 30_000;
  const deadline = Date.now() + startupTimeoutMs;
  let nc: NatsConnection | undefined;
  let lastError: unknown;
  // The first connect fails while no server listens yet (a node starting with its NATS): retry it
  // within the same bound as JetStream.
  while (!nc) {
    try {
      nc = await connect({
        servers: opts.servers,
        name: opts.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: opts.reconnectTimeWaitMs ?? 500,
        pingInterval: 10_000,
      });
    } catch (e) {
      lastError = e;
      if (Date.now() >= deadline) throw new ClusterError('no_jetstream', `no NATS server answered at ${opts.servers.join(', ')} within ${startupTimeoutMs} ms: ${describeError(e)}`, { cause: e });
      await sleep(RETRY_PAUSE_MS);
    }
  }
  const reconnectListeners = new Set<() => void>();
  let connected = true;
  watchStatus(nc, (status) => {
    if (status.type === 'disconnect' || status.type === 'close') connected = false;
    if (status.type === 'reconnect') connected = true;
    if (status.type === 'reconnect') for (const listener of [...reconnectListeners]) listener();
    // A throwing log hook must not end the loop that tells appends about reconnects.
    try {
      opts.onStatus?.(status);
    } catch {}
  });
  const onReconnect = (listener: () => void) => {
    reconnectListeners.add(listener);
    return () => reconnectListeners.delete(listener);
  };

  // jetstreamManager() asks for the account info, which a cluster answers only once it has a meta
  // leader (about 2.5 s after three fresh servers start): until then it times out.
  for (;;) {
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      return {
        names,
        nc,
        jsm,
        js: jetstream(nc),
        get connected() {
          return connected && !nc.isClosed();
        },
        onReconnect,
        close: () => nc.close(),
      };
    } catch (e) {
      lastError = e;
      if (Date.now() >= deadline || nc.isClosed()) break;
      await sleep(RETRY_PAUSE_MS);
    }
  }
  await nc.close().catch(() => {});
  throw new ClusterError('no_jetstream', `JetStream did not answer within ${startupTimeoutMs} ms: ${describeError(lastError)}`, { cause: lastError });
}

/** Forwards the connection's state changes until it closes. */
function watchStatus(nc: NatsConnection, onStatus: (status: ConnectionStatus) => void): void {
  void (async () => {
    for await (const s of nc.status()) {
      // The close is reported once below, with the error that caused it.
      if (s.type === 'ping' || s.type === 'close') continue;
      const detail = 'server' in s ? String(s.server) : 'error' in s ? describeError(s.error) : '';
      onStatus({ type: s.type, detail });
    }
  })();
  void nc.closed().then((err) => onStatus({ type: 'close', detail: err ? describeError(err) : '' }));
}
