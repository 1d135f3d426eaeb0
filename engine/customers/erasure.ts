// `customer.erased`: a customer's personal data goes from every record that holds it, as a saga of
// derived events, each step on the partition that owns what it deletes (partitioning.ts):
//
//   customer.erased     identity      every id, the profile, the explanation log, tombstones;
//                                     a record counting the parts (`id/erase/<event>`)
//   customer.forget     each name     session, session logs, recent orders, where its state went
//   rec.unindex         item bucket   the customer's sessions blanked out of the item's index
//   order.forget        order         the order loses `customer` (stock domain)
//   service.forget      service       requests (open ones ended first) and their messages
//   kiosk.forget        kiosks        screens showing the customer show nobody
//   customer.forgotten  identity      one part done; at the last, the erasure is answered
//
// The identity partition deletes the ids at once, so from the erasure's commit on they resolve to
// nobody and a later event with one starts a new customer. A link still moving state of this
// customer (`id/busy/<name>`) would bring it back after the forget steps passed: the erasure
// waits for that link's last move (`id/erasewait/<link>`) and starts then. Anonymous counts stay:
// popularity and the item's index length, the stock and commerce figures. Every topic that
// showed the customer (`recs/`, `kiosk/`, `order/`, `request/`, the desks' `agent/`) restarts its history
// (Effects.restart), so the push layer replays nothing from before. Each record is deleted from
// the state, and the last step asks for a store rewrite (Effects.scrub), which leaves no copy in
// LMDB's freed pages (store-rewrite.ts; why not crypto-shredding: docs/architecture.md).

import { rejection } from '../errors.ts';
import type { Effects, EventContext, FinalResult, InputEvent } from '../types.ts';
import type { StagedState } from '../staged-state.ts';
import { customerRecord, identityKeys, isBlocked, isTombstone, resolveCustomer, type LogEntry, type StoredCustomer } from './identity/mod.ts';
import type { ErasedCounts, ForgetEvent, ForgottenEvent, KioskForgetEvent, UnindexEvent } from './internal-events.ts';
import { clearKiosksOf } from './kiosks.ts';
import { forgetLoyalty, loyaltyTopic } from './loyalty.ts';
import { olderOrders, recentOrders } from './orders.ts';
import { recKeys, unindexSessions } from './recommender/mod.ts';
import { keptSessions } from './sessions.ts';
import { keepsState } from './route.ts';
import { keys, topics, type ResolvedCustomerOptions } from './types.ts';

const eraseKeys = {
  record: (erasure: string) => `id/erase/${erasure}`,
  /** Links under way that move state of this name: an erasure of its customer waits for them. */
  busy: (name: string) => `id/busy/${name}`,
  /** Erasures waiting for a link's last move. */
  waiting: (link: string) => `id/erasewait/${link}`,
};

/** `id/erase/<event>`: the parts an erasure waits for. */
interface ErasureRecord {
  event: InputEvent;
  /** Names whose partitions have not replied yet, and the service and kiosk partitions. */
  names: number;
  /** Steps those partitions sent on (orders, item indexes) minus their replies so far. */
  outstanding: number;
  counts: ErasedCounts;
  /**
   * The ids erased, for the store rewrite: kept answers that name one are redacted in the copy
   * (Effects.scrub). Absent in records kept before it was stored. Deleted with the record.
   */
  ids?: string[];
}

type Step = (state: StagedState, ev: InputEvent, ctx: EventContext, o: ResolvedCustomerOptions) => Effects;

/** The sender's `customer.erased`, on the identity partition. */
export const erased: Step = (state, ev, _ctx, o) => {
  const started = startErasure(state, ev, o);
  return { result: started.result, writes: state.writes(), ...(started.emit.length > 0 ? { emit: started.emit } : {}), ...(started.redact ? { redactAnswers: started.redact } : {}) };
};

interface Started {
  result: FinalResult | { ok: true; pending: true };
  emit: InputEvent[];
  /** Events whose kept answers name the customer's ids (Effects.redactAnswers). */
  redact?: string[];
}

