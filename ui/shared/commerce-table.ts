// The ops page's commerce figures: the state topic `stats/commerce` (the last hour's orders by
// the channel they were placed in, and their total), one row per channel and a total row.
// Revenue is gross, in minor units of the orders' currency.

import type { OmniClient } from '../../client/mod.ts';
import { figuresSection, type FigureColumn } from './figures-table.ts';

interface Figures { orders: number; revenue: number; aov: number | null; pickupShare: number | null; cancelRate: number | null; expiredRate: number | null; returnRate: number | null; crossChannel: number | null }

const COLUMNS: Array<FigureColumn<Figures>> = [
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
  return figuresSection(client, {
    topic: 'stats/commerce',
    title: 'Orders',
    what: 'order figures',
    testid: 'commerce',
    keyTitle: 'Channel',
    caption: (window, by) => `Orders placed in the last ${window}, by ${by}.`,
    empty: 'No orders counted yet.',
    columns: COLUMNS,
  });
}

/** Minor units as an amount with two decimals (the figures do not carry a currency). */
function amount(minor: number): string {
  return (minor / 100).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function share(ratio: number | null): string {
  return ratio === null ? '–' : `${(ratio * 100).toFixed(1)}%`;
}
