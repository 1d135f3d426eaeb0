// `omni loadgen` flags, the loopback-only rule and the ingest token.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, choiceFlag, describeFlags, parseFlags, type FlagSpec, type FlagValue } from '../flags/mod.ts';
import { SECRET_FILE, signToken, type Role } from '../gateway/mod.ts';
import { DEFAULT_DESKS } from './scenario.ts';
import { MAX_DESKS, type Format } from './types.ts';

export const DEFAULT_THINK_MS = 200;
export const DEFAULT_HANDLE_MS = 1500;
export const DEFAULT_CHAT_MESSAGES = 2;
export const DEFAULT_CHAT_CUSTOMERS = 200;
export const DEFAULT_KB_SHARE = 0.6;

export interface LoadgenOptions {
  url: string;
  durationS: number;
  rate: number;
  subscribers: number;
  skus: number;
  /** 'stock' or a path to a scenario JSON file. */
  scenario: string;
  /** Ingest token (role ingest or admin). */
  token: string;
  /** Token for the subscribers; undefined = anonymous (needs public stock). */
  subscriberToken?: string;
  /** Mints a subscriber's own token (e.g. a kiosk's); undefined when no secret is known (only --token given). */
  mintToken?: (claims: { role: Role; sub: string; loc?: string }) => string;
  report?: string;
  html?: string;
  batch: number;
  format: Format;
  connections: number;
  /** Worker threads for the subscribers; undefined = 2 when there are more than 500. */
  subscriberWorkers?: number;
  /** At most this many topics per subscriber (the first ones its scenario drew); undefined = all. */
  topicsPerSubscriber?: number;
  /** Agent desks of the service scenario (default 20, at most 500: they run in the main thread). */
  desks?: number;
  /** A desk's mean think time from offer to accept (default 200 ms), and handle time from assignment to completion (default 1500 ms); each drawn at 0.5–1.5×. */
  thinkMs?: number;
  handleMs?: number;
  /** Chat messages a desk sends per assigned request, each answered by the customer (default 2; 0 = no chat). */
  chatMessages?: number;
  /** Most customer connections open at once for the chats (default 200); a request assigned while all are taken does not chat. */
  chatCustomers?: number;
  /** Service scenario: first contact — a knowledge base, customers' first words, the bot's answers, ratings and cases (loadgen/README.md). */
  firstContact?: boolean;
  /** With first contact: the share of customers whose first words the knowledge base answers (default 0.6). */
  kbShare?: number;
  /** Milliseconds between ticks of the schedule. */
  tickMs: number;
  /** Print the progress line every second (off in tests). */
  progress: boolean;
  /** Take back what the run made after it (cleanup.ts); undefined = on. */
  cleanup?: boolean;
  /** Run even against a server that holds service topics no loadgen run made (server-check.ts). */
  force?: boolean;
  /** The flags given on the command line (not from the environment), to say which ones a scenario ignores. */
  given?: readonly string[];
}

