// /ui/storefront?sku=A,B&topic=T — a shopper's page: live available counts of the SKUs at every
// store, and with a customer token a chat with customer service (docs/protocol.md, "Pages").

import type { OmniClient } from '../client/mod.ts';
import { el, flash, mountPage, readClaims, readToken, startClient, type Claims } from './shared/page.ts';
import { mountChat } from './shared/customer-chat.ts';

/** At or below this many units a row reads "low": the server's default low-stock threshold (stock snapshots do not carry the per-store one). */
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

if (skus.length === 0) {
  main.append(el('section', { class: 'notice', role: 'alert' }, el('h2', {}, 'No products chosen'), el('p', {}, 'Add the SKUs to show to the address, e.g. ?sku=TSHIRT-M,JEANS-32.')));
} else {
  const stock = el('div', { class: 'grid' });
  main.append(stock);
  for (const sku of skus) stock.append(watchSku(client, sku));
}
main.append(chatSection(client, claims));

/** One card per SKU, kept live from `stock/<sku>` (a state topic: every update is the whole state). */
function watchSku(client: OmniClient, sku: string): HTMLElement {
  const total = el('span', { class: 'muted' });
  const body = el('tbody');
  const empty = el('p', { class: 'muted' }, 'Not stocked anywhere yet.');
  const table = el('table', {}, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Store'), el('th', { scope: 'col', class: 'num' }, 'Available'))), body);
  const card = el('section', { 'aria-label': `Stock of ${sku}` }, el('h2', {}, sku, ' ', total), empty, table);
  table.hidden = true;
  const rows = new Map<string, { count: HTMLElement; state: HTMLElement }>();

  const render = (data: unknown, animate: boolean) => {
    const state = data as SkuStock | null;
    const locations = state?.locations ?? {};
    const ids = Object.keys(locations).sort();
    empty.hidden = ids.length > 0;
    table.hidden = ids.length === 0;
    total.textContent = state ? `· ${state.available} available in all` : '';
    for (const location of ids) {
      let row = rows.get(location);
      if (row === undefined) {
        // Stock snapshots name stores by id only: that is what the page can show.
        row = {
          count: el('span', { class: 'available', 'data-testid': 'available', 'data-sku': sku, 'data-location': location }),
          state: el('span', { class: 'state' }),
        };
        rows.set(location, row);
        body.append(el('tr', {}, el('th', { scope: 'row' }, location), el('td', { class: 'num' }, row.count, row.state)));
      }
      const available = locations[location].available;
      const text = String(available);
      if (row.count.textContent !== text) {
        row.count.textContent = text;
        if (animate) flash(row.count);
      }
      const [cls, label] = available <= 0 ? ['out', 'sold out'] : available <= LOW_AT ? ['low', 'low'] : ['ok', 'in stock'];
      row.state.className = `state ${cls}`;
      row.state.textContent = label;
    }
  };
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
