// Who may read which topic and send which event (the roles table of docs/protocol.md, section
// 2). Pure functions: the only outside knowledge they need, who a service request or an order
// belongs to and which ids name one customer, is passed in as lookups so the same rules serve
// HTTP and WebSocket and can be tested without an engine.

import type { Principal } from './principal.ts';

/** The people on a service request, as far as the engine knows them. */
export interface RequestParties {
  /** The customer id the request resolved to. */
  customer?: string;
  /** The id the request was raised with (may be a linked id such as `phone:+86…`). */
  subject?: string;
  /** The agent it is currently assigned to. */
  agent?: string;
}

export type RequestLookup = (requestId: string) => RequestParties | undefined;

/** Who and where an order concerns, as far as the engine knows it. */
export interface OrderParties {
  /** The customer the order names (any of the customer's linked ids). */
  customer?: string;
  /** The store a pickup order waits at. */
  pickup?: string;
  /** Every store the order touches: its pickup store, its allocation's locations, its returns' locations. */
  locations: readonly string[];
  status: string;
}

export type OrderLookup = (orderId: string) => OrderParties | undefined;

/** Whether two ids name one customer (linked ids of one customer do). */
export type SameCustomer = (a: string, b: string) => boolean;

/** What the order rules are told: spread into ReadOptions and SendOptions. */
export interface OrderFacts {
  /** Without it, `order/<id>` is readable only by roles that read everything, and order changes are refused to customers and associates. */
  lookupOrder?: OrderLookup;
  /** Without it, a customer owns only the orders that name exactly its token's sub. */
  sameCustomer?: SameCustomer;
}

export interface ReadOptions extends OrderFacts {
  /** `omni serve --public-stock`: anonymous clients may read `stock/*`. */
  publicStock: boolean;
  /** Without it, `request/<id>` is readable only by roles that read everything. */
  lookupRequest?: RequestLookup;
  /** The ingest role reads over HTTP only (docs/protocol.md, section 2). Defaults to 'http'. */
  transport?: 'http' | 'ws';
}

export interface SendOptions extends OrderFacts {
  /** Without it, events that act on an existing request are refused to customers and agents. */
  lookupRequest?: RequestLookup;
  /** How the event came: an agent signs itself on or off only from its desk's WebSocket. */
  transport?: 'http' | 'ws';
}

export type TopicFamily = 'stock' | 'recs' | 'kiosk' | 'agent' | 'request' | 'queue' | 'alerts' | 'order' | 'store' | 'stats' | 'loyalty' | 'cases';

const FAMILIES: readonly string[] = ['stock', 'recs', 'kiosk', 'agent', 'request', 'queue', 'alerts', 'order', 'store', 'stats', 'loyalty', 'cases'];
/** The families whose ids are a fixed set. */
const FIXED_IDS: Readonly<Record<string, readonly string[]>> = { alerts: ['stock', 'service'], stats: ['commerce', 'service'] };

/** Splits `family/id`; undefined for anything that is not a topic the contract names. */
export function parseTopic(topic: string): { family: TopicFamily; id: string } | undefined {
  const slash = topic.indexOf('/');
  if (slash <= 0) return undefined;
  const family = topic.slice(0, slash);
  const id = topic.slice(slash + 1);
  if (!FAMILIES.includes(family) || id.length === 0) return undefined;
  if (Object.hasOwn(FIXED_IDS, family) && !FIXED_IDS[family].includes(id)) return undefined;
  return { family: family as TopicFamily, id };
}

/** Supervisors and admins read everything; ingest too, over HTTP. */
export function readsEverything(principal: Principal, transport: 'http' | 'ws' = 'http'): boolean {
  if (principal.role === 'ingest') return transport === 'http';
  return principal.role === 'admin' || principal.role === 'supervisor';
}

