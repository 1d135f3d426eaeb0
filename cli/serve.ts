// `omni serve` (docs/protocol.md, section 1): the engine and the gateway in one process, until SIGTERM/SIGINT.

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { BOT_MODES, DataDirInUseError, DataDirLock, DEFAULT_PARTITIONS, isIdKind, MAX_ENGINE_THREADS as MAX_WORKERS, MAX_PARTITIONS, openEngineWithWorkers, PartitionCountMismatchError, type CustomerOptions, type DomainOptions, type Durability, type Engine, type ServiceOptions, type StockOptions, type ThreadedEngine } from '../engine/mod.ts';
import { DEFAULT_LIMITS, DEFAULT_WS_LIMITS, resolveSecret, startGateway, type Gateway, type GatewayLimits, type WsLimits } from '../gateway/mod.ts';
import { buildPages } from '../ui/mod.ts';
import { choiceFlag, describeFlags, integerFlag, parseFlags, UsageError, type FlagSpec, type FlagValue, type ParsedFlags } from '../flags/mod.ts';
import { joinCluster } from './cluster-node.ts';
import type { CliIO } from './io.ts';

const DURABILITIES: readonly Durability[] = ['fsync', 'commit', 'none'];

/**
 * Server-wide totals (gateway/budget.ts): past one, new uploads, subscriptions or anonymous
 * connections are refused while those already admitted carry on. The defaults shown are the
 * gateway's own.
 */
const BUDGET_FLAGS: FlagSpec[] = [
  { name: 'max-body-memory', kind: 'value', env: 'OMNI_MAX_BODY_MEMORY', valueName: 'BYTES', help: `memory for request bodies still arriving, over all requests (each charged its Content-Length); past it an upload is refused with 503 (default ${DEFAULT_LIMITS.maxBodyMemoryBytes})` },
  { name: 'max-subscriptions', kind: 'value', env: 'OMNI_MAX_SUBSCRIPTIONS', valueName: 'N', help: `WebSocket subscriptions over all connections (each connection at most ${DEFAULT_WS_LIMITS.maxSubscriptions}); past it a sub is refused (default ${DEFAULT_WS_LIMITS.maxTotalSubscriptions})` },
  { name: 'max-anonymous-subscriptions', kind: 'value', env: 'OMNI_MAX_ANONYMOUS_SUBSCRIPTIONS', valueName: 'N', help: `the same over connections without a token (default ${DEFAULT_WS_LIMITS.maxAnonymousSubscriptions})` },
  { name: 'max-anonymous-connections', kind: 'value', env: 'OMNI_MAX_ANONYMOUS_CONNECTIONS', valueName: 'N', help: `open WebSocket connections without a token; past it one is refused with 503 (default ${DEFAULT_WS_LIMITS.maxAnonymousConnections})` },
];

