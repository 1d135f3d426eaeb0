// Erasure of a customer (the customer domain's `customer.erased`): each of its orders loses the
// customer it names, on the order's own partition, which owns the record. The order keeps its
// lines, status, history and returns, so stock, commerce figures and the stores' work stay whole;
// only who placed it goes. The step replies to the erasure's record (`customer.forgotten`), which
// answers the erasure once every part is done.

import type { InputEvent } from '../types.ts';
import type { Handler } from './outcomes.ts';
import { keys, topics, type OrderRecord } from './types.ts';

/** `order.forget`: `{order, erasure}`, emitted by the customer domain's erasure for each order it knew. */
const forgetCustomer: Handler = (c, ev) => {
  const id = ev.order as string;
  const order = c.view.get<OrderRecord>(keys.order(id));
  const named = order?.customer !== undefined;
  if (order !== undefined && named) {
    const { customer: _gone, ...kept } = order;
    // A saga under way carries the event it answers, and a placing of the id waiting for it
    // (order-saga.ts) its own: those copies must not bring the customer back.
    const saga = kept.saga === undefined ? undefined : { ...kept.saga, event: withoutCustomer(kept.saga.event), ...(kept.saga.waiting ? { waiting: kept.saga.waiting.map(withoutCustomer) } : {}) };
    c.put(keys.order(id), { ...kept, ...(saga !== undefined ? { saga } : {}) } satisfies OrderRecord);
    if (order.status !== 'placing') c.touch(topics.order(id));
  }
  c.emit({ id: `${ev.id}/done`, type: 'customer.forgotten', erasure: ev.erasure, part: false, add: 0, counts: { orders: named ? 1 : 0 } });
  // The order's earlier updates named the customer: none of them is replayed.
  return { ...c.effects(), ...(named ? { restart: [topics.order(id)] } : {}) };
};

function withoutCustomer(ev: InputEvent): InputEvent {
  if (ev.customer === undefined) return ev;
  const { customer: _gone, ...rest } = ev;
  return rest as InputEvent;
}

export const FORGET_STEPS: Record<string, Handler> = { 'order.forget': forgetCustomer };
export const FORGET_TYPES = Object.keys(FORGET_STEPS);
