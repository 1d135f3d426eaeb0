// Every name a run writes into the server carries the run's prefix (`lg-<time>-<random>`), so a
// run's SKUs, locations, holds, orders, agents, requests, customers and kiosks never meet the
// server's own data or another run's. The scenarios already prefix what they invent per event
// (event ids, holds, customers); this layer makes the rule hold for everything else they name
// (SKUs, locations, stores, kiosks, service topics), in one place, for every scenario.

import type { InputEvent } from '../engine/mod.ts';
import type { DeskPlan, EventSource, SubscriberPlan, Watcher } from './scenarios/source.ts';

/** Fields that name one thing of the server's (a SKU, a hold, an agent, …). */
const NAME_FIELDS = ['sku', 'location', 'pickup', 'reservation', 'transfer', 'order', 'return', 'agent', 'request', 'topic', 'kiosk'] as const;
/** Fields that name a customer: an id may be `kind:value` (`device:…`, `phone:…`), whose value gets the prefix. */
const CUSTOMER_FIELDS = ['subject', 'customer'] as const;

export class Namespace {
  constructor(readonly prefix: string) {}

  /** Whether `name` already carries this run's prefix (anywhere: a phone number ends with it). */
  owns(name: string): boolean {
    return name.includes(this.prefix);
  }

  name(name: string): string {
    return this.owns(name) ? name : `${this.prefix}-${name}`;
  }

  /** A customer id: `kind:value` keeps its kind, so the engine still reads it as a phone, a device, … */
  customerId(id: string): string {
    if (this.owns(id)) return id;
    const colon = id.indexOf(':');
    return colon > 0 ? `${id.slice(0, colon + 1)}${this.prefix}-${id.slice(colon + 1)}` : `${this.prefix}-${id}`;
  }

  /** Rewrites, in place, every name the event carries; returns it. */
  event(ev: InputEvent): InputEvent {
    if (typeof ev.id === 'string') ev.id = this.name(ev.id);
    for (const field of NAME_FIELDS) {
      const v = ev[field];
      if (typeof v === 'string') ev[field] = this.name(v);
    }
    for (const field of CUSTOMER_FIELDS) {
      const v = ev[field];
      if (typeof v === 'string') ev[field] = this.customerId(v);
    }
    // `from`/`to` are locations only in a transfer (a chat message's `from` is "agent" or "customer").
    if (ev.type === 'stock.transfer') {
      if (typeof ev.from === 'string') ev.from = this.name(ev.from);
      if (typeof ev.to === 'string') ev.to = this.name(ev.to);
    }
    if (Array.isArray(ev.ids)) ev.ids = ev.ids.map((id) => (typeof id === 'string' ? this.customerId(id) : id));
    if (Array.isArray(ev.lines)) ev.lines = ev.lines.map((line) => (isRecord(line) && typeof line.sku === 'string' ? { ...line, sku: this.name(line.sku) } : line));
    if (isRecord(ev.skills)) ev.skills = Object.fromEntries(Object.entries(ev.skills).map(([topic, level]) => [this.name(topic), level]));
    return ev;
  }

  /** `stock/<sku>[@<location>]`, `kiosk/<kiosk>`, `recs/<customer>`, `agent/<agent>`, … with the names prefixed. */
  topic(topic: string): string {
    const slash = topic.indexOf('/');
    if (slash < 0) return topic;
    const family = topic.slice(0, slash);
    const rest = topic.slice(slash + 1);
    if (family === 'recs') return `recs/${this.customerId(rest)}`;
    const at = rest.indexOf('@');
    if (family === 'stock' && at >= 0) return `stock/${this.name(rest.slice(0, at))}@${this.name(rest.slice(at + 1))}`;
    return `${family}/${this.name(rest)}`;
  }

  plan(plan: SubscriberPlan): SubscriberPlan {
    const as = plan.as;
    return {
      topics: plan.topics.map((t) => this.topic(t)),
      as: this.watcher(as),
    };
  }

  private watcher(as: Watcher): Watcher {
    if (as.role === 'kiosk') return { role: 'kiosk', kiosk: this.name(as.kiosk), store: this.name(as.store) };
    if (as.role === 'associate') return { role: 'associate', staff: this.name(as.staff), store: this.name(as.store) };
    return as.role === 'customer' ? { role: 'customer', customer: this.customerId(as.customer) } : as;
  }

  desks(plan: DeskPlan): DeskPlan {
    const agents = plan.agents.map((a) => this.name(a));
    // Request ids are the scenario's own, already prefixed; an unprefixed one is no request of this run.
    return { agents, chats: plan.chats, requestIndex: (request) => (this.owns(request) ? plan.requestIndex(request) : undefined) };
  }
}

/** The scenario with every name it writes or watches in the run's namespace. */
export function namespaced(source: EventSource, prefix: string): EventSource {
  const ns = new Namespace(prefix);
  const desks = source.desks === undefined ? undefined : ns.desks(source.desks);
  return {
    name: source.name,
    unusedFlags: source.unusedFlags,
    ...(desks === undefined ? {} : { desks }),
    // Order ids are the scenario's own, already prefixed.
    ...(source.orderEnd === undefined ? {} : { orderEnd: (order: string) => source.orderEnd!(order), orderFollowers: source.orderFollowers }),
    // Its requests, entries and topics are named with the prefix already.
    ...(source.firstContact === undefined ? {} : { firstContact: source.firstContact }),
    setup: () => source.setup().map((body) => body.map((ev) => ns.event(ev))),
    next: () => ns.event(source.next()),
    subscribers: (count) => source.subscribers(count).map((p) => ns.plan(p)),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
