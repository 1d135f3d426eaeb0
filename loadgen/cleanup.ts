// What a run leaves in the server, and taking back what the protocol lets a client take back.
// The ledger sees every body the run puts on the wire (set-up and load). After the run, the
// cleanup closes the run's service requests (`service.completed`), takes its agents offline
// (`agent.offline`, after the requests, so nothing is re-queued), cancels its orders
// (`order.cancelled`), releases its holds (`stock.release`), clears its safety stock and sets
// every stock row it touched to 0 (`stock.safety` / `stock.adjusted`). Zero stock also keeps the
// run's SKUs out of other customers' recommendations, which leave out what is sold out.
// What no event removes stays: declared locations, customers (profiles, identity links,
// sessions, what the recommender learned), zeroed stock rows, completed requests, offline
// agents, and the event ids the engine remembers; all of it under the run's prefix.

import type { InputEvent } from '../engine/mod.ts';
import type { Poster } from './http-poster.ts';
import { SETUP_BODY } from './scenarios/source.ts';

/** Everything a run made that a later event can take back, from the bodies it sent. */
export class RunLedger {
  readonly locations = new Set<string>();
  /** `sku@location` (a SKU never holds `@`). */
  readonly rows = new Set<string>();
  readonly safetyRows = new Set<string>();
  readonly reservations = new Set<string>();
  readonly orders = new Set<string>();
  readonly requests = new Set<string>();
  readonly agents = new Set<string>();
  /** Knowledge-base entries (the service scenario's first contact loads its own). */
  readonly faqs = new Set<string>();
  /** Cases opened and not yet resolved. */
  readonly cases = new Set<string>();
  /** Cases opened: resolved, they stay (no event removes a case). */
  casesOpened = 0;
  /** Customer-domain events (profiles, links, activities, kiosk identifications): nothing removes them. */
  customerEvents = 0;

  note(events: readonly InputEvent[]): void {
    for (const ev of events) {
      const t = ev.type;
      if (t.startsWith('stock.')) this.noteStock(ev);
      else if (t === 'location.upserted') this.locations.add(ev.location as string);
      else if (t === 'order.placed') this.orders.add(ev.order as string);
      else if (t === 'service.requested') this.requests.add(ev.request as string);
      else if (t === 'agent.online') this.agents.add(ev.agent as string);
      else if (t === 'faq.upserted') this.faqs.add(ev.faq as string);
      else if (t === 'case.opened') {
        this.cases.add(ev.case as string);
        this.casesOpened++;
      }
      else if (t === 'case.updated' && ev.status === 'resolved') this.cases.delete(ev.case as string);
      else if (t.startsWith('activity.') || t.startsWith('customer.') || t.startsWith('identity.') || t.startsWith('kiosk.')) this.customerEvents++;
    }
  }

  private noteStock(ev: InputEvent): void {
    if (ev.type === 'stock.reserve') this.reservations.add(ev.reservation as string);
    if (typeof ev.sku !== 'string') return;
    if (ev.type === 'stock.transfer') {
      this.rows.add(`${ev.sku}@${ev.from as string}`);
      this.rows.add(`${ev.sku}@${ev.to as string}`);
    } else if (typeof ev.location === 'string') {
      const row = `${ev.sku}@${ev.location}`;
      this.rows.add(row);
      if (ev.type === 'stock.safety') this.safetyRows.add(row);
    }
  }