export const FLAGS: FlagSpec[] = [
  { name: 'url', kind: 'value', valueName: 'URL', help: 'server to load, http://HOST:PORT on loopback (required)' },
  { name: 'duration', kind: 'value', valueName: 'S', help: 'seconds of load (default 10)' },
  { name: 'rate', kind: 'value', valueName: 'EVENTS_PER_S', help: 'events per second, sent on a fixed schedule (default 1000)' },
  { name: 'subscribers', kind: 'value', valueName: 'N', help: 'WebSocket clients watching the stock of popular SKUs, and in omnichannel kiosk screens and members\' recommendations (default 10)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs in the workload (default 1000)' },
  { name: 'scenario', kind: 'value', valueName: 'NAME|FILE', help: 'stock (default), omnichannel, service, or a scenario JSON file (see Scenarios below)' },
  { name: 'token', kind: 'value', env: 'OMNI_TOKEN', valueName: 'T', help: 'ingest token (default: minted from --secret / --data)' },
  { name: 'secret', kind: 'value', env: 'OMNI_SECRET', valueName: 'S', help: "the server's HS256 secret, to mint tokens when --token is absent" },
  { name: 'data', kind: 'value', env: 'OMNI_DATA', valueName: 'DIR', help: "the server's data dir whose secret to use (default ./data)" },
  { name: 'report', kind: 'value', valueName: 'FILE.json', help: 'write the JSON report here' },
  { name: 'html', kind: 'value', valueName: 'FILE.html', help: 'write a self-contained HTML report here' },
  { name: 'batch', kind: 'value', valueName: 'N', help: 'most events per POST (default 500)' },
  { name: 'format', kind: 'value', valueName: 'json|msgpack', help: 'body and WebSocket format (default json)' },
  { name: 'connections', kind: 'value', valueName: 'C', help: 'HTTP connections = most requests in flight (default 64)' },
  { name: 'topics-per-subscriber', kind: 'value', valueName: 'N', help: 'at most N topics per subscriber, the first its scenario drew (default: all, 1–5 per shopper)' },
  { name: 'desks', kind: 'value', valueName: 'N', help: 'agent desks of the service scenario, 1–500, in the main thread (default 20)' },
  { name: 'think-ms', kind: 'value', valueName: 'MS', help: "a desk's mean time from an offer to its accept (default 200; each drawn at 0.5–1.5×)" },
  { name: 'handle-ms', kind: 'value', valueName: 'MS', help: "a desk's mean time from an assignment to its completion (default 1500; 0.5–1.5×)" },
  { name: 'chat-messages', kind: 'value', valueName: 'N', help: 'chat messages a desk sends per assigned request, each answered by the customer (default 2; 0 = no chat)' },
  { name: 'chat-customers', kind: 'value', valueName: 'N', help: 'most customer WebSocket connections open at once for the chats, 1–10000 (default 200)' },
  { name: 'first-contact', kind: 'switch', help: 'service scenario: load a knowledge base, customers write first words on chat, social or email, follow their request, answer the bot (resolve or ask for a person), rate, and get cases; reports first response, containment, CSAT and predicted-wait accuracy (default off)' },
  { name: 'kb-share', kind: 'value', valueName: 'S', help: 'with --first-contact: share of customers whose first words the knowledge base answers, 0–1 (default 0.6)' },
  { name: 'subscriber-workers', kind: 'value', valueName: 'N', help: 'worker threads for the subscribers, 0 = the main thread (default: 2 above 500 subscribers, else 0)' },
  { name: 'cleanup', kind: 'switch', help: 'after the run, take back what it made: complete its requests, agents offline, cancel its orders, release its holds, its stock rows to 0 (default on; see Data below)' },
  { name: 'force', kind: 'switch', help: 'run even when the server holds service topics no loadgen run made' },
];