const FLAGS: FlagSpec[] = [
  { name: 'port', kind: 'value', env: 'OMNI_PORT', valueName: 'N', help: 'HTTP + WebSocket port; 0 picks a free one (default 8080)' },
  { name: 'host', kind: 'value', env: 'OMNI_HOST', valueName: 'H', help: 'bind address (default 127.0.0.1)' },
  { name: 'data', kind: 'value', env: 'OMNI_DATA', valueName: 'DIR', help: 'LMDB directory, owned by one omni serve at a time (default ./data)' },
  { name: 'secret', kind: 'value', env: 'OMNI_SECRET', valueName: 'S', help: 'HS256 token secret (default: generated once, kept in DIR/secret)' },
  { name: 'nats', kind: 'value', env: 'OMNI_NATS', valueName: 'URL[,URL…]', help: 'NATS servers (JetStream) of a cluster of nodes: set, this process is one node of it (see docs/architecture.md, "Past one machine"; default unset: embedded, one process)' },
  { name: 'node', kind: 'value', env: 'OMNI_NODE', valueName: 'NAME', help: "this node's name, unique in the cluster: letters, digits, - and _ (default: the host name)" },
  { name: 'cluster', kind: 'value', env: 'OMNI_CLUSTER', valueName: 'NAME', help: 'prefix of every NATS subject and stream the cluster uses, so several clusters can share one NATS (default omni)' },
  { name: 'public-stock', kind: 'switch', env: 'OMNI_PUBLIC_STOCK', help: 'anonymous clients may read stock/* (default on)' },
  { name: 'partitions', kind: 'value', env: 'OMNI_PARTITIONS', valueName: 'N', help: `partitions the engine orders events in (by SKU, order, customers, service), 1 to ${MAX_PARTITIONS}; fixed when DIR is created (default: DIR's own count, ${DEFAULT_PARTITIONS} for a new DIR)` },
  { name: 'workers', kind: 'value', env: 'OMNI_WORKERS', valueName: 'N', help: `engine threads, 1 to 16: 1 = the engine applies and commits on the thread serving requests (use it on one core); N ≥ 2 = N engine threads share the partitions, each applying and committing its own, while requests, reads and pushes stay on this one (default: the CPUs this process may run on, ${availableParallelism()} here, at most 16)` },
  { name: 'durability', kind: 'value', env: 'OMNI_DURABILITY', valueName: 'MODE', help: 'fsync | commit | none: when an event counts as stored (default fsync)' },
  { name: 'scrub-delay-ms', kind: 'value', env: 'OMNI_SCRUB_DELAY_MS', valueName: 'MS', help: "after a customer's erasure commits, how long before the store files are rewritten without the erased data (the engine pauses meanwhile for the copy); erasures within that time share one rewrite (default 0)" },
  { name: 'low-stock', kind: 'value', env: 'OMNI_LOW_STOCK', valueName: 'N', help: "low-stock alert threshold where a location sets none (default 5)" },
  { name: 'pickup-hold-ms', kind: 'value', env: 'OMNI_PICKUP_HOLD_MS', valueName: 'MS', help: 'how long a ready pickup order waits at its store before it expires and its stock is released, on the clock (default 259200000, 3 days)' },
  { name: 'return-window-ms', kind: 'value', env: 'OMNI_RETURN_WINDOW_MS', valueName: 'MS', help: "how long after an order is shipped or completed (its event time) a return is taken (default 604800000, 7 days)" },
  { name: 'offer-timeout-ms', kind: 'value', env: 'OMNI_OFFER_TIMEOUT_MS', valueName: 'MS', help: 'how long an offer waits for the agent before the next one gets it (default 15000)' },
  { name: 'bot', kind: 'value', env: 'OMNI_BOT', valueName: 'MODE', help: 'off | first | overflow: when the knowledge-base bot answers a customer (first: before any person, queued only when not confident; overflow: beside the queue, when the predicted wait exceeds --target-wait-ms; default overflow)' },
  { name: 'target-wait-ms', kind: 'value', env: 'OMNI_TARGET_WAIT_MS', valueName: 'MS', help: 'in --bot overflow, the predicted wait for a person above which the bot answers too (default 30000)' },
  { name: 'sla-ms', kind: 'value', env: 'OMNI_SLA_MS', valueName: 'MS', help: 'unassigned this long: sla alert, language no longer required (default 30000)' },
  { name: 'session-gap-ms', kind: 'value', env: 'OMNI_SESSION_GAP_MS', valueName: 'MS', help: "event-time gap that ends a shopper's session (default 1800000)" },
  { name: 'identity-limits', kind: 'value', env: 'OMNI_IDENTITY_LIMITS', valueName: 'KIND=N,…', help: 'ids of a kind one customer may hold; * = other kinds (default phone=2,email=3,wechat=2,device=10,*=10)' },
  { name: 'identity-shared-after', kind: 'value', env: 'OMNI_IDENTITY_SHARED_AFTER', valueName: 'KIND=N,…', help: 'customers an id may join before it is shared and stops merging (default 2 for every kind but customer ids)' },
  { name: 'identity-blocked', kind: 'value', env: 'OMNI_IDENTITY_BLOCKED', valueName: 'V,…', help: 'values that never link, besides 0, -1, null, anonymous and empty' },
  { name: 'vip-points', kind: 'value', env: 'OMNI_VIP_POINTS', valueName: 'N', help: 'a customer whose loyalty balance reaches N points is vip for service routing (default off)' },
  { name: 'presence-grace-ms', kind: 'value', env: 'OMNI_PRESENCE_GRACE_MS', valueName: 'MS', help: "after an agent's last desk connection closes, how long until it goes offline (default 10000)" },
  ...BUDGET_FLAGS,
];