  /** The events that take back what can be, in order, and which refusals mean "already gone". */
  steps(idPrefix: string): CleanupStep[] {
    let k = 0;
    const id = () => `${idPrefix}-cleanup-${k++}`;
    const row = (key: string) => {
      const at = key.indexOf('@');
      return { sku: key.slice(0, at), location: key.slice(at + 1) };
    };
    return [
      // Completed, or never made (refused, or never sent): conflict / not_found.
      { type: 'service.completed', expected: ['conflict', 'not_found'], events: [...this.requests].map((request) => ({ id: id(), type: 'service.completed', request })) },
      { type: 'agent.offline', expected: ['not_found'], events: [...this.agents].map((agent) => ({ id: id(), type: 'agent.offline', agent })) },
      // A case left open would raise case_overdue on alerts/service when its day is up.
      { type: 'case.updated', expected: ['not_found', 'invalid_transition'], events: [...this.cases].map((c) => ({ id: id(), type: 'case.updated', case: c, status: 'resolved', note: 'closed by the loadgen cleanup' })) },
      { type: 'faq.removed', expected: ['not_found'], events: [...this.faqs].map((faq) => ({ id: id(), type: 'faq.removed', faq })) },
      { type: 'order.cancelled', expected: ['conflict', 'not_found', 'invalid_transition', 'unknown_order'], events: [...this.orders].map((order) => ({ id: id(), type: 'order.cancelled', order })) },
      // Committed, released, expired, or never made: unknown_reservation.
      { type: 'stock.release', expected: ['unknown_reservation', 'conflict'], events: [...this.reservations].map((reservation) => ({ id: id(), type: 'stock.release', reservation })) },
      { type: 'stock.safety', expected: [], events: [...this.safetyRows].map((key) => ({ id: id(), type: 'stock.safety', ...row(key), safety: 0 })) },
      { type: 'stock.adjusted', expected: [], events: [...this.rows].map((key) => ({ id: id(), type: 'stock.adjusted', ...row(key), onHand: 0 })) },
    ];
  }

  /** What stays in the server after the cleanup, in words. */
  kept(): string {
    const n = (x: number) => x.toLocaleString('en-US');
    const parts: string[] = [];
    if (this.locations.size > 0) parts.push(`${n(this.locations.size)} locations (no event removes one)`);
    if (this.rows.size > 0) parts.push(`${n(this.rows.size)} stock rows at 0`);
    if (this.customerEvents > 0) parts.push('the customers, their identity links, sessions and what the recommender learned from them');
    if (this.requests.size > 0) parts.push(`${n(this.requests.size)} completed requests and their service topics`);
    if (this.agents.size > 0) parts.push(`${n(this.agents.size)} offline agents`);
    if (this.casesOpened > 0) parts.push(`${n(this.casesOpened)} resolved cases`);
    return parts.length > 0 ? parts.join('; ') : 'nothing';
  }
}

export interface CleanupStep {
  type: string;
  /** Error codes that mean the thing was already gone (or never made): no cause for a warning. */
  expected: readonly string[];
  events: InputEvent[];
}

export interface CleanupReport {
  /** Per event type: sent, and applied (the rest were already gone). */
  steps: Array<{ type: string; sent: number; applied: number }>;
  /** Refusals that do not mean "already gone", by code (a failed request counts as http_<status> / network). */
  unexpected: Record<string, number>;
  /** What no event could remove. */
  kept: string;
}

/** Sends the cleanup, one body at a time (each step needs the previous one applied). */
export async function cleanUp(ledger: RunLedger, idPrefix: string, post: Poster): Promise<CleanupReport> {
  const report: CleanupReport = { steps: [], unexpected: {}, kept: ledger.kept() };
  const unexpected = (code: string, n: number) => (report.unexpected[code] = (report.unexpected[code] ?? 0) + n);
  for (const step of ledger.steps(idPrefix)) {
    if (step.events.length === 0) continue;
    let applied = 0;
    for (let i = 0; i < step.events.length; i += SETUP_BODY) {
      const body = step.events.slice(i, i + SETUP_BODY);
      const answer = await post(body);
      if (answer.status !== 200 || answer.results === undefined) {
        unexpected(answer.status > 0 ? `http_${answer.status}` : 'network', body.length);
        continue;
      }
      for (const r of answer.results) {
        if (r.ok) applied++;
        else if (!step.expected.includes(r.error?.code ?? '')) unexpected(r.error?.code ?? 'unknown', 1);
      }
    }
    report.steps.push({ type: step.type, sent: step.events.length, applied });
  }
  return report;
}

/** `service.completed 100 (3 applied), …; kept: …` for the summary. */
export function describeCleanup(c: CleanupReport): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const steps = c.steps.map((s) => `${s.type} ${n(s.sent)} (${n(s.applied)} applied)`).join(', ');
  const codes = Object.keys(c.unexpected).length > 0 ? `; refused ${JSON.stringify(c.unexpected)}` : '';
  return `${steps || 'nothing to take back'}${codes}; kept: ${c.kept}`;
}