export const HELP = `Usage: omni loadgen --url http://HOST:PORT [flags]

Runs a bounded, open-loop load against a running omni serve on this machine and exits by itself:
POST /v1/events on a fixed schedule (never waiting for answers), WebSocket subscribers on the
stock topics, latencies measured from each event's scheduled time.

Flags:
${describeFlags(FLAGS)}

Data: every name the run writes (SKUs, locations, holds, orders, agents, requests, topics,
customers, kiosks, event ids) starts with the run's own prefix lg-<time>-<random>-, printed at the
start and kept in the report, so it never touches the server's own data or another run's. With
--cleanup (the default) the run then takes back what the protocol allows: service.completed for
its requests, agent.offline for its agents, case.updated resolved for its cases, faq.removed for
its knowledge-base entries, order.cancelled, stock.release for its holds,
stock.safety and stock.adjusted to 0 for every stock row it touched (one low_stock alert each on
alerts/stock). Nothing removes its locations, customers (profiles, identity links, sessions, what
the recommender learned), zeroed rows, completed requests and their service topics: they stay,
under the prefix. Before writing, it reads GET /v1/queues and GET /metrics: a server with service
topics no loadgen run made is refused (exit 2) unless --force; stock and customers cannot be
listed, so for those it only reports how many state entries the server holds.

Checks: a service run whose desks cannot keep up (--rate × (--think-ms + --handle-ms) above the
chats the --desks hold) exits 2 with the figures (with --first-contact they are only a warning:
the bot answers the rest); a flag the scenario never reads is reported as ignored.

Scenarios:
  stock        the benchmarks' stock workload: sales, receipts, holds, transfers at 10 locations
  omnichannel  a retailer: orders placed on the web, in the app, at store counters and kiosks,
               with prices, shipped or picked up, then ready, picked up, shipped, delivered,
               cancelled, left uncollected (the server's --pickup-hold-ms expires them) or
               returned, often at another store (loadgen/README.md has the shares); cart holds (reserve, later commit or release), store counters (sales,
               returns), warehouses (receipts, transfers to stores), and customers browsing on
               the web, in the app and in stores (activity.viewed|carted|purchased; signing in
               part-way: identity.linked; identified at kiosks: kiosk.identified; members get a
               profile in the set-up); storefront shoppers watch stock/<sku>, members in the
               app also their recs/<customer>, kiosks (at most half of --subscribers) their
               kiosk/<kiosk> screen and stock/<sku>@<their store>, store associates their
               store/<store> notices; customers follow their orders on order/<id> (at most
               orderFollowers at once, on top of --subscribers; needs a secret for their
               tokens). Reports order ack, push (order/<id> update → its customer) and seen
               (placed → the customer's first snapshot) latencies
  service      a contact centre: --desks agents come online (2–3 chats each, skilled in a few
               topics), every event is a customer's chat request (service.requested); each desk
               is a WebSocket on agent/<id> that accepts an offer after --think-ms and completes
               it after --handle-ms. Customers chat: per assigned request the desk sends
               --chat-messages messages and a customer connection (one per chatting request
               while assigned, at most --chat-customers) answers each; the completion waits for
               the chat. Reports request→offer, accept→assigned and chat relay latencies. No
               stock subscribers (--subscribers, --topics-per-subscriber,
               --subscriber-workers and --skus are ignored); needs a secret for the agent tokens.
               With --first-contact the set-up loads a knowledge base (64 entries) and each
               request carries its customer's first words (--kb-share of them answerable) on
               chat, social or email; the customer follows it on request/<id> (its connection
               counts in --chat-customers), resolves or escalates after a bot answer, rates a
               share of the completed ones (60% 5, 20% 4, 10% 3, 10% 1), and a share get a case.
               Reports first response p50/p90/p99, answered in 30 s by a person / the bot /
               neither, containment, CSAT beside the server's GET /v1/service/stats, and the
               predicted wait against the real one. Desks too few for --rate are allowed (a
               warning): the bot is what answers the rest
  FILE         {"scenario":"omnichannel", "mix":{"checkout":2,"cart":3,"counter":4,"warehouse":1,
               "customer":10}, "skus":N, "stores":20, "warehouses":2, "kiosksPerStore":1,
               "maxOrderLines":3, "pickupShare":0.3, "shoppers":50000, "signInShare":0.4,
               "kioskShare":0.4, "recsShare":0.2, "associatesPerStore":1, "orderFollowers":200,
               "seed":42}, every key optional (skus: --skus);
               or the stock-type mix {"mix":{"stock.sold":3,"stock.received":2,…}, "skus":N,
               "locations":L}`;

