// The 360 context an offer carries (docs/protocol.md, "Offers"): who the customer is, what they
// looked at this session, their orders and earlier requests — drawn for the agent deciding.

import { el } from './page.ts';

export interface CustomerContext {
  id: string;
  tier?: string;
  language?: string;
  ids?: string[];
  idsTotal?: number;
  activity?: Array<{ sku: string; kind: string; time: number }>;
  orders?: Array<{ order: string; status: string; lines: Array<{ sku: string; qty: number }> }>;
  open?: Array<{ request: string; channel: string; topic: string; status: string }>;
  past?: Array<{ request: string; channel: string; topic: string; completedAt?: number }>;
}

export function customerContext(customer: CustomerContext | undefined): HTMLElement {
  if (customer === undefined) return el('p', { class: 'muted' }, 'No customer details.');
  const facts = [customer.tier === 'vip' ? 'VIP' : customer.tier, customer.language].filter((f) => f !== undefined && f !== '');
  const list = (title: string, items: string[]) =>
    items.length === 0 ? null : el('div', {}, el('strong', {}, title), el('ul', {}, ...items.map((item) => el('li', {}, item))));
  const ids = customer.ids ?? [];
  return el('div', { class: 'context', 'data-testid': 'customer-context' },
    el('p', {}, el('strong', {}, customer.id), facts.length > 0 ? ` · ${facts.join(' · ')}` : ''),
    list(`Known as${customer.idsTotal !== undefined ? ` (${customer.idsTotal})` : ''}`, ids),
    list('This visit', (customer.activity ?? []).map((a) => `${a.kind} ${a.sku}`)),
    list('Orders', (customer.orders ?? []).map((o) => `${o.order} (${o.status}): ${o.lines.map((l) => `${l.qty}× ${l.sku}`).join(', ')}`)),
    list('Open requests', (customer.open ?? []).map((r) => `${r.topic} by ${r.channel}: ${r.status}`)),
    (customer.past ?? []).length > 0 ? el('p', { class: 'muted' }, `${customer.past?.length} earlier request(s), latest on ${customer.past?.[0]?.topic}.`) : null,
  );
}
