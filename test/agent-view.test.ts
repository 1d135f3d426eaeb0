// The per-reader view of `agent/<agent>` updates (gateway/ws/agent-view.ts): only agents get one;
// it masks phone and e-mail ids anywhere under an update's `customer`, leaves every other field,
// topic and message as it is, and never changes the shared message other readers get.

import { describe, expect, it } from 'vitest';
import { agentView, readerView } from '../gateway/ws/agent-view.ts';
import { OutMessage, updateMessage } from '../gateway/ws/out-message.ts';

const offer = {
  type: 'offer',
  request: 'q1',
  customer: {
    id: 'phone:+4915112345600',
    ids: ['phone:+4915112345600', 'email:anna@bhf.co', 'device:d1', 'c1'],
    tier: 'vip',
    orders: [{ order: 'o1', status: 'placed', lines: [{ sku: 'A', qty: 1 }], placedAt: 5, pickup: 'S1' }],
  },
};

describe('agentView', () => {
  it('masks phone and e-mail ids under customer, a copy with the same topic and seq', () => {
    const shared = updateMessage('agent/a1', 7, offer, 9);
    const seen = agentView(shared);
    expect(seen).not.toBe(shared);
    expect(seen.topic).toBe('agent/a1');
    expect(seen.seq).toBe(7);
    expect(seen.body).toEqual({
      op: 'update',
      topic: 'agent/a1',
      seq: 7,
      ts: 9,
      data: { ...offer, customer: { ...offer.customer, id: 'phone:+49151******00', ids: ['phone:+49151******00', 'email:a***@b.c', 'device:d1', 'c1'] } },
    });
    // The shared message (and its cached encoding) is untouched.
    expect(shared.body.data).toBe(offer);
    expect(shared.encode('json')).toContain('4915112345600');
  });

  it("masks an assignment's customer name that is a phone or e-mail id", () => {
    const seen = agentView(updateMessage('agent/a1', 8, { type: 'assigned', request: 'q1', customer: 'email:anna@bhf.co' }, 9));
    expect((seen.body.data as { customer: string }).customer).toBe('email:a***@b.c');
  });

  it('leaves other topics, messages without a customer and control messages alone', () => {
    const order = updateMessage('order/o1', 1, { customer: 'phone:+4915112345600' }, 9);
    const revoked = updateMessage('agent/a1', 2, { type: 'revoked', request: 'q1', reason: 'timeout' }, 9);
    const result = new OutMessage({ op: 'result', ref: 'x', ok: true, customer: 'phone:+4915112345600' });
    for (const message of [order, revoked, result]) expect(agentView(message)).toBe(message);
  });

  it('keeps a `__proto__` key a plain key', () => {
    const data = JSON.parse('{"type":"offer","customer":{"__proto__":{"x":"email:anna@bhf.co"}}}');
    const seen = agentView(updateMessage('agent/a1', 3, data, 9));
    expect(seen.encode('json')).toContain('"__proto__":{"x":"email:a***@b.c"}');
  });

  it('is given to agents only', () => {
    expect(readerView({ role: 'agent', sub: 'a1' })).toBe(agentView);
    for (const role of ['supervisor', 'admin', 'customer', 'associate', 'kiosk', 'anonymous'] as const) expect(readerView({ role, sub: 'x' })).toBeUndefined();
  });
});