function startErasure(state: StagedState, ev: InputEvent, o: ResolvedCustomerOptions): Started {
  const subject = ev.customer as string;
  if (isBlocked(subject, o.identity)) return { result: rejection('invalid_event', `customer.erased: '${subject}' is a blocked identifier and names no customer`), emit: [] };
  const name = resolveCustomer(state, subject);
  const ids = name === undefined ? anonymousNames(state, subject) : customerRecord(state, name)!.ids;
  // The answer is kept by event id for a day or two: it does not repeat the id it was asked for.
  if (ids.length === 0) return { result: rejection('not_found', 'no customer is known by this id'), emit: [] };
  const link = ids.map((id) => state.get<string[]>(eraseKeys.busy(id))?.[0]).find((l) => l !== undefined);
  if (link !== undefined) {
    state.put(eraseKeys.waiting(link), [...(state.get<InputEvent[]>(eraseKeys.waiting(link)) ?? []), ev]);
    return { result: { ok: true, pending: true }, emit: [] };
  }
  const answered = linkEvents(state, ids);
  for (const id of ids) {
    state.put(identityKeys.id(id), undefined);
    for (const key of [identityKeys.customer(id), identityKeys.log(id)]) if (state.get(key) !== undefined) state.put(key, undefined);
  }
  const counts: ErasedCounts = { ids: ids.length, sessions: 0, orders: 0, requests: 0, messages: 0, kiosks: 0, cases: 0 };
  // One reply per name, one from the service domain and one from the kiosks.
  state.put(eraseKeys.record(ev.id), { event: ev, names: ids.length + 2, outstanding: 0, counts, ids: [...ids] } satisfies ErasureRecord);
  const forgets: ForgetEvent[] = ids.map((id) => ({ id: `${ev.id}/forget/${id}`, type: 'customer.forget', erasure: ev.id, name: id }));
  const service = { id: `${ev.id}/forget-service`, type: 'service.forget', erasure: ev.id, names: [...ids] };
  const kiosks: KioskForgetEvent = { id: `${ev.id}/forget-kiosks`, type: 'kiosk.forget', erasure: ev.id, names: [...ids] };
  return { result: { ok: true, pending: true }, emit: [...forgets, service, kiosks], redact: answered };
}

/**
 * The events the customer's identity log names (links that created or merged it, refusals, its
 * creation by a link or a profile): their kept answers list its ids. Read before the log goes.
 */
function linkEvents(state: StagedState, names: readonly string[]): string[] {
  const events = new Set<string>();
  for (const name of names) {
    for (const entry of state.get<LogEntry[]>(identityKeys.log(name)) ?? []) events.add(entry.event);
    const stored = state.get<StoredCustomer>(identityKeys.customer(name));
    if (stored !== undefined && !isTombstone(stored) && stored.since !== undefined) events.add(stored.since.event);
  }
  return [...events];
}

/** A subject identity never heard of (activity alone) is a customer of its own while it keeps state. */
function anonymousNames(state: StagedState, subject: string): string[] {
  return keepsState(state, subject) ? [subject] : [];
}

/** `customer.forget`, on the name's partition. */
const forget: Step = (state, raw) => {
  const ev = raw as ForgetEvent;
  const name = ev.name;
  const bySku = new Map<string, string[]>();
  const kept = keptSessions(state, name);
  for (const { id, log } of kept) {
    state.put(recKeys.session(id), undefined);
    for (const sku of new Set(log.i)) bySku.set(sku, [...(bySku.get(sku) ?? []), id]);
  }
  const sessions = kept.length;
  const loyalty = forgetLoyalty(state, name, ev.erasure, ev.id);
  const orders = new Set([...recentOrders(state, name).map((s) => s.order), ...olderOrders(state, name)]);
  for (const key of [keys.session(name), keys.orders(name), keys.olderOrders(name), keys.moved(name)]) if (state.get(key) !== undefined) state.put(key, undefined);
  const emit: InputEvent[] = [
    ...[...orders].map((order) => ({ id: `${ev.id}/order/${order}`, type: 'order.forget', order, erasure: ev.erasure })),
    ...[...bySku].map(([sku, ids]): UnindexEvent => ({ id: `${ev.id}/unindex/${sku}`, type: 'rec.unindex', erasure: ev.erasure, sku, sessions: ids })),
    ...loyalty.emit,
  ];
  const reply: ForgottenEvent = { id: `${ev.id}/done`, type: 'customer.forgotten', erasure: ev.erasure, part: true, add: emit.length, counts: { sessions } };
  // `recs/<name>` and `loyalty/<name>` render as nobody's now (a state topic's new, empty render).
  const shown = [topics.recs(name), loyaltyTopic(name)];
  // Its expiry timers' ids name it: they go now rather than when they fire.
  const timers = loyalty.cancel.length > 0 ? { timers: { cancel: loyalty.cancel } } : {};
  return { result: { ok: true }, writes: state.writes(), changed: shown, restart: shown, emit: [...emit, reply], ...timers };
};

