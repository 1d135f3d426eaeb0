// A customer's completed service requests past the latest ones its record keeps (the desk's 360
// context): their records and messages stay, so the data-subject export lists them, a merge
// takes them to the survivor, and an erasure deletes them with the rest.

import { describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { PureRunner } from './pure-harness.ts';

/** More than the record keeps (PAST_KEPT, 20). */
const COMPLETED = 23;

function ok(r: PureRunner, ev: Record<string, unknown>): void {
  const effects = r.apply(ev as never);
  const result = (effects.result as { pending?: boolean }).pending ? r.answers.get(ev.id as string) : effects.result;
  expect(result, `${JSON.stringify(ev)} → ${JSON.stringify(result)}`).toMatchObject({ ok: true });
}

/** `customer` raises and completes COMPLETED requests `<prefix>1…`, the first with a message. */
function history(r: PureRunner, customer: string, prefix: string): string[] {
  const ids = Array.from({ length: COMPLETED }, (_, i) => `${prefix}${i + 1}`);
  for (const request of ids) ok(r, { id: `rq-${request}`, type: 'service.requested', request, subject: customer, channel: 'email', topic: 'billing' });
  ok(r, { id: `m-${prefix}`, type: 'service.message', request: ids[0], from: 'customer', text: `first words of ${customer}` });
  for (const request of ids) ok(r, { id: `done-${request}`, type: 'service.completed', request });
  return ids;
}

function runner(): PureRunner {
  return new PureRunner([customerProcessor(), stockProcessor(), wiredServiceProcessor()]);
}

const exported = (r: PureRunner, subject: string) => r.ownerOf('service.requested').query!(r.view, 'requests', { subject }) as Array<{ request: string; messages: Array<{ text: string }> }>;

describe('completed requests past the latest kept', () => {
  it('are exported, newest first, with their messages, and follow a merge', () => {
    const r = runner();
    ok(r, { id: 'l1', type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' });
    ok(r, { id: 'l2', type: 'identity.linked', ids: ['phone:+2'], customer: 'c2' });
    const mine = history(r, 'c1', 'a');
    const theirs = history(r, 'c2', 'b');
    const listed = exported(r, 'phone:+1');
    expect(listed.map((x) => x.request)).toEqual([...mine].reverse());
    expect(listed.at(-1)!.messages.map((m) => m.text)).toEqual(['first words of c1']);

    ok(r, { id: 'merge', type: 'identity.linked', ids: ['phone:+1', 'phone:+2'] });
    r.drain();
    expect(exported(r, 'phone:+2').map((x) => x.request).sort()).toEqual([...mine, ...theirs].sort());
  });

  it('are erased with the customer: no request, message or list of them is left', () => {
    const r = runner();
    ok(r, { id: 'l1', type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' });
    history(r, 'c1', 'a');
    ok(r, { id: 'erase', type: 'customer.erased', customer: 'phone:+1' });
    r.drain();
    expect(r.answers.get('erase')).toMatchObject({ ok: true, erased: { requests: COMPLETED, messages: 1 } });
    expect([...r.state.keys()].filter((k) => /^svc\/(req|msgs?|cust|custold)\//.test(k))).toEqual([]);
  });
});
