// /ui/storefront?sku=A,B&topic=T — a shopper's page: live available counts of the SKUs at every
// store, named and (when the browser gives a position) nearest first, and with a customer token
// the customer's orders, live, and a chat with customer service (docs/protocol.md, "Pages").

import type { OmniClient } from '../client/mod.ts';
import { el, flash, mountPage, readClaims, readToken, startClient, type Claims } from './shared/page.ts';
import { mountChat } from './shared/customer-chat.ts';
import { mountOrders } from './shared/customer-orders.ts';
import { askForPosition, StoreDirectory } from './shared/store-directory.ts';

/** At or below this many units a row reads "low" where the store's own threshold is not known yet (the server's default). */
const LOW_AT = 5;

interface StockRow { onHand: number; reserved: number; safety: number; available: number }
interface SkuStock { sku: string; available: number; locations: Record<string, StockRow> }

const params = new URLSearchParams(location.search);
const skus = [...new Set((params.get('sku') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''))];
const topic = params.get('topic')?.trim() || 'general';
const token = readToken();
const claims = token === undefined ? undefined : readClaims(token);

const { main, connection } = mountPage('Store stock');
const client = startClient(connection, token);
// Every card redraws its names and order when the directory learns more.
const redraws: Array<() => void> = [];
const directory = new StoreDirectory(token, () => redraws.forEach((redraw) => redraw()));

if (skus.length === 0) {
  main.append(el('section', { class: 'notice', role: 'alert' }, el('h2', {}, 'No products chosen'), el('p', {}, 'Add the SKUs to show to the address, e.g. ?sku=TSHIRT-M,JEANS-32.')));
} else {
  const stock = el('div', { class: 'grid' });
  const note = el('span', { 'data-testid': 'store-order' });
  const offer = el('button', { type: 'button', class: 'secondary', 'data-testid': 'nearest-first' }, 'Nearest stores first');
  main.append(el('p', { class: 'muted' }, note, ' ', offer), stock);
  askForPosition(directory, offer, note);
  for (const sku of skus) stock.append(watchSku(client, sku, directory, redraws));
}
if (claims?.role === 'customer') main.append(ordersSection(client, claims.sub, token as string, directory));
main.append(chatSection(client, claims));

/** A signed-in customer's orders, from any channel, kept live. */
function ordersSection(client: OmniClient, customer: string, token: string, directory: StoreDirectory): HTMLElement {
  const section = el('section', { 'aria-labelledby': 'orders-title' }, el('h2', { id: 'orders-title' }, 'Your orders'));
  const redraw = mountOrders(section, client, customer, token, (id) => {
    directory.lookUp([id]);
    return directory.nameOf(id);
  });
  redraws.push(redraw);
  return section;
}

/** One card per SKU, kept live from `stock/<sku>` (a state topic: every update is the whole state). */
function watchSku(client: OmniClient, sku: string, directory: StoreDirectory, redraws: Array<() => void>): HTMLElement {
  const total = el('span', { class: 'muted' });
  const body = el('tbody');
  const empty = el('p', { class: 'muted' }, 'Not stocked anywhere yet.');
  const table = el('table', {}, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Store'), el('th', { scope: 'col', class: 'num' }, 'Available'))), body);
  const card = el('section', { 'aria-label': `Stock of ${sku}` }, el('h2', {}, sku, ' ', total), empty, table);
  table.hidden = true;
  const rows = new Map<string, { row: HTMLElement; name: HTMLElement; distance: HTMLElement; count: HTMLElement; state: HTMLElement }>();
  let last: SkuStock | null = null;

  const render = (data: unknown, animate: boolean) => {
    const state = (last = data as SkuStock | null);
    const locations = state?.locations ?? {};
    const ids = directory.order(Object.keys(locations));
    directory.lookUp(ids);
    empty.hidden = ids.length > 0;
    table.hidden = ids.length === 0;
    total.textContent = state ? `· ${state.available} available in all` : '';
    for (const location of ids) {
      let row = rows.get(location);
      if (row === undefined) {
        const name = el('span', { 'data-testid': 'store', 'data-location': location });
        const distance = el('span', { class: 'distance' });
        const count = el('span', { class: 'available', 'data-testid': 'available', 'data-sku': sku, 'data-location': location });
        const state = el('span', { class: 'state' });
        row = { row: el('tr', {}, el('th', { scope: 'row' }, name, distance), el('td', { class: 'num' }, count, state)), name, distance, count, state };
        rows.set(location, row);
      }
      // Stock snapshots name stores by id: the directory knows their names, once it has read them.
      row.name.textContent = directory.nameOf(location);
      const km = directory.distanceTo(location);
      row.distance.textContent = km === undefined ? '' : `${km < 10 ? km.toFixed(1) : Math.round(km)} km away`;
      const available = locations[location].available;
      const text = String(available);
      if (row.count.textContent !== text) {
        row.count.textContent = text;
        if (animate) flash(row.count);
      }
      const low = directory.lowStockOf(location) ?? LOW_AT;
      const [cls, label] = available <= 0 ? ['out', 'sold out'] : available <= low ? ['low', 'low'] : ['ok', 'in stock'];
      row.state.className = `state ${cls}`;
      row.state.textContent = label;
    }
    // Rows move only when the order changed, so a highlight that is playing is not restarted.
    const ordered = ids.map((id) => rows.get(id)!.row);
    if (ordered.some((tr, i) => body.children[i] !== tr)) body.append(...ordered);
  };
  redraws.push(() => render(last, false));
  client.subscribe(`stock/${sku}`, {
    onSnapshot: (data) => render(data, rows.size > 0),
    onUpdate: (data) => render(data, true),
    onError: (error) => card.append(el('p', { class: 'notice', role: 'alert' }, `Stock of ${sku} cannot be shown: ${error.message}`)),
  });
  return card;
}

function chatSection(client: OmniClient, claims: Claims | undefined): HTMLElement {
  const section = el('section', { 'aria-labelledby': 'chat-title' }, el('h2', { id: 'chat-title' }, 'Chat with us'));
  if (claims?.role !== 'customer') {
    section.append(el('p', { class: 'muted', 'data-testid': 'chat-unavailable' }, 'Signed-in customers can chat with our service team here (the page needs a customer token after #token= in its address).'));
    return section;
  }
  mountChat(section, client, claims.sub, topic, token as string);
  return section;
}