/** `rec.unindex`, on the item bucket's partition. */
const unindex: Step = (state, raw, _ctx, o) => {
  const ev = raw as UnindexEvent;
  unindexSessions(state, ev.sku, ev.sessions, o.recommender);
  const reply: ForgottenEvent = { id: `${ev.id}/done`, type: 'customer.forgotten', erasure: ev.erasure, part: false, add: 0, counts: {} };
  return { result: { ok: true }, writes: state.writes(), emit: [reply] };
};

/** `kiosk.forget`, on the kiosks' partition: each screen told it shows nobody, its topic's history restarted. */
const kioskForget: Step = (state, raw) => {
  const ev = raw as KioskForgetEvent;
  const cleared = clearKiosksOf(state, ev.names);
  const reply: ForgottenEvent = { id: `${ev.id}/done`, type: 'customer.forgotten', erasure: ev.erasure, part: true, add: 0, counts: { kiosks: cleared.length } };
  const messages = cleared.map((kiosk) => ({ topic: topics.kiosk(kiosk), data: { type: 'cleared', kiosk } }));
  return { result: { ok: true }, writes: state.writes(), emit: [reply], restart: cleared.map(topics.kiosk), ...(messages.length > 0 ? { messages } : {}) };
};

/** `customer.forgotten`, on the identity partition: at the last part, the erasure's answer. */
const forgotten: Step = (state, raw) => {
  const ev = raw as ForgottenEvent;
  const record = state.get<ErasureRecord>(eraseKeys.record(ev.erasure));
  if (record === undefined) return { result: { ok: true } };
  const counts = { ...record.counts };
  for (const [k, v] of Object.entries(ev.counts) as Array<[keyof ErasedCounts, number]>) counts[k] += v;
  const next: ErasureRecord = {
    ...record,
    names: record.names - (ev.part ? 1 : 0),
    outstanding: record.outstanding + ev.add - (ev.part ? 0 : 1),
    counts,
  };
  if (next.names > 0 || next.outstanding > 0) {
    state.put(eraseKeys.record(ev.erasure), next);
    return { result: { ok: true }, writes: state.writes() };
  }
  state.put(eraseKeys.record(ev.erasure), undefined);
  // The answer names no id: answers are kept by event id (the dedup index) for a day or two.
  // Every part is committed by now: the store is rewritten, so no freed page keeps the customer.
  // Its ids go with the request, so the rewrite also redacts the kept answers that name them.
  const scrub = record.ids !== undefined ? { values: record.ids } : true;
  return { result: { ok: true }, writes: state.writes(), answers: [{ id: ev.erasure, result: { ok: true, erased: counts }, event: record.event }], scrub };
};

export const ERASURE_STEPS: Record<string, Step> = {
  'customer.forget': forget,
  'customer.forgotten': forgotten,
  'rec.unindex': unindex,
  'kiosk.forget': kioskForget,
};

/** A link that moves state under `names` is under way: erasures of their customer wait for it. */
export function linkStarted(state: StagedState, link: string, names: readonly string[]): void {
  for (const name of names) state.put(eraseKeys.busy(name), [...(state.get<string[]>(eraseKeys.busy(name)) ?? []), link]);
}

/** The link's last move arrived: erasures that waited for it start (or wait for another link). */
export function linkSettled(state: StagedState, link: string, names: readonly string[], o: ResolvedCustomerOptions): Pick<Effects, 'emit' | 'answers' | 'redactAnswers'> {
  for (const name of names) {
    const rest = (state.get<string[]>(eraseKeys.busy(name)) ?? []).filter((l) => l !== link);
    state.put(eraseKeys.busy(name), rest.length > 0 ? rest : undefined);
  }
  const waiting = state.get<InputEvent[]>(eraseKeys.waiting(link));
  if (waiting === undefined) return {};
  state.put(eraseKeys.waiting(link), undefined);
  const emit: InputEvent[] = [];
  const answers: NonNullable<Effects['answers']> = [];
  const redactAnswers: string[] = [];
  for (const ev of waiting) {
    const started = startErasure(state, ev, o);
    emit.push(...started.emit);
    redactAnswers.push(...(started.redact ?? []));
    if (!('pending' in started.result)) answers.push({ id: ev.id, result: started.result, event: ev });
  }
  return { emit, answers, redactAnswers };
}