/** Service timeouts are clock timers; a week bounds them well inside setTimeout's range. */
const MAX_SERVICE_MS = 7 * 24 * 3600 * 1000;

export const SERVE_HELP = `Usage: omni serve [flags]

Runs the engine (embedded LMDB) and the HTTP/WebSocket gateway in one process.
Prints "omni listening on http://HOST:PORT" once it accepts connections; SIGTERM or
SIGINT commit in-flight batches, answer their requests, close WebSockets with 1001 once
their queued messages are sent (at most 10 s for clients that do not read) and exit 0.
One process owns a data dir: a second omni serve on the same DIR exits 1 naming the pid
that holds it (a holder killed without stopping is noticed and its dir taken over: at once on the
same host, within 10 s when it ran in another container), and a
server whose lock entry (DIR/omni.lock.N) is removed or taken over stops and exits 1.

Flags (each also an environment variable, shown in brackets; the flag wins):
${describeFlags(FLAGS)}`;

export interface ServeConfig {
  port: number;
  host: string;
  dataDir: string;
  secret?: string;
  nats?: string;
  node?: string;
  cluster?: string;
  publicStock: boolean;
  durability: Durability;
  /** Only when given: unset, the data dir keeps the count it was created with. */
  partitions?: number;
  workers: number;
  /** How long after an erasure the store rewrite starts (engine/store-rewrite.ts); unset: at once. */
  scrubDelayMs?: number;
  lowStock: number;
  /** The order settings given (unset ones keep the stock domain's defaults). */
  orders: Pick<StockOptions, 'pickupHoldMs' | 'returnWindowMs'>;
  /** The service timeouts given (unset ones keep the domain's defaults). */
  service: Pick<ServiceOptions, 'offerTimeoutMs' | 'slaMs' | 'graceMs' | 'bot' | 'targetWaitMs'>;
  /** The customer settings given (unset ones keep the domain's defaults). */
  customers: Pick<CustomerOptions, 'sessionGapMs' | 'identity' | 'vipPoints'>;
  /** The server-wide budgets given (unset ones keep the gateway's defaults). */
  limits: Partial<GatewayLimits>;
  wsLimits: Partial<WsLimits>;
}

/** Flags and environment to a config; throws UsageError on a bad value. */
export function readServeConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig | 'help' {
  const flags = parseFlags(argv, FLAGS, env);
  if (flags.help) return 'help';
  const port = flags.string('port');
  const durability = flags.string('durability');
  const lowStock = flags.string('low-stock');
  const partitions = flags.string('partitions');
  const workers = flags.string('workers');
  const scrubDelay = flags.string('scrub-delay-ms');
  return {
    port: port === undefined ? 8080 : integerFlag(port, 0, 65535),
    host: flags.string('host')?.value ?? '127.0.0.1',
    dataDir: resolve(flags.string('data')?.value ?? './data'),
    secret: flags.string('secret')?.value,
    nats: flags.string('nats')?.value || undefined,
    node: flags.string('node')?.value,
    cluster: flags.string('cluster')?.value,
    publicStock: flags.switch('public-stock')?.value ?? true,
    durability: durability === undefined ? 'fsync' : choiceFlag(durability, DURABILITIES),
    partitions: partitions === undefined ? undefined : integerFlag(partitions, 1, MAX_PARTITIONS),
    workers: workers === undefined ? Math.min(availableParallelism(), MAX_WORKERS) : integerFlag(workers, 1, MAX_WORKERS),
    scrubDelayMs: scrubDelay === undefined ? undefined : integerFlag(scrubDelay, 0, MAX_SERVICE_MS),
    lowStock: lowStock === undefined ? 5 : integerFlag(lowStock, 0, 1_000_000_000),
    orders: orderSettings(flags),
    service: serviceTimeouts(flags),
    customers: customerSettings(flags),
    ...budgets(flags),
  };
}

