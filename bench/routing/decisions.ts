// Part 1 of `omni bench routing`: what one routing decision costs with a loaded service desk — N
// agents online and M requests queued — through the real service processor on an in-memory
// view (routing-pure-view.ts), no LMDB. The backlog sits on the backlog topics, whose agents are
// all full; a small pool of agents on the free topics stays free. One measured cycle:
//   request on a free topic → agent X        (a) pick agent
//   X declines → agent Y                     (c) next agent
//   Y's offer times out → next agent Z       (d) timer
//   Z accepts, then completes it             (nothing queued for Z)
//   a backlog agent W completes one → W is offered the best of the backlog   (b) pick request
//   W accepts; a new backlog request queues (all its agents full)
// so the state is the same after every cycle: the backlog stays at M, the free pool free.

import { pack } from 'msgpackr';
import { onlineAgents, renderQueues, type InputEvent } from '../../engine/mod.ts';
import { serviceKeys, type Agent } from '../../engine/service/mod.ts';
import { latencyHistogram, summariseLatency, type Histogram, type LatencySummary } from '../shared/report.ts';
import { PureServiceView, type Applied } from './pure-view.ts';
import { offersIn, RoutingWorkload } from './workload.ts';
import { collectGarbage, RuntimeMonitor, type RuntimeSample } from '../shared/runtime-monitor.ts';

export const DECISION_KINDS = {
  requested: '(a) service.requested → pick agent',
  completed: '(b) service.completed → pick request (backlog)',
  declined: '(c) service.declined → next agent',
  timeout: '(d) offer timeout timer → next agent',
  accepted: 'service.accepted → assigned',
  completedIdle: 'service.completed, nothing queued for the agent',
  queued: 'service.requested, all agents busy → queued',
} as const;
export type DecisionKind = keyof typeof DECISION_KINDS;

export interface DecisionOptions {
  agents: number;
  topics: number;
  queued: number;
  samples: number;
  warmupSamples: number;
  seed: number;
}

export interface KindResult extends LatencySummary {
  kind: DecisionKind;
  writesPerEvent: number;
  /** Keys plus msgpack of the values written: about what LMDB would store per event. */
  bytesPerEvent: number;
}

export interface DecisionsResult {
  agentsOnline: number;
  freeAgents: number;
  queuedBefore: number;
  queuedAfter: number;
  setupEvents: number;
  setupMs: number;
  /** Measured cycles; each kind has this many samples except accepted (two per cycle). */
  samples: number;
  /** A step that did not route as the cycle expects (e.g. no eligible agent left in a lane). */
  misses: Record<string, number>;
  kinds: KindResult[];
  /** GC and main thread over the measured cycles: the tail is mostly scavenges landing in an event. */
  runtime: RuntimeSample;
}

/** Every BYTES_EVERY-th sample is sized (encoding every write would dominate the run). */
const BYTES_EVERY = 8;

class KindStats {
  readonly hist: Histogram = latencyHistogram();
  writes = 0;
  sized = 0;
  bytes = 0;

  record(a: Applied): void {
    this.hist.recordValue(Math.max(1, Math.round(a.ns / 1000)));
    const writes = a.effects.writes ?? [];
    this.writes += writes.length;
    if (this.hist.totalCount % BYTES_EVERY !== 0) return;
    this.sized++;
    for (const [k, v] of writes) this.bytes += k.length + (v === undefined ? 0 : pack(v).length);
  }

  result(kind: DecisionKind): KindResult {
    const n = Math.max(1, this.hist.totalCount);
    return { kind, ...summariseLatency(this.hist), writesPerEvent: this.writes / n, bytesPerEvent: this.sized ? this.bytes / this.sized : 0 };
  }
}

/** The request's status an accepted `service.requested` answers with. */
const statusOf = (e: Applied['effects']) => (e.result?.ok ? e.result.status : undefined);

function queuedNow(v: PureServiceView): number {
  let n = 0;
  for (const q of Object.values(renderQueues(v.view))) n += q.waiting;
  return n;
}

