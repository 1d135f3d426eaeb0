// One loadgen run: checks (can it be done, which flags it ignores, does the server hold other
// data), set-up (locations and starting stock, not measured), subscribers, then the open-loop
// ingest for --duration seconds with a progress line every second, a bounded drain, the cleanup
// of what the run made, and the report.

import { loadavg } from 'node:os';
import { RunLedger, cleanUp, describeCleanup, type CleanupReport } from './cleanup.ts';
import { DeskGroup } from './desk-group.ts';
import { httpPoster, type Poster } from './http-poster.ts';
import { IngestDriver, type EventAnswer } from './ingest.ts';
import type { InputEvent } from '../engine/mod.ts';
import { LatencyRecorder, epochMs } from './latency.ts';
import { DEFAULT_CHAT_CUSTOMERS, DEFAULT_CHAT_MESSAGES, DEFAULT_HANDLE_MS, DEFAULT_KB_SHARE, DEFAULT_THINK_MS, type LoadgenOptions } from './options.ts';
import { CURVE_PERCENTILES, buildReport, type LoadgenReport, type TimelinePoint } from './report.ts';
import { openScenario, type DeskPlan, type EventSource, type SubscriberPlan } from './scenario.ts';
import { checkFeasible, ignoredFlags } from './preflight.ts';
import { OrderFollowers } from './order-followers.ts';
import { OrderEvents } from './order-report.ts';
import { ServiceCustomers, requestMessages } from './service-customers.ts';
import { serverFigures } from './service-report.ts';
import { OpenLoopSchedule } from './schedule.ts';
import { checkServer, probeServer, runPrefix } from './server-check.ts';
import { SubscriberPool, defaultWorkers, type PoolFinal } from './subscriber-pool.ts';

/** How long the run waits for the last answers after the schedule ends. */
const DRAIN_MS = 35_000;
/** Pushes still arriving after the last answer: wait until quiet this long (at most PUSH_GRACE_MS). */
const PUSH_QUIET_MS = 300;
const PUSH_GRACE_MS = 3000;
/** Offers, accepts and completions still under way after the last answer: wait this long at most. */
const DESK_GRACE_MS = 15_000;

export interface RunOutput {
  report: LoadgenReport;
  /** Updates received by each subscriber. */
  perClient: number[];
  ack: LatencyRecorder;
  push: LatencyRecorder;
}

export type Log = (line: string) => void;

