// The walk over a customer's session logs (`name#1`, `name#2`, …) that the data-subject export
// and the erasure share: a session number with no log (a merge that moved a session record
// without one leaves such a number) does not end the walk, so the export shows the sessions
// after it and the erasure deletes exactly the sessions the export showed.

import { describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { PureRunner } from './pure-harness.ts';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

function ok(r: PureRunner, ev: Record<string, unknown>): void {
  const effects = r.apply(ev as never);
  const result = (effects.result as { pending?: boolean }).pending ? r.answers.get(ev.id as string) : effects.result;
  expect(result, `${JSON.stringify(ev)} → ${JSON.stringify(result)}`).toMatchObject({ ok: true });
}

const view = (id: string, subject: string, sku: string, ts: number) => ({ id, type: 'activity.viewed', subject, sku, channel: 'web', ts });

/**
 * c3 with four sessions an hour apart, then merged into the older c2: c3's logs stay under its
 * own name, its current session copied into c2's. Session c3#2's log is then taken away, as a
 * session number without a log is left.
 */
function mergedWithGap(): PureRunner {
  const r = new PureRunner([customerProcessor(), stockProcessor(), wiredServiceProcessor()]);
  ok(r, { id: 'k2', type: 'identity.linked', ids: ['phone:+2'], customer: 'c2' });
  ok(r, { id: 'k3', type: 'identity.linked', ids: ['email:c3@example.com'], customer: 'c3' });
  for (const [i, sku] of ['A', 'B', 'C', 'D'].entries()) ok(r, view(`v${i}`, 'c3', sku, T0 + i * HOUR));
  ok(r, view('w', 'c2', 'Z', T0 + 10 * HOUR));
  ok(r, { id: 'merge', type: 'identity.linked', ids: ['phone:+2', 'email:c3@example.com'] });
  expect([...r.state.keys()].filter((k) => k.startsWith('rec/s/c3#')).sort()).toEqual(['rec/s/c3#1', 'rec/s/c3#2', 'rec/s/c3#3', 'rec/s/c3#4']);
  r.state.delete('rec/s/c3#2');
  return r;
}

const exported = (r: PureRunner, subject: string) => customerProcessor().query!(r.view, 'export', { subject }) as { customer: string; sessions: Array<{ session: string; activity: Array<{ sku: string }> }> };

describe('the walk over a customer’s sessions', () => {
  it('goes past a session number without a log: the export lists the sessions after it', () => {
    const r = mergedWithGap();
    const held = exported(r, 'email:c3@example.com');
    expect(held.customer).toBe('c2');
    const skus = held.sessions.flatMap((s) => s.activity.map((a) => a.sku)).sort();
    expect(skus).toEqual(['A', 'C', 'D', 'Z']);
    expect(held.sessions.map((s) => s.session)).toEqual(expect.arrayContaining(['c3#1', 'c3#3']));
  });

  it('erases exactly the sessions the export listed, the ones past the gap too', () => {
    const r = mergedWithGap();
    const listed = exported(r, 'c2').sessions.map((s) => s.session);
    ok(r, { id: 'erase', type: 'customer.erased', customer: 'c2' });
    r.drain();
    for (const session of listed) expect(r.state.has(`rec/s/${session}`), session).toBe(false);
    expect([...r.state.keys()].filter((k) => k.startsWith('rec/s/'))).toEqual([]);
  });
});
