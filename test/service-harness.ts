// The service processor on a pure view (test/pure-harness.ts) with short names for the events
// the routing tests send and the records and messages they look at.

import { expect } from 'vitest';
import { customerProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { CHANNELS, eligible, onlineAgents, serviceKeys, type Agent, type ServiceOptions, type ServiceRequest } from '../engine/service/mod.ts';
import { entries, rankOf } from '../engine/service/ranked-list.ts';
import type { Effects, StateView } from '../engine/types.ts';
import { PureRunner } from './pure-harness.ts';

export class ServiceRunner extends PureRunner {
  /** Wraps each single event or timer, for checks that must see the state right after it. */
  watch: (apply: () => void) => void = (apply) => apply();

  constructor(options: ServiceOptions = {}) {
    // With the customer domain: profiles (tier, language) and identities are its events.
    super([wiredServiceProcessor(options), customerProcessor()]);
  }

  override apply(event: Parameters<PureRunner['apply']>[0]): Effects {
    let effects!: Effects;
    this.watch(() => (effects = super.apply(event)));
    return effects;
  }

  online(agent: string, skills: Record<string, number>, capacity: Record<string, number> = { chat: 1 }, languages?: string[]): Effects {
    return this.ok({ type: 'agent.online', agent, skills, capacity, ...(languages ? { languages } : {}) });
  }

  request(request: string, extra: Record<string, unknown> = {}): Effects {
    return this.ok({ type: 'service.requested', request, subject: `cust-${request}`, channel: 'chat', topic: 'billing', ...extra });
  }

  accept(request: string, agent: string): Effects {
    return this.apply({ type: 'service.accepted', request, agent });
  }

  decline(request: string, agent: string): Effects {
    return this.apply({ type: 'service.declined', request, agent });
  }

  complete(request: string): Effects {
    return this.apply({ type: 'service.completed', request });
  }

  /** Applies an event that must be accepted. */
  ok(event: Record<string, unknown>): Effects {
    const effects = this.apply(event as never);
    if (!effects.result.ok) throw new Error(`${String(event.type)} refused: ${JSON.stringify(effects.result.error)}`);
    return effects;
  }

  /** Applies an event that must be rejected with `expected`, and proves it changed nothing. */
  rejects(event: Record<string, unknown>, expected: string): Effects {
    const before = this.dump();
    const timers = JSON.stringify([...this.timers]);
    const effects = this.apply(event as never);
    expect(code(effects)).toBe(expected);
    expect(this.dump()).toBe(before);
    expect(JSON.stringify([...this.timers])).toBe(timers);
    return effects;
  }

  /** Moves the clock and fires the timers due by then (PureRunner.fireDue's order), each watched. */
  advance(ms: number): number {
    this.now += ms;
    let fired = 0;
    for (;;) {
      let more = false;
      this.watch(() => (more = this.fireNext()));
      if (!more) return fired;
      fired++;
    }
  }

  req(id: string): ServiceRequest {
    return this.state.get(serviceKeys.request(id)) as ServiceRequest;
  }

  ag(id: string): Agent {
    return this.state.get(serviceKeys.agent(id)) as Agent;
  }

  /** The agent a request is offered to now, if any. */
  offeredTo(request: string): string | undefined {
    return this.req(request).offer?.agent;
  }

  on(topic: string): any[] {
    return this.messages.filter((m) => m.topic === topic).map((m) => m.data);
  }

  clearMessages(): void {
    this.messages.length = 0;
  }
}

export const code = (e: Effects) => (e.result.ok ? 'ok' : e.result.error.code);

/** Property tests run one fixed sample so a run is reproducible; OMNI_FC_SEED explores others. */
export const FC_SEED = Number(process.env.OMNI_FC_SEED ?? 20_261_201);

/**
 * What must hold after every event, on any view (pure or the engine's durable one): every request
 * in exactly one place (its lane, an agent's offers, an agent's assignments, completed), every
 * agent's load equal to what it holds and within capacity, every agent's list of requests
 * waiting for it (continuity) exactly its queued requests preferring it, offline agents holding nothing, the
 * online list right, and no queued request left with an eligible agent (other than the one it was
 * last offered to). Collected, not asserted one by one: an expect per request per step would
 * dominate a simulation's time.
 */
export function invariantProblems(view: StateView, requestIds: string[], agentIds: string[]): string[] {
  const problems: string[] = [];
  const held = new Map<string, number[]>();
  const queued: ServiceRequest[] = [];
  const preferring = new Map<string, number>();
  for (const id of requestIds) {
    const req = view.get<ServiceRequest>(serviceKeys.request(id));
    if (!req) {
      problems.push(`${id} lost`);
      continue;
    }
    if (!['queued', 'offered', 'assigned', 'completed', 'bot', 'resolved'].includes(req.status)) problems.push(`${id} is ${req.status}`);
    if (req.status === 'queued') {
      queued.push(req);
      const lane = serviceKeys.requestLane(req.channel, (req.breached ? undefined : req.language) ?? '*', req.topic);
      if (rankOf(view, lane, id, req.rank) === undefined) problems.push(`${id} missing from ${lane}`);
    }
    const waitsFor = req.status === 'queued' ? req.preferredAgent : undefined;
    if (waitsFor !== undefined) {
      if (rankOf(view, serviceKeys.preferring(waitsFor), id, req.rank) === undefined) problems.push(`${id} missing from ${waitsFor}'s waiting list`);
      preferring.set(waitsFor, (preferring.get(waitsFor) ?? 0) + 1);
    }
    const holder = req.status === 'offered' ? req.offer!.agent : req.status === 'assigned' ? req.agent! : undefined;
    if (!holder) continue;
    const a = view.get<Agent>(serviceKeys.agent(holder))!;
    if (!a.online) problems.push(`${holder} holds ${id} while offline`);
    if (!(req.status === 'offered' ? a.offers : a.assigned).includes(id)) problems.push(`${holder} does not list ${id}`);
    const load = held.get(holder) ?? CHANNELS.map(() => 0);
    load[CHANNELS.indexOf(req.channel)]++;
    held.set(holder, load);
  }
  const agents = agentIds.map((id) => view.get<Agent>(serviceKeys.agent(id))!);
  for (const a of agents) {
    const expected = held.get(a.id) ?? CHANNELS.map(() => 0);
    if (a.load.join() !== expected.join()) problems.push(`${a.id} load ${a.load} but holds ${expected}`);
    const listed = entries(view, serviceKeys.preferring(a.id)).length;
    if (listed !== (preferring.get(a.id) ?? 0)) problems.push(`${a.id}'s waiting list holds ${listed}, not ${preferring.get(a.id) ?? 0}`);
    a.load.forEach((l, ch) => l > a.capacity[ch] && problems.push(`${a.id} over capacity on ${CHANNELS[ch]}`));
  }
  for (const req of queued) {
    const idle = agents.find((a) => a.id !== req.lastAgent && eligible(a, req));
    if (idle) problems.push(`${req.id} queued while ${idle.id} could take it`);
  }
  const online = agents.filter((a) => a.online).map((a) => a.id).sort();
  if (onlineAgents(view).join() !== online.join()) problems.push(`online list ${onlineAgents(view)} but ${online}`);
  return problems;
}