export function mayRead(principal: Principal, topic: string, options: ReadOptions): boolean {
  const parsed = parseTopic(topic);
  if (parsed === undefined) return false;
  const { family, id } = parsed;
  switch (principal.role) {
    case 'admin':
    case 'supervisor':
    case 'ingest':
      // A customer's cases carry notes about a person: the customer, supervisors and admins read them.
      if (family === 'cases') return principal.role !== 'ingest';
      // The service figures name agents: staff figures, for supervisors and admins.
      if (family === 'stats' && id === 'service') return principal.role !== 'ingest';
      return readsEverything(principal, options.transport);
    case 'anonymous':
      return family === 'stock' && options.publicStock;
    case 'customer':
      if (family === 'stock') return true;
      if (family === 'recs' || family === 'loyalty') return id === principal.sub;
      if (family === 'request') return isCustomerOf(options.lookupRequest?.(id), principal.sub);
      if (family === 'order') return isOrderCustomer(options.lookupOrder?.(id), principal.sub, options);
      if (family === 'cases') return id === principal.sub || options.sameCustomer?.(id, principal.sub) === true;
      return false;
    case 'kiosk':
      return family === 'stock' || (family === 'kiosk' && id === principal.sub);
    case 'associate': {
      if (family === 'stock') return true;
      // Without a store claim an associate cannot show which store's orders are its.
      const loc = principal.loc;
      if (loc === undefined) return false;
      if (family === 'store') return id === loc;
      if (family === 'order') return options.lookupOrder?.(id)?.locations.includes(loc) === true;
      return false;
    }
    case 'agent':
      if (family === 'agent') return id === principal.sub;
      if (family === 'queue') return true;
      if (family === 'request') return isAgentOf(options.lookupRequest?.(id), principal.sub);
      return false;
  }
}

export function maySend(principal: Principal, event: unknown, options: SendOptions = {}): boolean {
  if (principal.role === 'admin' || principal.role === 'ingest') return true;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  const fields = event as Record<string, unknown>;
  const type = fields.type;
  if (typeof type !== 'string') return false;
  const sub = principal.sub;
  const parties = () => (typeof fields.request === 'string' ? options.lookupRequest?.(fields.request) : undefined);
  const order = () => (typeof fields.order === 'string' ? options.lookupOrder?.(fields.order) : undefined);

  switch (principal.role) {
    case 'customer':
      if (type === 'service.requested') return fields.subject === sub;
      if (type === 'service.message') return fields.from === 'customer' && isCustomerOf(parties(), sub);
      // Asking for a person, saying the bot's answer was enough, rating: only on its own requests.
      if (type === 'service.escalated' || type === 'service.rated') return isCustomerOf(parties(), sub);
      if (type === 'service.resolved') return fields.by === 'bot' && isCustomerOf(parties(), sub);
      // Once the store has picked it, cancelling is the store's business, not the shopper's.
      if (type === 'order.cancelled') {
        const parties = order();
        return parties?.status === 'placed' && isOrderCustomer(parties, sub, options);
      }
      return false;
    case 'kiosk': {
      // A kiosk without a store claim cannot prove where it stands, so it may send nothing.
      const loc = principal.loc;
      if (loc === undefined) return false;
      // The kiosk field names the screen the recommendations are pushed to: only its own.
      if (type === 'kiosk.identified') return fields.kiosk === sub && fields.location === loc;
      if (type.startsWith('activity.')) return fields.location === loc;
      return false;
    }
    case 'associate': {
      // As for kiosks: no store claim, no store to act at.
      const loc = principal.loc;
      if (loc === undefined) return false;
      switch (type) {
        // The endless aisle: a store sells what any location holds, for pickup anywhere or shipping.
        case 'order.placed':
          return fields.channel === 'store';
        case 'order.ready':
        case 'order.picked_up':
          return order()?.pickup === loc;
        // Returns are taken anywhere, whoever sold the goods: they go back on hand here.
        case 'order.returned':
        case 'stock.sold':
        case 'stock.returned':
          return fields.location === loc;
        default:
          return false;
      }
    }
    case 'agent':
      switch (type) {
        // A desk signs its own agent on and off: the skills and capacity it declares are
        // trusted, as its status is. Only over the desk's WebSocket: the gateway then sees the
        // desk, so an agent cannot stay online (or come back) without one, as an HTTP sign-on
        // during the presence grace would. Presence (agent.connected / agent.disconnected)
        // stays the gateway's.
        case 'agent.online':
        case 'agent.offline':
          return fields.agent === sub && options.transport === 'ws';
        case 'agent.status':
        case 'service.accepted':
        case 'service.declined':
          // Whether an offer is open to this agent is the engine's to judge; the gateway only
          // makes sure an agent answers for itself.
          return fields.agent === sub;
        case 'service.completed':
          return isAgentOf(parties(), sub);
        case 'service.message':
          return fields.from === 'agent' && isAgentOf(parties(), sub);
        default:
          return false;
      }
    default:
      return false;
  }
}

function isCustomerOf(parties: RequestParties | undefined, sub: string): boolean {
  return parties !== undefined && (parties.customer === sub || parties.subject === sub);
}

function isOrderCustomer(parties: OrderParties | undefined, sub: string, options: OrderFacts): boolean {
  const customer = parties?.customer;
  if (customer === undefined) return false;
  return customer === sub || options.sameCustomer?.(customer, sub) === true;
}

function isAgentOf(parties: RequestParties | undefined, sub: string): boolean {
  return parties !== undefined && parties.agent === sub;
}