/** Agents online, VIP profiles, then backlog requests (offers accepted at once) until M queue. */
function build(v: PureServiceView, wl: RoutingWorkload, queued: number): number {
  let events = 0;
  const must = (ev: InputEvent) => {
    events++;
    return v.must(ev);
  };
  for (const ev of [...wl.agentEvents(), ...wl.profileEvents()]) must(ev);
  let waiting = 0;
  while (waiting < queued) {
    const { effects } = must(wl.request());
    if (statusOf(effects) === 'queued') waiting++;
    for (const o of offersIn(effects.messages ?? [])) must(wl.event('service.accepted', o));
  }
  return events;
}

export async function runDecisions(o: DecisionOptions, runNo = 0): Promise<DecisionsResult> {
  const v = new PureServiceView();
  // A tenth of the agents (and of the topics) form the free pool.
  const wl = new RoutingWorkload({ agents: o.agents, topics: o.topics, freeShare: 0.1, seed: 7 + o.seed + runNo, prefix: '' });
  const setupStart = performance.now();
  const setupEvents = build(v, wl, o.queued);
  const setupMs = performance.now() - setupStart;
  const queuedBefore = queuedNow(v);

  const stats = Object.fromEntries(Object.keys(DECISION_KINDS).map((k) => [k, new KindStats()])) as Record<DecisionKind, KindStats>;
  const misses: Record<string, number> = {};
  const miss = (what: string) => (misses[what] = (misses[what] ?? 0) + 1);
  let measuring = false;
  const timed = (kind: DecisionKind, a: Applied): Applied => {
    if (!a.effects.result || a.effects.result.ok) {
      if (measuring) stats[kind].record(a);
    } else throw new Error(`${kind} refused: ${JSON.stringify(a.effects.result)}`);
    return a;
  };
  const offerOf = (a: Applied) => offersIn(a.effects.messages ?? [])[0];
  const agentRecord = (id: string) => v.view.get<Agent>(serviceKeys.agent(id));

  const cycle = () => {
    // Free pool: request → X, decline → Y, timeout → Z, accept, complete.
    const req = wl.request(wl.freeTopics);
    const request = req.request as string;
    // Each step needs the one before to have offered; a step that did not is counted, not timed further.
    const first = offerOf(timed('requested', v.apply(req)));
    const second = first && offerOf(timed('declined', v.apply(wl.event('service.declined', first))));
    const third = second && offerOf(timed('timeout', v.fire(`offer/${request}`)));
    if (third) timed('accepted', v.apply(wl.event('service.accepted', third)));
    else miss(!first ? 'requested: no free agent' : !second ? 'declined: no next agent' : 'timeout: no next agent');
    timed('completedIdle', v.apply(wl.event('service.completed', { request })));

    // Backlog: a full agent completes one and is offered the best queued request.
    let agent: string;
    let assigned: string[];
    do {
      agent = wl.backlogAgents[wl.int(wl.backlogAgents.length)];
      assigned = agentRecord(agent)?.assigned ?? [];
    } while (assigned.length === 0);
    const next = offerOf(timed('completed', v.apply(wl.event('service.completed', { request: assigned[wl.int(assigned.length)] }))));
    if (next?.agent === agent) timed('accepted', v.apply(wl.event('service.accepted', next)));
    else miss('completed: no queued request offered');
    const added = timed('queued', v.apply(wl.request()));
    if (statusOf(added.effects) !== 'queued') {
      miss('queued: routed at once');
      for (const o of offersIn(added.effects.messages ?? [])) v.must(wl.event('service.accepted', o));
    }
  };

  for (let i = 0; i < o.warmupSamples; i++) cycle();
  collectGarbage();
  // GC entries reach the observer only once the event loop turns: let the forced one pass first.
  const turn = () => new Promise((resolve) => setTimeout(resolve, 20));
  await turn();
  measuring = true;
  const monitor = new RuntimeMonitor();
  for (let i = 0; i < o.samples; i++) cycle();
  await turn();
  const runtime = monitor.stop();

  return {
    agentsOnline: onlineAgents(v.view).length,
    freeAgents: wl.freeAgents.length,
    queuedBefore,
    queuedAfter: queuedNow(v),
    setupEvents,
    setupMs,
    samples: o.samples,
    misses,
    kinds: (Object.keys(DECISION_KINDS) as DecisionKind[]).map((k) => stats[k].result(k)),
    runtime,
  };
}
