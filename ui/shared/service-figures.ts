// The ops page's service figures: the state topic `stats/service` (the last hour's requests by
// topic, and their total), one row per topic and a total row: requests, first response time
// (p50, p90: the first message from the assistant or an agent), handle time (p50), the
// assistant's containment, first-contact resolution, abandonment, CSAT and the number of
// ratings. A figure nothing was counted for yet is null, shown as "—".

import type { OmniClient } from '../../client/mod.ts';
import { figuresSection, type FigureColumn } from './figures-table.ts';
import { count, duration, percent } from './figure-format.ts';

/** One group's figures as `stats/service` sends them. */
interface ServiceFigures {
  requests: number;
  firstResponseMs: { p50: number | null; p90: number | null };
  handleMs: { p50: number | null };
  containment: number | null;
  fcr: number | null;
  abandonment: number | null;
  csat: number | null;
  ratings: number;
}

const COLUMNS: Array<FigureColumn<ServiceFigures>> = [
  ['requests', 'Requests', (f) => count(f.requests)],
  ['firstResponseP50', 'First response p50', (f) => duration(f.firstResponseMs?.p50)],
  ['firstResponseP90', 'First response p90', (f) => duration(f.firstResponseMs?.p90)],
  ['handleP50', 'Handle p50', (f) => duration(f.handleMs?.p50)],
  ['containment', 'Contained by assistant', (f) => percent(f.containment)],
  ['fcr', 'First-contact resolution', (f) => percent(f.fcr)],
  ['abandonment', 'Abandoned', (f) => percent(f.abandonment)],
  ['csat', 'CSAT', (f) => percent(f.csat)],
  ['ratings', 'Ratings', (f) => count(f.ratings)],
];

/** A section showing `stats/service`, kept live. */
export function serviceFiguresSection(client: OmniClient): HTMLElement {
  return figuresSection(client, {
    topic: 'stats/service',
    title: 'Service',
    what: 'service figures',
    testid: 'service',
    keyTitle: 'Topic',
    caption: (window, by) => `Service requests raised in the last ${window}, by ${by}.`,
    empty: 'No service requests counted yet.',
    columns: COLUMNS,
  });
}