function budgets(flags: ParsedFlags): Pick<ServeConfig, 'limits' | 'wsLimits'> {
  const limits: ServeConfig['limits'] = {};
  const wsLimits: ServeConfig['wsLimits'] = {};
  const bodyMemory = flags.string('max-body-memory');
  const subscriptions = flags.string('max-subscriptions');
  const anonymousSubscriptions = flags.string('max-anonymous-subscriptions');
  const anonymousConnections = flags.string('max-anonymous-connections');
  // 0 is allowed for the WebSocket totals (e.g. no anonymous clients at all), not for bodies:
  // a server that can hold no body could take no event over HTTP.
  if (bodyMemory !== undefined) limits.maxBodyMemoryBytes = integerFlag(bodyMemory, 1, Number.MAX_SAFE_INTEGER);
  if (subscriptions !== undefined) wsLimits.maxTotalSubscriptions = integerFlag(subscriptions, 0, 1_000_000_000);
  if (anonymousSubscriptions !== undefined) wsLimits.maxAnonymousSubscriptions = integerFlag(anonymousSubscriptions, 0, 1_000_000_000);
  if (anonymousConnections !== undefined) wsLimits.maxAnonymousConnections = integerFlag(anonymousConnections, 0, 1_000_000_000);
  return { limits, wsLimits };
}


/** `phone=2,email=3` → {phone: 2, email: 3}; kinds lower-cased as ids' kinds are. */
function kindCounts(flag: FlagValue<string>, min: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of flag.value.split(',')) {
    const [kind, n, ...rest] = part.trim().split('=');
    if (rest.length > 0 || n === undefined || !(kind.trim() === '*' || isIdKind(kind.trim()))) {
      throw new UsageError(`${flag.origin} must be KIND=N pairs separated by commas (got '${flag.value}')`);
    }
    out[kind.trim().toLowerCase()] = integerFlag({ value: n, origin: `${flag.origin} ${kind.trim()}` }, min, 1_000_000);
  }
  return out;
}

function customerSettings(flags: ParsedFlags): ServeConfig['customers'] {
  const customers: ServeConfig['customers'] = {};
  const gap = flags.string('session-gap-ms');
  if (gap !== undefined) customers.sessionGapMs = integerFlag(gap, 1, MAX_SERVICE_MS);
  const vipPoints = flags.string('vip-points');
  if (vipPoints !== undefined) customers.vipPoints = integerFlag(vipPoints, 1, 1_000_000_000_000);
  const identity: NonNullable<CustomerOptions['identity']> = {};
  const limits = flags.string('identity-limits');
  const shared = flags.string('identity-shared-after');
  const blocked = flags.string('identity-blocked');
  if (limits !== undefined) identity.limits = kindCounts(limits, 0);
  if (shared !== undefined) identity.sharedAfter = kindCounts(shared, 1);
  if (blocked !== undefined) identity.blocked = blocked.value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  if (Object.keys(identity).length > 0) customers.identity = identity;
  return customers;
}

/** A pickup hold is a clock timer (30 days at most, as a reservation's); a return window compares event times. */
const MAX_PICKUP_HOLD_MS = 30 * 24 * 3600 * 1000;
const MAX_RETURN_WINDOW_MS = 10 * 366 * 24 * 3600 * 1000;

function orderSettings(flags: ParsedFlags): ServeConfig['orders'] {
  const orders: ServeConfig['orders'] = {};
  const hold = flags.string('pickup-hold-ms');
  const window = flags.string('return-window-ms');
  if (hold !== undefined) orders.pickupHoldMs = integerFlag(hold, 1, MAX_PICKUP_HOLD_MS);
  if (window !== undefined) orders.returnWindowMs = integerFlag(window, 0, MAX_RETURN_WINDOW_MS);
  return orders;
}

function serviceTimeouts(flags: ParsedFlags): ServeConfig['service'] {
  const service: ServeConfig['service'] = {};
  const offer = flags.string('offer-timeout-ms');
  const sla = flags.string('sla-ms');
  const grace = flags.string('presence-grace-ms');
  if (offer !== undefined) service.offerTimeoutMs = integerFlag(offer, 1, MAX_SERVICE_MS);
  if (sla !== undefined) service.slaMs = integerFlag(sla, 1, MAX_SERVICE_MS);
  if (grace !== undefined) service.graceMs = integerFlag(grace, 0, MAX_SERVICE_MS);
  const bot = flags.string('bot');
  const targetWait = flags.string('target-wait-ms');
  if (bot !== undefined) service.bot = choiceFlag(bot, BOT_MODES);
  if (targetWait !== undefined) service.targetWaitMs = integerFlag(targetWait, 0, MAX_SERVICE_MS);
  return service;
}

