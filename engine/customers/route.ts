// Getting work to the partition of the customer it concerns. Activity arrives on the partition of
// its subject, an order's news on the order's: when the customer behind it is named otherwise,
// the work is forwarded to the customer's partition (partitioning.ts). Forwarding, rather than
// reading and writing another partition's keys, keeps every key written by one partition only.

import type { InputEvent, StateView } from '../types.ts';
import { customerRecord, idKind, resolveCustomer } from './identity/mod.ts';
import type { ForwardedEvent, TouchEvent } from './internal-events.ts';
import { loyaltyRecord } from './loyalty-record.ts';
import { currentSession } from './sessions.ts';
import { keys } from './types.ts';

/** Forwards one piece of work may take: a cycle of moves in corrupt state must end. */
export const MAX_HOPS = 16;

/**
 * The name whose partition keeps the state of the customer behind `name`, asked on `name`'s own
 * partition: where a merge or a link sent `name`'s own state (`cu/moved`, written here); else
 * `name` itself while it still keeps state here — identity may already name another customer
 * for it, but then a move of that state is on its way to this partition, and work done here
 * before it travels with it, in the order it came; else the customer identity resolves `name`
 * to; else `name` itself — here.
 */
export function homeOf(view: StateView, name: string): string {
  const moved = view.get<string>(keys.moved(name));
  if (moved !== undefined) return moved;
  const resolved = resolveCustomer(view, name);
  if (resolved === undefined || resolved === name) return name;
  return keepsState(view, name) ? name : resolved;
}

/** Whether `name` holds customer state of its own on its partition: a session, kept orders or loyalty points. */
export function keepsState(view: StateView, name: string): boolean {
  return view.get(keys.session(name)) !== undefined || view.get(keys.orders(name)) !== undefined || loyaltyRecord(view, name) !== undefined;
}

/**
 * The customer a subject names for readers (topics, queries): the one identity resolves it to,
 * else the subject itself once it has state of its own. Activity alone records no identity: an
 * id the identity partition never heard of (no link, profile or service request named it) is a
 * customer of its own, named by it, until a link attaches it to another.
 */
export function customerNamed(view: StateView, subject: string): string | undefined {
  return resolveCustomer(view, subject) ?? (currentSession(view, subject) !== undefined ? subject : undefined);
}

export function forward(id: string, customer: string, event: InputEvent, time: number, rest: Partial<ForwardedEvent> = {}): ForwardedEvent {
  return { id, type: 'customer.forwarded', customer, event, time, hops: 0, ...rest };
}

/** Customer ids beyond its name whose `recs/` topic is updated too (bounds the work per event). */
const RECS_ALIASES = 4;

/**
 * `recs/<customer>` changes here; the customer's other customer ids have topics of their own
 * (a shopper first seen by a device keeps that name, while its customer token, whose subject is
 * the customer id, watches `recs/<customer id>`), changed on their own partitions.
 */
export function aliasTouches(view: StateView, customer: string, cause: string, topic?: 'loyalty'): TouchEvent[] {
  const out: TouchEvent[] = [];
  for (const id of customerRecord(view, customer)?.ids ?? []) {
    if (out.length >= RECS_ALIASES) break;
    if (id !== customer && idKind(id) === 'customer') out.push({ id: `${cause}/${topic === undefined ? 'touch' : 'ltouch'}/${id}`, type: 'recs.touch', name: id, ...(topic !== undefined ? { topic } : {}) });
  }
  return out;
}