export async function runLoadgen(o: LoadgenOptions, log: Log = (line) => process.stderr.write(`${line}\n`)): Promise<RunOutput> {
  const idPrefix = runPrefix();
  const firstContact = o.firstContact === true ? { kbShare: o.kbShare ?? DEFAULT_KB_SHARE } : undefined;
  const source = openScenario({ scenario: o.scenario, skus: o.skus, idPrefix, releaseLag: Math.ceil(o.rate) + o.batch * o.connections, desks: o.desks, firstContact });
  // Checked before the set-up brings agents online that no desk could then serve.
  if (source.desks && o.mintToken === undefined) throw new Error('the service scenario needs a secret (--secret or --data) to mint its agent tokens; --token alone is not enough');
  const shortfall = checkFeasible(source, o);
  const warnings: string[] = [];
  const warn = (message: string) => {
    if (!warnings.includes(message) && warnings.length < 50) warnings.push(message);
    log(`warning: ${message}`);
  };
  if (shortfall !== undefined) warn(shortfall);
  for (const message of ignoredFlags(source, o)) warn(message);
  const holdings = checkServer(await probeServer(o.url, o.token), o.force ?? false);
  if (holdings !== undefined) log(holdings);
  log(`names of this run start with ${idPrefix}-${o.cleanup === false ? ' (--no-cleanup: they stay)' : ''}`);
  const poster = httpPoster(o.url, o.token, o.format, o.connections);
  // Every body on the wire goes through the ledger, so the cleanup knows exactly what was sent.
  const ledger = new RunLedger();
  const post: typeof poster.post = (events) => {
    ledger.note(events);
    return poster.post(events);
  };
  let cleanup: CleanupReport | undefined;
  let cleaned = o.cleanup === false;
  const takeBack = async () => {
    cleaned = true;
    log('cleanup: taking back what the run made…');
    cleanup = await cleanUp(ledger, idPrefix, poster.post);
    log(`cleanup: ${describeCleanup(cleanup)}`);
    if (Object.keys(cleanup.unexpected).length > 0) warn(`cleanup refused ${JSON.stringify(cleanup.unexpected)}: some of the run's data may remain`);
  };
  let pool: SubscriberPool | undefined;
  let desks: DeskGroup | undefined;
  let followers: OrderFollowers | undefined;
  let customers: ServiceCustomers | undefined;
  let stopProgress: NodeJS.Timeout | undefined;
  try {
    await setUp(source, post, log);
    const plans = source.subscribers(o.subscribers);
    const topics = subscriberTopics(plans, o);
    const tokens = subscriberTokens(plans, o, warn);
    const workers = o.subscriberWorkers ?? defaultWorkers(o.subscribers);
    if (o.subscribers > 0) log(`subscribing ${o.subscribers} clients to ${topics.flat().length} topics${workers > 0 ? ` across ${workers} worker threads` : ''}…`);
    const subscribing = epochMs();
    pool = await SubscriberPool.start({ url: o.url, token: o.subscriberToken, tokens, format: o.format, topics }, workers);
    const subscribed = await pool.sample();
    if (o.subscribers > 0) log(`${subscribed.connected} of ${o.subscribers} clients connected, ${subscribed.snapshots} snapshots, in ${((epochMs() - subscribing) / 1000).toFixed(1)} s`);
    if (subscribed.snapshots < topics.flat().length) warn(`only ${subscribed.snapshots} of ${topics.flat().length} subscriptions got their snapshot before the run`);

    let schedule: OpenLoopSchedule | undefined;
    if (source.desks) desks = await startDesks(source.desks, o, o.mintToken!, (n) => schedule?.timeOf(n), log, (request, now) => customers?.assigned(request, now));
    const lines = desks?.customerLines;
    const mint = o.mintToken!;
    if (source.firstContact && lines) {
      const messages = requestMessages(o.url, (subject) => mint({ role: 'customer', sub: subject }));
      customers = new ServiceCustomers({ lines, firstContact: source.firstContact, post, idPrefix, messages });
    }
    followers = startFollowers(source, o, warn);
    const orders = new OrderEvents();
    schedule = new OpenLoopSchedule(epochMs() + 20, o.rate, o.durationS);
    const driver = new IngestDriver({ schedule, next: () => source.next(), post, batch: o.batch, maxInFlight: o.connections, clock: epochMs, warn: (m) => log(`warning: ${m}`), answered: (ev, result, now) => {
        answeredOrder(ev, result, now, orders, followers, source);
        customers?.answered(ev, result, now);
      } });
    const tickLag = new LatencyRecorder();
    const timeline: TimelinePoint[] = [];
    const cpu0 = process.cpuUsage();
    const load0 = loadavg()[0];
    log(`loadgen: ${o.rate.toLocaleString('en-US')} events/s for ${o.durationS} s (${schedule.total.toLocaleString('en-US')} events, scenario ${source.name}) → ${o.url}, ${o.subscribers} subscribers`);

    const ticking = runTicks(schedule, driver, o.tickMs, tickLag);

    // Progress: once a second, from the schedule's start.
    let prev = { sent: 0, acked: 0, received: 0 };
    const progress = async () => {
      const s = driver.snapshot();
      const p = await pool!.sample();
      const point: TimelinePoint = {
        t: Math.round((epochMs() - schedule.startMs) / 100) / 10,
        sent: s.sent - prev.sent,
        acked: s.acked - prev.acked,
        received: p.received - prev.received,
        ackP50: driver.interval.summary().p50,
        ackP99: driver.interval.summary().p99,
        pushP99: p.interval.summary().p99,
        errors: s.errors,
        inFlight: s.inFlight,
        connected: p.connected,
      };
      driver.interval.reset();
      prev = { sent: s.sent, acked: s.acked, received: p.received };
      timeline.push(point);
      if (o.progress) log(progressLine(point, p.clients));
    };
    let sampling = Promise.resolve();
    stopProgress = setInterval(() => (sampling = sampling.then(progress)), 1000);

    await ticking;
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([driver.settled().then(() => true), new Promise<boolean>((resolve) => (drainTimer = setTimeout(() => resolve(false), DRAIN_MS)))]);
    clearTimeout(drainTimer);
    if (!drained) warn(`${driver.snapshot().inFlight} requests still unanswered ${DRAIN_MS / 1000} s after the last send`);
    driver.abandonWaiting();
    const ingestEndMs = epochMs();
    const live = pool;
    const following = followers;
    // The customers' order pushes still arriving count as pushes too.
    const sample = async () => {
      const s = await live.sample();
      return { ...s, received: s.received + (following?.heard ?? 0) };
    };
    await quietPushes({ sample });
    const contact = customers;
    const bothSettled = () => [contact!.unsettled(), desks!.unsettled()].filter((left) => left !== undefined).join('; ') || undefined;
    if (desks) await desksSettled(contact ? bothSettled : () => desks!.unsettled(driver.snapshot().acked), warn);
    clearInterval(stopProgress);
    await sampling;
    const endMs = epochMs();
    const cpu = process.cpuUsage(cpu0);
    const subs: PoolFinal = await pool.stop();
    pool = undefined;
    const contactTally = customers?.stop();
    customers = undefined;
    const deskFinal = desks?.stop();
    desks = undefined;
    if (contactTally && contactTally.notFollowed > 0) {
      warn(`${contactTally.notFollowed} requests were not followed (all ${o.chatCustomers ?? DEFAULT_CHAT_CUSTOMERS} customer connections taken): first response, the 30 s shares, ratings and cases are over the ${contactTally.followed} followed, which favour the requests answered early when others wait long; raise --chat-customers`);
    }
    if (contactTally && contactTally.errors > 0) warn(`${contactTally.errors} first-contact customer errors, e.g. ${contactTally.errorSamples.join('; ')}`);
    const firstContactSection = contactTally?.section(await serverFigures(o.url, o.mintToken!({ role: 'supervisor', sub: 'loadgen-supervisor' }), source.firstContact!.topics), CURVE_PERCENTILES);
    const followFinal = followers?.stop();
    followers = undefined;
    if (followFinal && followFinal.errors > 0) warn(`${followFinal.errors} order follower errors, e.g. ${followFinal.errorSamples.join('; ')}`);
    if (deskFinal && deskFinal.errors > 0) warn(`${deskFinal.errors} desk errors, e.g. ${deskFinal.errorSamples.join('; ')}`);
    if (subs.errors > 0) warn(`${subs.errors} subscriber errors, e.g. ${subs.errorSamples?.join('; ')}`);
    if ((subs.seqErrors ?? 0) > 0) warn(`${subs.seqErrors} updates arrived out of seq order (repeated, backwards, or a gap on an event topic)`);
    const loadgenCpu = (cpu.user + cpu.system) / 1000 / (endMs - schedule.startMs);
    if (loadgenCpu > 0.85) warn(`the load generator used ${(loadgenCpu * 100).toFixed(0)}% of a core: it may be the bottleneck`);
    const counts = driver.snapshot();
    if (counts.overloadedTicks > 0) {
      warn(`loadgen overloaded: ${counts.overloadedTicks} ticks found all ${o.connections} connections busy (at most ${counts.maxWaiting} due events waiting); their latency includes the wait: raise --connections or lower --rate`);
    }
    if (counts.unsent > 0) warn(`${counts.unsent} due events were never sent (in-flight cap)`);
    if (!cleaned) await takeBack();
    const report = buildReport({ options: o, counts, ack: driver.ack, push: subs.push, subs, wallMs: ingestEndMs - schedule.startMs, loadgenCpu, tickLag, timeline, warnings, loadAverage: [load0, loadavg()[0]], scenario: source.name, idPrefix, subscribers: plans.length, desks: deskFinal, cleanup, ...(firstContactSection ? { firstContact: firstContactSection } : {}), ...(orders.any ? { orders, followers: followFinal } : {}) });
    return { report, perClient: subs.perClient, ack: driver.ack, push: subs.push };
  } finally {
    clearInterval(stopProgress);
    if (pool) await pool.stop().catch(() => undefined);
    customers?.stop();
    desks?.stop();
    followers?.stop();
    // A run that failed part-way still takes back what it made, as far as the server answers.
    if (!cleaned) await takeBack().catch((error: unknown) => log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
    poster.close();
  }
}

/**
 * Ticks the driver every `tickMs` until the schedule is exhausted. The ticks follow an absolute
 * schedule, so a late tick sends more, never fewer; each tick's lateness goes into `tickLag`.
 */
export function runTicks(schedule: OpenLoopSchedule, driver: IngestDriver, tickMs: number, tickLag: LatencyRecorder): Promise<void> {
  let expected = schedule.startMs;
  return new Promise<void>((resolve, reject) => {
    const tick = () => {
      const now = epochMs();
      if (now >= expected) tickLag.recordWithInterval(now - expected, tickMs);
      try {
        driver.tick();
      } catch (error) {
        return reject(error);
      }
      if (schedule.done) return resolve();
      expected = Math.max(now, expected) + tickMs;
      setTimeout(tick, Math.max(0, expected - epochMs()));
    };
    setTimeout(tick, Math.max(0, schedule.startMs - epochMs()));
  });
}

/**
 * The customers following their orders (scenario.orderFollowers at once), each with its own
 * customer token: none without a secret to mint them (said in a warning).
 */
function startFollowers(source: EventSource, o: LoadgenOptions, warn: (message: string) => void): OrderFollowers | undefined {
  const max = source.orderFollowers ?? 0;
  if (max === 0 || source.orderEnd === undefined) return undefined;
  const mint = o.mintToken;
  if (mint === undefined) {
    warn('no secret to mint customer tokens (only --token given): nobody follows the orders on order/<id>');
    return undefined;
  }
  const endOf = source.orderEnd.bind(source);
  return new OrderFollowers({ url: o.url, format: o.format, max, mintCustomer: (customer) => mint({ role: 'customer', sub: customer }), endOf });
}

/** An order event's answer: counted, and an accepted placing starts its customer following it. */
function answeredOrder(ev: InputEvent, result: EventAnswer | undefined, now: number, orders: OrderEvents, followers: OrderFollowers | undefined, source: EventSource): void {
  if (!OrderEvents.isOrderEvent(ev)) return;
  orders.answered(ev, result, now);
  if (ev.type !== 'order.placed') return;
  const order = ev.order as string;
  if (result?.ok === true && followers !== undefined && typeof ev.customer === 'string') followers.placed(order, ev.customer, ev.ts!);
  // Nobody follows a refused order: forget its plan.
  else source.orderEnd?.(order);
}

/** Sends the scenario's set-up bodies one by one; any rejected event stops the run. */
export async function setUp(source: EventSource, post: Poster, log: Log): Promise<void> {
  const bodies = source.setup();
  log(`set-up: ${bodies.reduce((s, b) => s + b.length, 0).toLocaleString('en-US')} events (locations, starting stock)…`);
  for (const events of bodies) {
    const answer = await post(events);
    const bad = answer.results?.find((r) => !r.ok);
    if (answer.status !== 200 || bad !== undefined) {
      throw new Error(`set-up failed: ${answer.failure ?? `event rejected: ${JSON.stringify(bad)}`}${answer.status === 401 ? ' (is the token signed with the server\'s secret?)' : ''}`);
    }
  }
}

/**
 * Each subscriber's token: shoppers share the run's subscriber token (undefined: anonymous); a
 * kiosk gets its own (role kiosk, sub = kiosk id, loc = its store), a signed-in member its own
 * (role customer, sub = its customer id) and a store associate its own (role associate, sub =
 * staff id, loc = its store) when a secret is known, else they connect as
 * shoppers (see subscriberTopics).
 */
export function subscriberTokens(plans: readonly SubscriberPlan[], o: Pick<LoadgenOptions, 'subscriberToken' | 'mintToken'>, warn: (message: string) => void): Array<string | undefined> {
  const mint = o.mintToken;
  if (mint === undefined) {
    if (plans.some((p) => p.as.role !== 'shopper')) warn('no secret to mint kiosk tokens or customer tokens or associate tokens (only --token given): kiosks, members and associates connect with the shoppers\' token and watch only their stock topics');
    return plans.map(() => o.subscriberToken);
  }
  return plans.map(({ as }) => {
    if (as.role === 'kiosk') return mint({ role: 'kiosk', sub: as.kiosk, loc: as.store });
    if (as.role === 'customer') return mint({ role: 'customer', sub: as.customer });
    if (as.role === 'associate') return mint({ role: 'associate', sub: as.staff, loc: as.store });
    return o.subscriberToken;
  });
}

/**
 * Each subscriber's topics, at most --topics-per-subscriber of them. A kiosk's screen and a
 * member's recommendations are readable only with its own token: without a secret to mint one
 * it keeps its stock topics, rather than meeting a `forbidden` that would count as an error.
 */
export function subscriberTopics(plans: readonly SubscriberPlan[], o: Pick<LoadgenOptions, 'mintToken' | 'topicsPerSubscriber'>): string[][] {
  return plans.map(({ topics, as }) => {
    const readable = as.role === 'shopper' || o.mintToken !== undefined ? topics : topics.filter((t) => t.startsWith('stock/'));
    return o.topicsPerSubscriber === undefined ? readable : readable.slice(0, o.topicsPerSubscriber);
  });
}

/**
 * Connects the service scenario's desks, each with its own agent token (role agent, sub = the
 * agent id) from `mint`, and the chatting customers theirs (role customer, sub = the subject). `scheduledAt` maps a request's event number to
 * its scheduled send time once the schedule exists.
 */
async function startDesks(plan: DeskPlan, o: LoadgenOptions, mint: NonNullable<LoadgenOptions['mintToken']>, scheduledAt: (n: number) => number | undefined, log: Log, onAssigned: (request: string, nowMs: number) => void): Promise<DeskGroup> {
  log(`connecting ${plan.agents.length} agent desks…`);
  const desks = await DeskGroup.start({
    url: o.url,
    format: o.format,
    agents: plan.agents,
    tokens: plan.agents.map((agent) => mint({ role: 'agent', sub: agent })),
    thinkMs: o.thinkMs ?? DEFAULT_THINK_MS,
    handleMs: o.handleMs ?? DEFAULT_HANDLE_MS,
    chatMessages: o.chatMessages ?? DEFAULT_CHAT_MESSAGES,
    chatCustomers: o.chatCustomers ?? DEFAULT_CHAT_CUSTOMERS,
    mintCustomer: (subject) => mint({ role: 'customer', sub: subject }),
    customersFollow: o.firstContact === true,
    onAssigned,
    scheduledAt: (request) => {
      const n = plan.requestIndex(request);
      return n === undefined ? undefined : scheduledAt(n);
    },
  });
  log(`${desks.readyDesks} of ${plan.agents.length} agent desks on their agent/<id> topic`);
  if (desks.readyDesks < plan.agents.length) {
    desks.stop();
    throw new Error(`only ${desks.readyDesks} of ${plan.agents.length} agent desks connected${desks.firstError ? `: ${desks.firstError}` : ''}`);
  }
  return desks;
}

/**
 * Waits until every accepted request was offered and the desks finished their work — with first
 * contact, until every followed request has ended — at most DESK_GRACE_MS.
 */
async function desksSettled(unsettled: () => string | undefined, warn: (message: string) => void): Promise<void> {
  const until = Date.now() + DESK_GRACE_MS;
  while (Date.now() < until && unsettled() !== undefined) await sleep(50);
  const left = unsettled();
  if (left !== undefined) warn(`${DESK_GRACE_MS / 1000} s after the last answer the desks were not done: ${left}`);
}

/** Waits until no push has arrived for PUSH_QUIET_MS (at most `graceMs`). */
export async function quietPushes(pool: Pick<SubscriberPool, 'sample'>, graceMs = PUSH_GRACE_MS): Promise<void> {
  const until = Date.now() + graceMs;
  let last = (await pool.sample()).received;
  let lastChange = Date.now();
  while (Date.now() < until && Date.now() - lastChange < PUSH_QUIET_MS) {
    await sleep(50);
    const now = (await pool.sample()).received;
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function progressLine(p: TimelinePoint, clients: number): string {
  const f = (n: number) => n.toLocaleString('en-US');
  const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  return `[${p.t.toFixed(0).padStart(3)}s] sent ${f(p.sent)}/s acked ${f(p.acked)}/s | ack p50 ${ms(p.ackP50)} ms p99 ${ms(p.ackP99)} ms | push p99 ${ms(p.pushP99)} ms, ${f(p.received)} msgs/s | errors ${f(p.errors)} | http in flight ${p.inFlight}, ws ${p.connected}/${clients}`;
}