export async function serve(argv: readonly string[], io: CliIO): Promise<number> {
  const config = readServeConfig(argv, io.env);
  if (config === 'help') {
    io.out(SERVE_HELP);
    return 0;
  }

  // Before anything in the dir is read (the secret file, LMDB): two processes on one dir would
  // both acknowledge events and disagree.
  let dataDir: DataDirLock;
  try {
    dataDir = DataDirLock.acquire(config.dataDir);
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    io.err(`omni: ${error.message}; stop it or use another --data`);
    return 1;
  }
  let secret: ReturnType<typeof resolveSecret>;
  let engine: Engine | ThreadedEngine;
  let domains: DomainOptions;
  try {
    secret = resolveSecret(config.dataDir, config.secret);
    if (secret.source === 'generated') io.err(`omni: generated a token secret in ${secret.path}`);
    // The engine releases the dir on close (and if it fails to open).
    domains = { stock: { lowStockThreshold: config.lowStock, ...config.orders }, service: config.service, customers: config.customers };
    engine = await openEngineWithWorkers(config.workers, { path: config.dataDir, domains, durability: config.durability, partitions: config.partitions, dataDirLock: dataDir, scrubDelayMs: config.scrubDelayMs });
  } catch (error) {
    dataDir.release();
    if (!(error instanceof PartitionCountMismatchError)) throw error;
    io.err(`omni: ${error.message}; start without --partitions (it keeps ${error.stored}), or use a new --data dir for ${error.requested}`);
    return 1;
  }
  // Read as bin/build.mjs bundled them when running from dist/, else bundled from the sources in
  // memory, so the pages always match this server. A page that fails to build must not keep the
  // engine from serving: the rest runs without /ui/.
  const pages = await buildPages().catch((error: Error) => {
    io.err(`omni: the pages under /ui/ could not be built and are not served: ${error.message}`);
    return undefined;
  });
  const joined = config.nats === undefined ? undefined : await joinCluster({ nats: config.nats, node: config.node, cluster: config.cluster }, engine, domains, io);
  if (config.nats !== undefined && joined === undefined) {
    await engine.close();
    return 1;
  }
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      pages,
      engine: joined?.engine ?? engine,
      secret: secret.secret,
      host: config.host,
      port: config.port,
      publicStock: config.publicStock,
      limits: config.limits,
      wsLimits: config.wsLimits,
    });
  } catch (error) {
    await joined?.leave();
    await engine.close();
    throw error;
  }

  const stop = waitForStop();
  // A failed commit leaves the engine refusing events: exit non-zero so a supervisor restarts
  // us and recovery runs from what is on disk.
  const stopFatal = engine.onFatal((error) => stop.trigger(`engine failure: ${error.message}`, 1));
  io.out(`omni listening on ${gateway.url}`);

  const { reason, exitCode } = await stop.promise;
  io.err(`omni: ${reason}; draining`);
  stopFatal();
  await gateway.close();
  // Its partitions are written free for the other nodes before its engine stops.
  await joined?.leave();
  await engine.close();
  stop.dispose();
  io.err('omni: stopped');
  return exitCode;
}

interface StopRequest {
  reason: string;
  exitCode: number;
}

/** Resolves on the first SIGTERM/SIGINT; a second one while draining exits at once. */
function waitForStop(): { promise: Promise<StopRequest>; trigger(reason: string, exitCode: number): void; dispose(): void } {
  let settle!: (request: StopRequest) => void;
  let stopping = false;
  const promise = new Promise<StopRequest>((resolve) => (settle = resolve));
  const trigger = (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    settle({ reason, exitCode });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) return trigger(`${signal} received`, 0);
    process.stderr.write(`omni: ${signal} again; exiting without draining\n`);
    process.exit(130);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const dispose = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  return { promise, trigger, dispose };
}
