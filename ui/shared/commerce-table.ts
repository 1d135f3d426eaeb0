// The ops page's commerce figures: the state topic `stats/commerce` (the last hour's orders by
// the channel they were placed in, and their total), one row per channel and a total row, each
// redrawn whole on every update. Revenue is gross, in minor units of the orders' currency.

import type { OmniClient } from '../../client/mod.ts';
import { el } from './page.ts';

interface Figures { orders: number; revenue: number; aov: number | null; pickupShare: number | null; cancelRate: number | null; expiredRate: number | null; returnRate: number | null; crossChannel: number | null }
interface CommerceStats { window: string; by: string; groups: Array<Figures & { key: string }>; total: Figures }

const COLUMNS: Array<[keyof Figures, string, (f: Figures) => string]> = [
  ['orders', 'Orders', (f) => f.orders.toLocaleString()],
  ['revenue', 'Revenue', (f) => amount(f.revenue)],
  ['aov', 'Avg order', (f) => (f.aov === null ? '–' : amount(f.aov))],
  ['pickupShare', 'Pickup', (f) => share(f.pickupShare)],
  ['cancelRate', 'Cancelled', (f) => share(f.cancelRate)],
  ['expiredRate', 'Not collected', (f) => share(f.expiredRate)],
  ['returnRate', 'Returned', (f) => share(f.returnRate)],
  ['crossChannel', 'Cross-channel', (f) => share(f.crossChannel)],
];

/** A section showing `stats/commerce`, kept live. */
export function commerceSection(client: OmniClient): HTMLElement {
  const caption = el('p', { class: 'muted', 'data-testid': 'commerce-window' }, 'Orders placed in the last hour, by channel.');
  const body = el('tbody');
  const table = el(
    'table',
    { 'data-testid': 'commerce' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Channel'), ...COLUMNS.map(([, title]) => el('th', { scope: 'col', class: 'num' }, title)))),
    body,
  );
  const empty = el('p', { class: 'muted', 'data-testid': 'commerce-empty' }, 'No orders counted yet.');
  const section = el('section', { 'aria-labelledby': 'commerce-title' }, el('h2', { id: 'commerce-title' }, 'Orders'), caption, empty, table);
  table.hidden = true;
  const receive = (data: unknown) => {
    const stats = data as CommerceStats | null;
    const groups = stats?.groups ?? [];
    empty.hidden = groups.length > 0;
    table.hidden = groups.length === 0;
    if (stats === null) return void body.replaceChildren();
    caption.textContent = `Orders placed in the last ${stats.window}, by ${stats.by}.`;
    body.replaceChildren(...groups.map((g) => row(g.key, g, { 'data-testid': 'commerce-group', 'data-key': g.key })), row('All', stats.total, { 'data-testid': 'commerce-total', class: 'total' }));
  };
  client.subscribe('stats/commerce', {
    onSnapshot: receive,
    onUpdate: receive,
    onError: (error) => section.append(el('p', { class: 'notice', role: 'alert' }, `The order figures cannot be shown: ${error.message}`)),
  });
  return section;
}

function row(label: string, f: Figures, attrs: Record<string, string>): HTMLElement {
  return el('tr', attrs, el('th', { scope: 'row' }, label), ...COLUMNS.map(([key, , text]) => el('td', { class: 'num', 'data-figure': key }, text(f))));
}

/** Minor units as an amount with two decimals (the figures do not carry a currency). */
function amount(minor: number): string {
  return (minor / 100).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function share(ratio: number | null): string {
  return ratio === null ? '–' : `${(ratio * 100).toFixed(1)}%`;
}