/** Parses argv; 'help' when asked for help. Throws UsageError (exit 2) on a mistake. */
export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): LoadgenOptions | 'help' {
  const f = parseFlags(argv, FLAGS, env);
  if (f.help) return 'help';
  const urlFlag = f.string('url');
  if (urlFlag === undefined) throw new UsageError('--url is required (e.g. --url http://127.0.0.1:8080)');
  const url = loopbackUrl(urlFlag.value);
  const num = (name: string, fallback: number, min: number, max: number, integer = true) => {
    const flag = f.string(name);
    return flag === undefined ? fallback : numberFlag(flag, min, max, integer);
  };
  const format = f.string('format');
  const options: LoadgenOptions = {
    url,
    durationS: num('duration', 10, 0.1, 3600, false),
    rate: num('rate', 1000, 1, 10_000_000, false),
    subscribers: num('subscribers', 10, 0, 100_000),
    skus: num('skus', 1000, 1, 10_000_000),
    scenario: f.string('scenario')?.value ?? 'stock',
    token: '',
    report: f.string('report')?.value,
    html: f.string('html')?.value,
    batch: num('batch', 500, 1, 10_000),
    format: format === undefined ? 'json' : choiceFlag(format, ['json', 'msgpack'] as const),
    connections: num('connections', 64, 1, 4096),
    topicsPerSubscriber: f.string('topics-per-subscriber') === undefined ? undefined : num('topics-per-subscriber', 0, 1, 1000),
    subscriberWorkers: f.string('subscriber-workers') === undefined ? undefined : num('subscriber-workers', 0, 0, 64),
    desks: num('desks', DEFAULT_DESKS, 1, MAX_DESKS),
    thinkMs: num('think-ms', DEFAULT_THINK_MS, 0, 600_000, false),
    handleMs: num('handle-ms', DEFAULT_HANDLE_MS, 0, 600_000, false),
    chatMessages: num('chat-messages', DEFAULT_CHAT_MESSAGES, 0, 100),
    chatCustomers: num('chat-customers', DEFAULT_CHAT_CUSTOMERS, 1, 10_000),
    firstContact: f.switch('first-contact')?.value ?? false,
    kbShare: num('kb-share', DEFAULT_KB_SHARE, 0, 1, false),
    tickMs: 5,
    progress: true,
    cleanup: f.switch('cleanup')?.value ?? true,
    force: f.switch('force')?.value ?? false,
    given: FLAGS.filter(({ name, kind }) => (kind === 'switch' ? f.switch(name) : f.string(name))?.origin.startsWith('--')).map(({ name }) => name),
  };
  const given = f.string('token')?.value;
  const secretFlag = f.string('secret')?.value;
  const dataFlag = f.string('data')?.value;
  // A secret is looked for only when a token must be minted, so a plain --token run needs nothing else.
  let secret: string | undefined = secretFlag;
  if (given === undefined && secret === undefined) secret = secretInDataDir(resolve(dataFlag ?? './data'));
  const exp = Math.floor(Date.now() / 1000) + 24 * 3600;
  options.token = given ?? signToken({ sub: 'loadgen', role: 'ingest', exp }, secret!);
  if (secret !== undefined) {
    const key = secret;
    options.subscriberToken = signToken({ sub: 'loadgen-subscriber', role: 'customer', exp }, key);
    options.mintToken = (claims) => signToken({ ...claims, exp }, key);
  }
  return options;
}

/** The secret a server keeps in its data dir; unlike `omni token`, never creates one. */
function secretInDataDir(dir: string): string {
  let text = '';
  try {
    text = readFileSync(join(dir, SECRET_FILE), 'utf8').trim();
  } catch {
    // Reported below.
  }
  if (text === '') throw new UsageError(`no --token or --secret given, and ${join(dir, SECRET_FILE)} holds no secret (pass --data with the server's data dir)`);
  return text;
}

/** The URL if it names this machine (127.0.0.0/8, localhost, ::1); otherwise a UsageError. */
export function loopbackUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url '${raw}' is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`--url must be http://HOST:PORT (got '${raw}')`);
  if (!isLoopback(url.hostname)) {
    throw new UsageError(`--url ${url.hostname} is not a loopback address: loadgen only loads this machine (127.0.0.0/8, localhost, ::1)`);
  }
  return url.origin;
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

function numberFlag(flag: FlagValue<string>, min: number, max: number, integer: boolean): number {
  const text = flag.value.trim().replace(/_/g, '');
  const v = Number(text);
  const ok = text !== '' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
  if (!ok) throw new UsageError(`${flag.origin} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got '${flag.value}')`);
  return v;
}
