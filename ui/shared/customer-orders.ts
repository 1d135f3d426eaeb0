// The storefront's "Your orders" for a signed-in customer: the orders the server keeps for it
// (GET /v1/customers/<sub>/orders, newest first), each then kept live from its own state topic
// `order/<id>` (every update is the whole order). The list is asked for again now and then, so
// an order placed in another channel (the app, a store, a kiosk) appears without a reload.

import type { OmniClient } from '../../client/mod.ts';
import { el, flash, getJson } from './page.ts';

interface OrderLine { sku: string; qty: number; price?: number; returned: number }
interface OrderView {
  order: string;
  status: string;
  channel?: string;
  pickup?: string;
  ship?: { lat: number; lon: number };
  lines: OrderLine[];
  currency?: string;
  history: Array<{ status: string; at: number; channel?: string; location?: string }>;
  readyUntil?: number;
  returns: Array<{ return: string; lines: Array<{ sku: string; qty: number }>; location: string; refund?: number }>;
}

const POLL_MS = 5000;
/** What a shopper reads for each status. */
const STATUS_TEXT: Record<string, string> = {
  placed: 'Placed',
  ready: 'Ready for pickup',
  shipped: 'On its way',
  completed: 'Completed',
  cancelled: 'Cancelled',
  expired: 'Not collected in time',
  partially_returned: 'Partly returned',
  returned: 'Returned',
};
const CHANNEL_TEXT: Record<string, string> = { web: 'online', app: 'in the app', store: 'in a store', kiosk: 'at a store kiosk', phone: 'by phone', social: 'on social media' };

/**
 * Mounts the panel into `section` and keeps it live; `storeName` turns a location id into a name.
 * Returns a redraw, for when the store names become known.
 */
export function mountOrders(section: HTMLElement, client: OmniClient, customer: string, token: string, storeName: (id: string) => string): () => void {
  const list = el('ol', { class: 'orders', 'data-testid': 'orders', 'aria-live': 'polite' });
  const empty = el('p', { class: 'muted', 'data-testid': 'orders-empty' }, 'No orders yet.');
  const problem = el('p', { class: 'notice', role: 'alert', hidden: '' });
  section.append(empty, problem, list);
  const items = new Map<string, HTMLElement>();
  const latest = new Map<string, OrderView>();

  const follow = (first: OrderView) => {
    const item = el('li', { 'data-testid': 'order', 'data-order': first.order });
    items.set(first.order, item);
    // The list is newest first: a newly found order goes on top.
    list.prepend(item);
    empty.hidden = true;
    latest.set(first.order, first);
    draw(item, first, storeName, false);
    const receive = (data: unknown, animate: boolean) => {
      if (data === null || typeof data !== 'object') return;
      latest.set(first.order, data as OrderView);
      draw(item, data as OrderView, storeName, animate);
    };
    client.subscribe(`order/${first.order}`, { onSnapshot: (data) => receive(data, false), onUpdate: (data) => receive(data, true) });
  };

  const discover = () =>
    getJson<{ orders: OrderView[] }>(`/v1/customers/${encodeURIComponent(customer)}/orders`, token).then(
      (answer) => {
        problem.hidden = true;
        // Oldest first, so each prepend leaves the newest on top.
        for (const order of [...answer.orders].reverse()) if (!items.has(order.order)) follow(order);
      },
      (error: Error) => {
        // 404: the server knows no orders of this customer yet; anything else is worth saying.
        if (/HTTP 404/.test(error.message)) return;
        problem.textContent = `Your orders cannot be shown right now (${error.message}).`;
        problem.hidden = false;
      },
    );
  void discover();
  setInterval(discover, POLL_MS);
  return () => {
    for (const [id, view] of latest) draw(items.get(id)!, view, storeName, false);
  };
}

function draw(item: HTMLElement, o: OrderView, storeName: (id: string) => string, animate: boolean): void {
  const status = el('strong', { 'data-testid': 'order-status', class: `order-status ${o.status}` }, STATUS_TEXT[o.status] ?? o.status);
  const where = o.pickup !== undefined ? `pickup at ${storeName(o.pickup)}` : 'delivery';
  const placed = o.history[0];
  const total = o.lines.every((l) => l.price !== undefined) ? money(o.lines.reduce((s, l) => s + l.price! * l.qty, 0), o.currency) : undefined;
  const lines = el('ul', { class: 'order-lines' }, ...o.lines.map((l) => el('li', {}, `${l.qty} × ${l.sku}`, l.price === undefined ? '' : ` · ${money(l.price, o.currency)}`, l.returned > 0 ? ` (${l.returned} returned)` : '')));
  const notes: string[] = [];
  if (o.status === 'ready' && o.readyUntil !== undefined) notes.push(`Waiting for you until ${new Date(o.readyUntil).toLocaleString()}.`);
  for (const r of o.returns) notes.push(`Returned at ${storeName(r.location)}${r.refund === undefined ? '' : `, ${money(r.refund, o.currency)} refunded`}.`);
  const changed = item.dataset.status !== undefined && item.dataset.status !== o.status;
  item.dataset.status = o.status;
  item.replaceChildren(
    el('div', {}, status, ` · order ${o.order}`, placed ? ` · placed ${CHANNEL_TEXT[o.channel ?? ''] ?? ''} ${new Date(placed.at).toLocaleDateString()}`.replace(/ {2,}/g, ' ') : ''),
    el('div', { class: 'muted' }, where, total === undefined ? '' : ` · ${total}`),
    lines,
    ...notes.map((note) => el('p', { class: 'muted' }, note)),
  );
  if (animate && changed) flash(status);
}

/** Minor units as money: 2499 EUR → "€24.99". */
function money(minor: number, currency = 'EUR'): string {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}
