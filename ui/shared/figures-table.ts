// A live table of windowed figures from a state topic shaped `{window, by, groups: [{key, …}],
// total: {…}}` (`stats/commerce`, `stats/service`): one row per group and a total row, each
// redrawn whole on every update, every cell carrying `data-figure` with its column's name.

import type { OmniClient } from '../../client/mod.ts';
import { el } from './page.ts';

export type FigureColumn<F> = [name: string, title: string, text: (figures: F) => string];

export interface FiguresTable<F> {
  /** The state topic. */
  topic: string;
  /** The section's heading, and what the figures are called in an error ("The … cannot be shown"). */
  title: string;
  what: string;
  /** Prefix of the testids: `<p>` (the table), `<p>-window`, `<p>-empty`, `<p>-group` (`data-key`), `<p>-total`. */
  testid: string;
  /** The heading of the groups' column. */
  keyTitle: string;
  caption(window: string, by: string): string;
  empty: string;
  columns: Array<FigureColumn<F>>;
}

interface Stats<F> { window: string; by: string; groups: Array<F & { key: string }>; total: F }

/** A section showing `spec.topic`, kept live. */
export function figuresSection<F>(client: OmniClient, spec: FiguresTable<F>): HTMLElement {
  const { testid, columns } = spec;
  const caption = el('p', { class: 'muted', 'data-testid': `${testid}-window` }, spec.caption('hour', spec.keyTitle.toLowerCase()));
  const body = el('tbody');
  const table = el(
    'table',
    { 'data-testid': testid },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, spec.keyTitle), ...columns.map(([, title]) => el('th', { scope: 'col', class: 'num' }, title)))),
    body,
  );
  const empty = el('p', { class: 'muted', 'data-testid': `${testid}-empty` }, spec.empty);
  const section = el('section', { 'aria-labelledby': `${testid}-title` }, el('h2', { id: `${testid}-title` }, spec.title), caption, empty, el('div', { class: 'scroll' }, table));
  table.hidden = true;
  const row = (label: string, f: F, attrs: Record<string, string>) =>
    el('tr', attrs, el('th', { scope: 'row' }, label), ...columns.map(([name, , text]) => el('td', { class: 'num', 'data-figure': name }, text(f))));
  const receive = (data: unknown) => {
    const stats = data as Stats<F> | null;
    const groups = stats?.groups ?? [];
    empty.hidden = groups.length > 0;
    table.hidden = groups.length === 0;
    if (stats === null) return void body.replaceChildren();
    caption.textContent = spec.caption(stats.window, stats.by);
    body.replaceChildren(...groups.map((g) => row(g.key, g, { 'data-testid': `${testid}-group`, 'data-key': g.key })), row('All', stats.total, { 'data-testid': `${testid}-total`, class: 'total' }));
  };
  client.subscribe(spec.topic, {
    onSnapshot: receive,
    onUpdate: receive,
    onError: (error) => section.append(el('p', { class: 'notice', role: 'alert' }, `The ${spec.what} cannot be shown: ${error.message}`)),
  });
  return section;
}
